#!/usr/bin/env node
// Cluster benchmark (issue #8 (a)): one-to-one chat (RFC 6121 §5, <message type='chat'> to a full
// JID) between two clients on the SAME node against two clients on DIFFERENT nodes (the stanza
// crosses Redis pub/sub, cluster/node.ts forward()), with the message archive (XEP-0313) on and
// off (`modules.disabled: [mam]`). Two Magpie nodes run as child processes
// (bench/servers/cluster-node.mjs) on the machine's PostgreSQL and Redis, in a fresh schema and
// under a private key prefix. Both pairs are online on the same nodes at the same time; the
// measured runs alternate same/cross (order rotated each round) and the median is reported, so
// the ratio comes from one run on one machine state.
//
// Each run: the two clients of a pair send N/2 messages to each other, with at most W/2 of each
// direction in flight (closed loop). Reported: delivered messages/s, and CPU per delivered message
// of all the Magpie nodes together (utime+stime from /proc, both nodes counted in both cases) and,
// separately, of the Redis server (a shared instance: other jobs on the machine may use it too).
//
// With --sm the clients enable stream management (XEP-0198, no resumption) and answer every <r/>
// with their count, so every message passes through the unacknowledged queue; --mirror on,off
// then compares cluster.mirrorUnacked (the queue copied to Redis, cluster/unacked-mirror.ts).
//
//   node bench/cluster-messages.mjs [--messages 20000] [--window 100] [--rounds 3] [--archive on,off]
//                                   [--sm] [--mirror on,off] [--tls] [--port-base 17000] [--json FILE] [--keep]

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { login, escapeXml } from './load/xmpp.mjs';
import { benchEnv, createAccounts, DOMAIN, NodeProc } from './lib/cluster.mjs';
import { cleanupAll, cpuMs, sleep } from './lib/proc.mjs';

const HELP = `node bench/cluster-messages.mjs [options]
  --messages N     messages per measured run, both directions together (default 20000)
  --window W       messages in flight per pair, both directions together (default 100)
  --rounds R       measured runs per case; the median is reported (default 3)
  --warmup N       unmeasured messages per pair first (default 4000)
  --archive LIST   on,off: with the message archive (mam) and without (default on,off)
  --sm             clients enable stream management (XEP-0198) and acknowledge every <r/>
  --mirror LIST    on,off: cluster.mirrorUnacked for each archive case (default on)
  --tls            STARTTLS on the client connections (default: plain TCP, allowed on loopback)
  --port-base P    node i listens on P+i (default 17000)
  --json FILE      also write the results as JSON
  --keep           keep the temporary directory (configs, node logs)`;

function parseArgs(argv) {
  const o = { messages: 20000, window: 100, rounds: 3, warmup: 4000, archive: 'on,off', mirror: 'on', sm: false, tls: false, portBase: 17000, json: '', keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { console.log(HELP); process.exit(0); }
    if (a === '--tls') { o.tls = true; continue; }
    if (a === '--sm') { o.sm = true; continue; }
    if (a === '--keep') { o.keep = true; continue; }
    const key = a.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in o) || !a.startsWith('--')) throw new Error(`unknown option ${a}`);
    const v = argv[++i];
    o[key] = typeof o[key] === 'number' ? Number(v) : v;
    if (typeof o[key] === 'number' && !(o[key] >= 0)) throw new Error(`${a}: not a number`);
  }
  o.archive = o.archive.split(',').map((s) => s.trim()).filter(Boolean);
  o.mirror = o.mirror.split(',').map((s) => s.trim()).filter(Boolean);
  return o;
}

const log = (...a) => console.error(`[${new Date().toISOString().slice(11, 19)}]`, ...a);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

const MARK = 'MGPC:';
const BODY = 'The quick brown fox jumps over the lazy dog, then naps.';
const NS_SM = 'urn:xmpp:sm:3';
const RE_SM = /<message[\s>]|<r xmlns=['"]urn:xmpp:sm:3['"]\/>/g;

/** A logged-in client that counts received benchmark messages and error stanzas. */
async function client(o, port, user) {
  const { sock, jid, rest } = await login({ host: '127.0.0.1', port, domain: DOMAIN, username: user, password: o.password, resource: 'bench', tls: o.tls, timeoutMs: 60000 });
  const c = { sock, jid, user, recv: 0, errors: 0, tail: '', onRecv: null, seq: 0, h: 0, smTail: '' };
  // XEP-0198: h counts every stanza received after <enabled/>; only messages arrive here.
  const onSm = (chunk) => {
    const s = c.smTail + chunk;
    for (const m of s.matchAll(RE_SM)) {
      if (m.index + m[0].length <= c.smTail.length) continue; // seen in the previous chunk
      if (m[0].startsWith('<message')) c.h++; else sock.write(`<a xmlns='${NS_SM}' h='${c.h}'/>`);
    }
    c.smTail = s.slice(-40);
  };
  const onData = (chunk) => {
    if (o.sm) onSm(chunk);
    const s = c.tail + chunk;
    let n = 0;
    for (let i = s.indexOf(MARK); i !== -1; i = s.indexOf(MARK, i + MARK.length)) n++;
    if (s.includes("type='error'") || s.includes('type="error"')) c.errors++;
    c.tail = s.slice(-(MARK.length - 1));
    if (n) { c.recv += n; c.onRecv?.(); }
  };
  sock.on('data', onData);
  sock.on('error', () => {});
  if (rest) onData(rest);
  if (o.sm) sock.write(`<enable xmlns='${NS_SM}'/>`);
  c.send = (to) => sock.write(`<message to='${escapeXml(to)}' type='chat' id='c${c.seq++}'><body>${MARK}${c.seq} ${BODY}</body></message>`);
  return c;
}

/** a and b send n/2 messages to each other, at most window/2 in flight per direction. */
function exchange(a, b, n, window, timeoutMs = 300000) {
  const per = Math.floor(n / 2), w = Math.max(1, Math.floor(window / 2));
  const a0 = a.recv, b0 = b.recv;
  let sentA = 0, sentB = 0;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { a.onRecv = b.onRecv = null; reject(new Error(`timeout: ${b.recv - b0}/${per} and ${a.recv - a0}/${per} delivered, errors ${a.errors + b.errors}`)); }, timeoutMs);
    const pump = () => {
      while (sentA < per && sentA - (b.recv - b0) < w) { a.send(b.jid); sentA++; }
      while (sentB < per && sentB - (a.recv - a0) < w) { b.send(a.jid); sentB++; }
      if (b.recv - b0 >= per && a.recv - a0 >= per) { clearTimeout(t); a.onRecv = b.onRecv = null; resolve(2 * per); }
    };
    a.onRecv = b.onRecv = pump;
    pump();
  });
}

function redisCpuMs(pid) { try { return pid ? cpuMs(pid) : null; } catch { return null; } }

async function measure(kind, pair, nodes, env, o) {
  const c0 = nodes.map((n) => cpuMs(n.pid)), r0 = redisCpuMs(env.redisPid), g0 = process.cpuUsage(), t0 = performance.now();
  const delivered = await exchange(pair[0], pair[1], o.messages, o.window);
  const wall = (performance.now() - t0) / 1000;
  const nodeMs = nodes.map((n, i) => cpuMs(n.pid) - c0[i]);
  const r1 = redisCpuMs(env.redisPid), g = process.cpuUsage(g0);
  const total = nodeMs.reduce((a, b) => a + b, 0);
  return {
    kind, delivered, seconds: round(wall, 2), msgsPerSec: round(delivered / wall, 0),
    nodeCpuUsPerMsg: round((total * 1000) / delivered, 1), perNodeCpuUsPerMsg: nodeMs.map((ms) => round((ms * 1000) / delivered, 1)),
    redisCpuUsPerMsg: r0 === null || r1 === null ? null : round(((r1 - r0) * 1000) / delivered, 1),
    nodeCores: round(total / 1000 / wall, 2),
    generatorCpuUsPerMsg: round((g.user + g.system) / delivered, 1), // this process: both clients
  };
}

async function runCase(archive, mirror, caseNo, env, o, dir) {
  const disabled = archive === 'on' ? [] : ['mam'];
  const nodes = [];
  for (let i = 1; i <= 2; i++) {
    nodes.push(await new NodeProc(env, { name: `m${archive}${mirror}${i}`, port: o.portBase + i + 10 * caseNo, dir, disabled, cluster: { mirrorUnacked: mirror === 'on' } }).start());
  }
  log(`archive ${archive} mirror ${mirror}${o.sm ? ' (sm)' : ''}: nodes ${nodes.map((n) => `${n.name} pid ${n.pid} :${n.port}`).join(', ')}`);
  try {
    // Same pair: user1 and user2 on node 1. Cross pair: user3 on node 1, user4 on node 2.
    const same = [await client(o, nodes[0].port, 'user1'), await client(o, nodes[0].port, 'user2')];
    const cross = [await client(o, nodes[0].port, 'user3'), await client(o, nodes[1].port, 'user4')];
    // The registry update for a new session reaches the other node through Redis: wait for it.
    for (let i = 0; i < 100; i++) {
      const st = await Promise.all(nodes.map((n) => n.stats()));
      if (st[0].remote >= 1 && st[1].remote >= 3) break;
      await sleep(100);
    }
    for (const p of [same, cross]) await exchange(p[0], p[1], o.warmup, o.window);
    await sleep(1000);
    const runs = { same: [], cross: [] };
    for (let r = 0; r < o.rounds; r++) {
      const order = r % 2 === 0 ? ['same', 'cross'] : ['cross', 'same'];
      for (const k of order) {
        const m = await measure(k, k === 'same' ? same : cross, nodes, env, o);
        runs[k].push(m);
        log(`archive ${archive} round ${r + 1} ${k}: ${m.msgsPerSec} msg/s, nodes ${m.nodeCpuUsPerMsg} µs/msg (${m.perNodeCpuUsPerMsg.join(' + ')}), redis ${m.redisCpuUsPerMsg} µs/msg, generator ${m.generatorCpuUsPerMsg} µs/msg`);
        await sleep(500);
      }
    }
    const errors = [...same, ...cross].reduce((a, c) => a + c.errors, 0);
    for (const c of [...same, ...cross]) c.sock.destroy();
    const summary = {};
    for (const k of ['same', 'cross']) {
      summary[k] = {
        msgsPerSec: median(runs[k].map((m) => m.msgsPerSec)), nodeCpuUsPerMsg: median(runs[k].map((m) => m.nodeCpuUsPerMsg)),
        redisCpuUsPerMsg: runs[k].every((m) => m.redisCpuUsPerMsg !== null) ? median(runs[k].map((m) => m.redisCpuUsPerMsg)) : null,
      };
    }
    const warnings = nodes.flatMap((n) => n.clusterWarnings());
    return { archive, mirror, sm: o.sm, runs, summary, errorStanzas: errors, clusterWarnings: warnings.slice(0, 5),
      ratio: { msgsPerSec: round(summary.cross.msgsPerSec / summary.same.msgsPerSec, 2), cpuPerMsg: round(summary.cross.nodeCpuUsPerMsg / summary.same.nodeCpuUsPerMsg, 2) } };
  } finally {
    for (const n of nodes) await n.stop();
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  o.password = 'bench-Passw0rd';
  const dir = mkdtempSync(join(tmpdir(), 'magpie-cluster-msgs-'));
  const env = await benchEnv({ keep: o.keep });
  log(`schema ${env.schema}, Redis prefix ${env.prefix} (redis-server pid ${env.redisPid ?? '?'}), dir ${dir}`);
  const acc = await createAccounts(env, 4, o.password);
  log(`accounts: ${acc.accounts} in ${acc.seconds} s`);
  const results = [];
  try {
    let caseNo = 0;
    for (const a of o.archive) for (const m of o.mirror) results.push(await runCase(a, m, caseNo++, env, o, dir));
  } finally {
    await cleanupAll();
    if (!o.keep) rmSync(dir, { recursive: true, force: true }); else log(`kept ${dir}`);
  }
  const out = {
    date: new Date().toISOString(), command: `node bench/cluster-messages.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    machine: { nproc: cpus().length, cpu: cpus()[0]?.model, memGiB: round(totalmem() / 2 ** 30, 1), node: process.version },
    opts: { messages: o.messages, window: o.window, rounds: o.rounds, warmup: o.warmup, tls: o.tls, sm: o.sm }, results,
  };
  console.log(`\n| archive | mirror${o.sm ? ' (sm)' : ''} | case | msg/s | node CPU µs/msg | Redis CPU µs/msg |\n|---|---|---|---:|---:|---:|`);
  for (const r of results) for (const k of ['same', 'cross']) {
    const s = r.summary[k];
    console.log(`| ${r.archive} | ${r.mirror} | ${k === 'same' ? 'same node' : 'across nodes'} | ${s.msgsPerSec} | ${s.nodeCpuUsPerMsg} | ${s.redisCpuUsPerMsg ?? 'n/a'} |`);
  }
  for (const r of results) console.log(`archive ${r.archive} mirror ${r.mirror}: cross/same msg/s ${r.ratio.msgsPerSec}, CPU/msg ${r.ratio.cpuPerMsg}; error stanzas ${r.errorStanzas}; cluster warnings ${r.clusterWarnings.length}`);
  if (o.json) writeFileSync(o.json, JSON.stringify(out, null, 2) + '\n');
  console.log(JSON.stringify(out));
}

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { void cleanupAll().then(() => process.exit(130)); });
main().catch(async (e) => { console.error(e?.stack ?? e); await cleanupAll(); process.exit(1); });
