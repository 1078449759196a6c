#!/usr/bin/env node
// Cluster benchmark (issue #8 (b)): N authenticated client connections (SCRAM-SHA-1 + resource
// binding, RFC 6120 §6-7) spread evenly over K Magpie nodes on this one machine, held for a while
// with whitespace keepalives (RFC 6120 §4.6.1), then every one checked with an XEP-0199 ping.
// The nodes run as child processes (bench/servers/cluster-node.mjs) on the machine's PostgreSQL
// (fresh schema) and Redis (private key prefix); the clients come from several generator
// processes (bench/load/cluster-worker.mjs), each holding at most --max-per-worker sockets.
//
// Logins go node by node (stage 1: node 1's share, stage 2: node 2's, ...), at a paced total rate.
// After each stage the nodes' heaps are read after a full GC, so each stage separates the memory
// of a LOCAL session (on the node that gained connections) from that of a PROXY of a remote
// session (cluster/remote-session.ts, on every other node): every node ends with N/K local
// sessions and N − N/K proxies in its registry, and both counts are checked.
//
//   node bench/cluster-connections.mjs [--connections 1500] [--nodes 3] [--workers 2] [--rate 500]
//        [--hold 15] [--keepalive 20] [--dead-after 10] [--heartbeat 2] [--tls] [--port-base 17100]
//        [--json FILE] [--keep]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GenPool, sum } from './lib/gen.mjs';
import { benchEnv, createAccounts, DOMAIN, NodeProc } from './lib/cluster.mjs';
import { cleanupAll, rssKiB, sleep } from './lib/proc.mjs';

const WORKER = fileURLToPath(new URL('./load/cluster-worker.mjs', import.meta.url));
const HELP = `node bench/cluster-connections.mjs [options]
  --connections N     client sessions in total (default 1500)
  --nodes K           Magpie nodes, each gets N/K sessions (default 3)
  --workers W         generator processes (default: enough for --max-per-worker, at least 2)
  --max-per-worker M  sockets per generator process at most (default 12000; open-files limit 20,000)
  --rate R            logins per second in total (default 500)
  --concurrency C     logins in flight per generator process (default 100)
  --hold S            seconds to hold every session after the last login (default 15; issue: >= 60)
  --keepalive S       whitespace keepalive per session every S seconds (default 20; 0 = none)
  --heartbeat S       cluster.heartbeatSeconds (default 2, the product default)
  --dead-after S      cluster.deadAfterSeconds (default 10, the product default)
  --max-old-space M   node heap limit in MiB (default: Node's own)
  --tls               STARTTLS on every connection (default: plain TCP, allowed on loopback)
  --port-base P       node i listens on P+i (default 17100)
  --json FILE         also write the results as JSON
  --keep              keep the temporary directory (configs, node logs) and the schema`;

function parseArgs(argv) {
  const o = { connections: 1500, nodes: 3, workers: 0, maxPerWorker: 12000, rate: 500, concurrency: 100, hold: 15, keepalive: 20,
    heartbeat: 2, deadAfter: 10, maxOldSpace: 0, tls: false, portBase: 17100, json: '', keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { console.log(HELP); process.exit(0); }
    if (a === '--tls') { o.tls = true; continue; }
    if (a === '--keep') { o.keep = true; continue; }
    const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!a.startsWith('--') || !(key in o)) throw new Error(`unknown option ${a} (see --help)`);
    const v = argv[++i];
    o[key] = typeof o[key] === 'number' ? Number(v) : v;
    if (typeof o[key] === 'number' && !(o[key] >= 0)) throw new Error(`${a}: not a number`);
  }
  if (o.nodes < 1 || o.connections < o.nodes) throw new Error('need at least one node and one connection per node');
  o.workers ||= Math.max(2, Math.ceil(o.connections / o.maxPerWorker));
  if (o.connections / o.workers > o.maxPerWorker) throw new Error(`${o.connections} connections need more than ${o.workers} workers (--max-per-worker ${o.maxPerWorker})`);
  if (Math.ceil(o.connections / o.nodes) > 19000) throw new Error('more than 19,000 sessions per node would pass the open-files limit (20,000): add nodes');
  return o;
}

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const MiB = (b) => Math.round((b / 2 ** 20) * 10) / 10;
const round = (x, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const password = 'bench-Passw0rd';
  const dir = mkdtempSync(join(tmpdir(), 'magpie-cluster-conns-'));
  const t0 = Date.now();
  const env = await benchEnv({ keep: o.keep });
  log(`schema ${env.schema}, Redis prefix ${env.prefix}, dir ${dir}; ${o.connections} sessions over ${o.nodes} nodes, ${o.workers} generator processes, ${o.rate} logins/s`);
  const acc = await createAccounts(env, o.connections, password);
  log(`accounts: ${acc.accounts} in ${acc.seconds} s`);

  const out = {
    date: new Date().toISOString(), command: `node bench/cluster-connections.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { nproc: cpus().length, cpu: cpus()[0]?.model, memGiB: round(totalmem() / 2 ** 30, 1), freeGiBAtStart: round(freemem() / 2 ** 30, 1), node: process.version },
    opts: o, accounts: acc, stages: [], holdSamples: [], ok: false,
  };
  const nodes = [];
  const gen = new GenPool(o.workers, WORKER);
  try {
    const cluster = { heartbeatSeconds: o.heartbeat, deadAfterSeconds: o.deadAfter };
    for (let i = 1; i <= o.nodes; i++) {
      nodes.push(await new NodeProc(env, { name: `node${i}`, port: o.portBase + i, dir, cluster, poolSize: 8 }).start({ maxOldSpaceMiB: o.maxOldSpace || undefined }));
    }
    log(`nodes: ${nodes.map((n) => `${n.name} pid ${n.pid} :${n.port} (open files ${n.openFilesLimit})`).join(', ')}`);
    await gen.start();
    await gen.all('config', () => ({ domain: DOMAIN, password, tls: o.tls }));
    const genLimits = (await gen.all('snap')).map((s) => s.openFilesLimit);
    out.openFilesLimit = { nodes: nodes.map((n) => n.openFilesLimit), workers: genLimits };

    const snapNodes = async (gc = true) => Promise.all(nodes.map((n) => n.stats({ gc })));
    await sleep(2000);
    const base = await snapNodes();
    out.baseline = base.map((s) => ({ node: s.node, rssMiB: MiB(s.rss), heapUsedMiB: MiB(s.heapUsed), local: s.local, remote: s.remote }));
    log(`baseline: ${out.baseline.map((b) => `${b.node} rss ${b.rssMiB} MiB heap ${b.heapUsedMiB} MiB`).join('; ')}`);

    // User i (1-based) belongs to node floor((i-1) / perNode) and to worker (i-1) % workers.
    const perNode = Math.ceil(o.connections / o.nodes);
    const usersOf = (node, k) => {
      const list = [];
      for (let i = node * perNode + 1; i <= Math.min(o.connections, (node + 1) * perNode); i++) if ((i - 1) % o.workers === k) list.push(`user${i}`);
      return list;
    };
    let prev = base;
    let expected = new Array(o.nodes).fill(0);
    const tLogins = Date.now();
    for (let s = 0; s < o.nodes; s++) {
      const ts = Date.now();
      await snapNodes(false); // resets the event-loop delay histograms: the stage's maxima only
      const rs = await gen.all('connect', (k) => ({ users: usersOf(s, k), port: nodes[s].port, rate: o.rate / o.workers, concurrency: o.concurrency }), 3 * 3600_000);
      const seconds = (Date.now() - ts) / 1000;
      const connected = sum(rs, 'connected'), failed = sum(rs, 'failed');
      expected[s] += connected;
      const total = expected.reduce((a, b) => a + b, 0);
      // Registry events travel through Redis: wait (bounded) until every node sees every session.
      let st;
      const loopMax = nodes.map(() => 0); // over the logins and the wait
      for (let i = 0; i < 120; i++) {
        st = await snapNodes(false);
        st.forEach((x, j) => { loopMax[j] = Math.max(loopMax[j], round(x.loop.maxMs, 0)); });
        if (st.every((x, j) => x.local === expected[j] && x.remote === total - expected[j])) break;
        await sleep(1000);
      }
      const after = await snapNodes(true);
      const stage = {
        stage: s + 1, forcedGcMs: after.map((x) => round(x.forcedGcMs ?? NaN, 0)), node: nodes[s].name, connected, failed, errors: rs.flatMap((r) => r.errors).slice(0, 5), seconds: round(seconds, 1), loginsPerSec: round(connected / seconds, 1),
        eventLoopMaxMsDuring: loopMax,
        nodes: after.map((x, j) => ({
          node: x.node, local: x.local, remote: x.remote, connections: x.connections,
          rssMiB: MiB(x.rss), heapUsedMiB: MiB(x.heapUsed), externalMiB: MiB(x.external),
          dRssMiB: MiB(x.rss - prev[j].rss), dHeapMiB: MiB(x.heapUsed - prev[j].heapUsed),
          role: j === s ? 'local' : 'proxy',
          perSessionKiB: connected ? { rss: round((x.rss - prev[j].rss) / 1024 / connected), heap: round((x.heapUsed - prev[j].heapUsed) / 1024 / connected) } : null,
        })),
      };
      out.stages.push(stage);
      prev = after;
      log(`stage ${s + 1} (${nodes[s].name}): ${connected} logged in, ${failed} failed in ${stage.seconds} s (${stage.loginsPerSec}/s); ` +
        stage.nodes.map((n) => `${n.node} ${n.local}+${n.remote} rss ${n.rssMiB} (+${n.dRssMiB}) heap ${n.heapUsedMiB} (+${n.dHeapMiB}) MiB`).join('; ') +
        `; loop max ${loopMax.join('/')} ms`);
      if (failed) log(`  failures: ${stage.errors.join(' | ')}`);
    }
    out.loginSeconds = round((Date.now() - tLogins) / 1000, 1);
    const total = expected.reduce((a, b) => a + b, 0);

    // Hold: keepalives, and a sample of every node every 10 s (registry counts, event-loop delay).
    if (o.keepalive) await gen.all('keepalive', () => ({ intervalMs: o.keepalive * 1000 }));
    const holdUntil = Date.now() + o.hold * 1000;
    while (Date.now() < holdUntil) {
      await sleep(Math.min(10000, Math.max(0, holdUntil - Date.now())));
      const st = await snapNodes(false);
      const g = await gen.all('snap');
      out.holdSamples.push({ t: round((Date.now() - t0) / 1000, 0), open: sum(g, 'open'), nodes: st.map((x) => ({ node: x.node, local: x.local, remote: x.remote, rssMiB: MiB(x.rss), loopMaxMs: round(x.loop.maxMs, 0), afterForcedGc: x.loop.afterForcedGc })) });
      log(`hold: ${sum(g, 'open')} open; ${st.map((x) => `${x.node} ${x.local}+${x.remote} loop max ${round(x.loop.maxMs, 0)} ms`).join('; ')}`);
    }
    await gen.all('keepalive', () => ({ intervalMs: 0 }));

    // End: every session answers a ping; every node's registry holds all of them.
    await snapNodes(false);
    const tc = Date.now();
    const chk = await gen.all('check', () => ({ timeoutMs: 120000 }), 600000);
    const checkSeconds = round((Date.now() - tc) / 1000, 1);
    const duringCheck = await snapNodes(false);
    const fin = await snapNodes(true);
    const g = await gen.all('snap');
    out.final = {
      sessions: total, checkSeconds, eventLoopMaxMsDuringCheck: duringCheck.map((x) => round(x.loop.maxMs, 0)), pingOk: sum(chk, 'answered'), dead: sum(chk, 'dead'), noAnswer: sum(chk, 'noAnswer'),
      closedByServer: sum(g, 'closed'), streamErrors: sum(g, 'streamErrors'), serverPingsAnswered: sum(g, 'pingsAnswered'), keepalivesSent: sum(g, 'keepalives'),
      generatorRssMiB: g.map((x) => MiB(x.rss)),
      nodes: fin.map((x, j) => ({
        node: x.node, pid: x.pid, local: x.local, remote: x.remote, connections: x.connections,
        registryOk: x.local === expected[j] && x.remote === total - expected[j],
        rssMiB: MiB(x.rss), heapUsedMiB: MiB(x.heapUsed), heapTotalMiB: MiB(x.heapTotal), externalMiB: MiB(x.external),
        rssPerSessionKiB: round((x.rss - base[j].rss) / 1024 / total), heapPerSessionKiB: round((x.heapUsed - base[j].heapUsed) / 1024 / total),
        eventLoopMaxMsSinceStart: round(x.loop.maxSinceStartMs, 0), // forced-GC pauses excluded
        forcedGcMs: round(x.forcedGcMs ?? NaN, 0),
        statusRssMiB: MiB(rssKiB(x.pid) * 1024),
      })),
      clusterWarnings: nodes.flatMap((n) => n.clusterWarnings().map((l) => `${n.name}: ${l.slice(0, 300)}`)).slice(0, 20),
    };
    out.ok = out.final.pingOk === total && out.final.nodes.every((n) => n.registryOk) && out.final.clusterWarnings.length === 0;
    log(`final: ${out.final.pingOk}/${total} sessions answered the ping in ${checkSeconds} s (${out.final.dead} dead, ${out.final.noAnswer} silent; loop max during the check ${out.final.eventLoopMaxMsDuringCheck.join('/')} ms); ` +
      out.final.nodes.map((n) => `${n.node} ${n.local}+${n.remote} ${n.registryOk ? 'ok' : 'WRONG'} rss ${n.rssMiB} MiB heap ${n.heapUsedMiB} MiB`).join('; '));
    if (out.final.clusterWarnings.length) log(`cluster warnings:\n${out.final.clusterWarnings.join('\n')}`);
    await gen.all('closeAll', () => ({ graceMs: 5000 }), 300000);
  } catch (e) {
    out.error = String(e?.stack ?? e);
    log(`FAILED: ${out.error}`);
    for (const n of nodes) log(`--- ${n.name} stderr ---\n${n.stderrTail(10)}\n--- ${n.name} cluster warnings ---\n${n.clusterWarnings().slice(-5).join('\n')}`);
  } finally {
    await gen.stop().catch(() => {});
    await cleanupAll();
    if (!o.keep) rmSync(dir, { recursive: true, force: true }); else log(`kept ${dir}`);
  }
  out.seconds = round((Date.now() - t0) / 1000, 0);
  if (o.json) writeFileSync(o.json, JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out));
  process.exitCode = out.ok ? 0 : 1;
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { void cleanupAll().then(() => process.exit(130)); });
main().catch(async (e) => { console.error(e?.stack ?? e); await cleanupAll(); process.exit(1); });
