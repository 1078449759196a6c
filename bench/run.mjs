// Magpie vs Prosody vs ejabberd: logins/s, memory per idle session, delivered messages/s, with one
// load generator (bench/load/) against each server in turn, every server started fresh for every
// scenario on loopback from configuration generated into a temporary directory. Entry point:
// `npm run bench -- [flags]` (scripts/bench.mjs builds Magpie and installs the peers first).
// See bench/RESULTS.md for the method and recorded results; `--help` for the flags.

import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { cpus, freemem, totalmem } from 'node:os';
import { join } from 'node:path';
import { GenPool, sum } from './lib/gen.mjs';
import { cleanupAll, cpuMs, onCleanup, rssKiB, sleep, systemBusyMs } from './lib/proc.mjs';
import { SERVERS } from './servers/servers.mjs';

const BENCH = new URL('./', import.meta.url).pathname;

// ---- options -----------------------------------------------------------------------------------

const DEFAULTS = {
  only: 'logins,idle,messages',
  servers: 'magpie,prosody,ejabberd',
  procs: 4,                 // load-generator processes
  logins: 2000,             // measured logins
  loginSeconds: 120,        // ... or stop after this long
  loginConcurrency: 50,     // logins in flight
  loginUsers: 1000,         // accounts cycled through (each logs in once, unmeasured, to warm caches)
  idleConns: 10000,
  idleConcurrency: 100,     // logins in flight while opening the idle sessions
  idleSettle: 15,           // seconds between the last login and the RSS reading
  clients: 1000,
  msgSeconds: 20,
  msgWarmup: 5,
  msgWindow: 2000,          // closed loop: messages in flight over all generator processes
  msgRate: 0,               // > 0: open loop at this many messages/s instead of the window
  cert: 'ec',               // ec (P-256) or rsa (2048)
  portBase: 15000,
  password: 'bench-Passw0rd',
  results: join(BENCH, 'results'),
  md: join(BENCH, 'RESULTS.md'),
  keep: false,
  note: '',
};

const HELP = `Usage: npm run bench -- [options]
  --only LIST             scenarios: logins,idle,messages (default all)
  --servers LIST          magpie,prosody,ejabberd (default all)
  --procs N               load-generator processes (default ${DEFAULTS.procs})
  --logins N              measured logins (default ${DEFAULTS.logins})
  --login-seconds S       time cap of the measured logins (default ${DEFAULTS.loginSeconds})
  --login-concurrency N   logins in flight (default ${DEFAULTS.loginConcurrency})
  --login-users N         accounts the logins cycle through (default ${DEFAULTS.loginUsers})
  --idle-conns N          idle sessions for the memory test (default ${DEFAULTS.idleConns})
  --idle-concurrency N    logins in flight while opening them (default ${DEFAULTS.idleConcurrency})
  --idle-settle S         seconds to wait before reading RSS (default ${DEFAULTS.idleSettle})
  --clients N             online clients for the message test (default ${DEFAULTS.clients})
  --msg-seconds S         measured message window (default ${DEFAULTS.msgSeconds})
  --msg-warmup S          unmeasured sending before it (default ${DEFAULTS.msgWarmup})
  --msg-window N          closed loop: messages in flight in total (default ${DEFAULTS.msgWindow})
  --msg-rate N            open loop at N messages/s in total instead (default: closed loop)
  --cert ec|rsa           server certificate key type, same for all servers (default ${DEFAULTS.cert})
  --port-base N           ports N+222.. (magpie), N+322 (prosody), N+422.. (ejabberd) (default ${DEFAULTS.portBase})
  --results DIR           where <timestamp>.json goes (default bench/results)
  --md FILE               results log to append to (default bench/RESULTS.md; --no-md to skip)
  --note TEXT             a note recorded with the results
  --keep                  keep the temporary directory (configs, logs, data)
  --no-build, --no-install  (handled by scripts/bench.mjs)`;

function parseArgs(argv) {
  const o = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { console.log(HELP); process.exit(0); }
    if (a === '--keep') { o.keep = true; continue; }
    if (a === '--no-md') { o.md = null; continue; }
    if (a === '--no-build' || a === '--no-install') continue;
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${a} (see --help)`);
    const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(key in DEFAULTS)) throw new Error(`unknown option --${m[1]} (see --help)`);
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`--${m[1]} needs a value`);
    o[key] = typeof DEFAULTS[key] === 'number' ? Number(v) : v;
    if (typeof DEFAULTS[key] === 'number' && !(Number.isFinite(o[key]) && o[key] >= 0)) throw new Error(`--${m[1]}: not a number: ${v}`);
  }
  o.only = o.only.split(',').map((s) => s.trim()).filter(Boolean);
  o.servers = o.servers.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of o.only) if (!['logins', 'idle', 'messages'].includes(s)) throw new Error(`unknown scenario ${s}`);
  for (const s of o.servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}`);
  if (!['ec', 'rsa'].includes(o.cert)) throw new Error('--cert must be ec or rsa');
  if (o.procs < 1 || o.procs > 16) throw new Error('--procs must be 1..16');
  if (o.idleConns / o.procs > 15000) throw new Error('too many idle sessions per generator process (open-files limit): raise --procs');
  return o;
}

const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---- measurement helpers -----------------------------------------------------------------------

const genCpuUs = (snaps) => snaps.reduce((a, s) => a + s.cpu.user + s.cpu.system, 0);
/** CPU used by everything else on the machine over an interval, as a share of all cores. */
const otherShare = (sys0, sys1, serverMs, genUs, wall) => round((sys1 - sys0 - serverMs - genUs / 1000) / 1000 / wall / cpus().length, 3);
const round = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

function mergeLatency(snaps) {
  // Workers report percentiles of their own samples; weight by sample count (an approximation).
  const n = snaps.reduce((a, s) => a + (s.latency?.n ?? 0), 0);
  if (!n) return null;
  const w = (k) => snaps.reduce((a, s) => a + (s.latency?.n ? s.latency[k] * s.latency.n : 0), 0) / n;
  return { samples: n, p50Ms: round(w('p50'), 2), p90Ms: round(w('p90'), 2), p99Ms: round(w('p99'), 2), maxMs: round(Math.max(...snaps.map((s) => s.latency?.max ?? 0)), 2) };
}

// ---- scenarios ---------------------------------------------------------------------------------

async function scenarioLogins(server, gen, o) {
  const users = Math.max(o.loginUsers, o.loginConcurrency * 2);
  // Warm-up: every account logs in once, filling the generator's SCRAM cache (so client PBKDF2
  // never runs in the measured part) and the server's caches and JIT.
  const warm = await gen.all('logins', (k) => {
    const u = gen.usersOf(k, 1, users);
    return { users: u, concurrency: gen.share(o.loginConcurrency, k), count: u.length, durationMs: 300000, resourcePrefix: 'W' };
  });
  if (sum(warm, 'failed')) log(`  warm-up: ${sum(warm, 'failed')} logins failed: ${warm.flatMap((r) => r.errors).slice(0, 2).join(' | ')}`);
  await sleep(2000);
  const g0 = await gen.all('snap');
  const sys0 = systemBusyMs(), c0 = cpuMs(server.pid), t0 = performance.now();
  const rs = await gen.all('logins', (k) => ({
    users: gen.usersOf(k, 1, users), concurrency: gen.share(o.loginConcurrency, k),
    count: gen.share(o.logins, k), durationMs: o.loginSeconds * 1000, resourcePrefix: 'L',
  }), (o.loginSeconds + 120) * 1000);
  const wall = (performance.now() - t0) / 1000, c1 = cpuMs(server.pid), sys1 = systemBusyMs();
  const g1 = await gen.all('snap');
  const done = sum(rs, 'done'), failed = sum(rs, 'failed');
  if (!done) throw new Error(`no login succeeded: ${rs.flatMap((r) => r.errors).slice(0, 3).join(' | ')}`);
  return {
    logins: done, failed, errors: rs.flatMap((r) => r.errors).slice(0, 5), seconds: round(wall, 2),
    loginsPerSec: round(done / wall, 1),
    serverCpuMsPerLogin: done ? round((c1 - c0) / done, 3) : null,
    serverCpuCores: round((c1 - c0) / 1000 / wall, 2),
    generatorCpuShare: round((genCpuUs(g1) - genCpuUs(g0)) / 1e6 / wall / cpus().length, 3),
    otherCpuShare: otherShare(sys0, sys1, c1 - c0, genCpuUs(g1) - genCpuUs(g0), wall),
  };
}

async function scenarioIdle(server, gen, o) {
  const warmN = Math.min(500, o.idleConns);
  const warm = await gen.all('logins', (k) => {
    const u = gen.usersOf(k, 1, warmN);
    return { users: u, concurrency: gen.share(o.loginConcurrency, k), count: u.length, durationMs: 300000, resourcePrefix: 'W' };
  });
  if (sum(warm, 'failed')) log(`  warm-up: ${sum(warm, 'failed')} logins failed`);
  await sleep(5000);
  const before = rssKiB(server.pid);
  const t0 = performance.now();
  const rs = await gen.all('connect', (k) => ({
    users: gen.usersOf(k, 1, o.idleConns), concurrency: gen.share(o.idleConcurrency, k), resource: 'idle',
  }), 60 * 60000);
  const connectSeconds = (performance.now() - t0) / 1000;
  const connected = sum(rs, 'connected');
  if (!connected) throw new Error(`no session opened: ${rs.flatMap((r) => r.errors).slice(0, 3).join(' | ')}`);
  const samples = [];
  for (let i = 0; i < o.idleSettle; i++) { await sleep(1000); samples.push(rssKiB(server.pid)); }
  const after = samples[samples.length - 1];
  const snaps = await gen.all('snap');
  const stillOpen = sum(snaps, 'open');
  const res = {
    connected, failed: sum(rs, 'failed'), errors: rs.flatMap((r) => r.errors).slice(0, 5), stillOpen,
    connectSeconds: round(connectSeconds, 1), connectsPerSec: round(connected / connectSeconds, 1),
    rssBeforeMiB: round(before / 1024, 1), rssAfterMiB: round(after / 1024, 1),
    rssSamplesMiB: samples.map((s) => round(s / 1024, 1)),
    kibPerConn: connected ? round((after - before) / connected, 2) : null,
  };
  await gen.all('closeAll', () => ({ graceMs: 10000 }), 120000);
  return res;
}

async function scenarioMessages(server, gen, o) {
  const rs = await gen.all('connect', (k) => ({ users: gen.usersOf(k, 1, o.clients), concurrency: gen.share(o.idleConcurrency, k), resource: 'm' }), 30 * 60000);
  const connected = sum(rs, 'connected');
  if (connected < 2 * gen.n) throw new Error(`only ${connected} clients logged in: ${rs.flatMap((r) => r.errors).slice(0, 3).join(' | ')}`);
  if (sum(rs, 'failed')) log(`  ${sum(rs, 'failed')} clients failed to log in: ${rs.flatMap((r) => r.errors).slice(0, 2).join(' | ')}`);
  if (o.msgRate > 0 && sum(rs, 'mismatched')) throw new Error('the server changed the requested resources; open-loop mode needs them');
  await sleep(2000);
  const mode = o.msgRate > 0 ? 'rate' : 'window';
  await gen.all('msgStart', (k) => ({ mode, window: Math.max(1, gen.share(o.msgWindow, k)), rate: gen.share(o.msgRate, k), globalUsers: o.clients, resource: 'm' }));
  await sleep(o.msgWarmup * 1000);
  const s0 = await gen.all('snap', () => ({ resetLatency: true, sampling: true }));
  const sys0 = systemBusyMs(), c0 = cpuMs(server.pid), t0 = performance.now();
  await sleep(o.msgSeconds * 1000);
  const c1 = cpuMs(server.pid), sys1 = systemBusyMs(), wall = (performance.now() - t0) / 1000;
  const s1 = await gen.all('snap', () => ({ sampling: false }));
  await gen.all('msgStop');
  // Drain: wait (bounded) until everything sent has arrived, to report losses.
  let s2;
  for (let i = 0; i < 20; i++) {
    await sleep(500);
    s2 = await gen.all('snap');
    if (sum(s2, 'recv') >= sum(s2, 'sent')) break;
  }
  const delivered = sum(s1, 'recv') - sum(s0, 'recv');
  const res = {
    mode, window: mode === 'window' ? o.msgWindow : null, targetRate: mode === 'rate' ? o.msgRate : null,
    clients: connected, seconds: round(wall, 2),
    sent: sum(s1, 'sent') - sum(s0, 'sent'), delivered,
    msgsPerSec: round(delivered / wall, 1),
    serverCpuUsPerMsg: delivered ? round(((c1 - c0) * 1000) / delivered, 2) : null,
    serverCpuCores: round((c1 - c0) / 1000 / wall, 2),
    generatorCpuShare: round((genCpuUs(s1) - genCpuUs(s0)) / 1e6 / wall / cpus().length, 3),
    otherCpuShare: otherShare(sys0, sys1, c1 - c0, genCpuUs(s1) - genCpuUs(s0), wall),
    latency: mergeLatency(s1),
    totalSent: sum(s2, 'sent'), totalReceived: sum(s2, 'recv'), lost: sum(s2, 'sent') - sum(s2, 'recv'),
    errorStanzas: sum(s2, 'errs'), skippedBackpressure: sum(s2, 'skipped'), sessionsOpenAtEnd: sum(s2, 'open'),
  };
  await gen.all('closeAll', () => ({ graceMs: 10000 }), 120000);
  return res;
}

const SCENARIOS = { logins: scenarioLogins, idle: scenarioIdle, messages: scenarioMessages };

// ---- report ------------------------------------------------------------------------------------

const METRICS = [
  // [scenario, field, label, unit, better]
  ['logins', 'loginsPerSec', 'logins/s', '', 'higher'],
  ['logins', 'serverCpuMsPerLogin', 'server CPU per login', 'ms', 'lower'],
  ['idle', 'kibPerConn', 'RSS per idle session', 'KiB', 'lower'],
  ['messages', 'msgsPerSec', 'delivered msgs/s', '', 'higher'],
  ['messages', 'serverCpuUsPerMsg', 'server CPU per msg', 'µs', 'lower'],
];

function val(results, server, scen, field) {
  const r = results[scen]?.[server];
  return r && !r.error ? r[field] ?? null : null;
}
const ratio = (a, b) => (a !== null && b !== null && b !== 0 ? round(a / b, 2) : null);
const fmt = (x) => (x === null || x === undefined ? 'n/a' : typeof x === 'number' ? x.toLocaleString('en-US', { maximumFractionDigits: 3 }) : String(x));

function evaluateTargets(results) {
  const v = (s, sc, f) => val(results, s, sc, f);
  const t = [];
  const add = (name, ok, detail) => t.push({ target: name, met: ok === null ? null : !!ok, detail });
  const cmp = (a, b, f) => (a === null || b === null ? null : f(a, b));
  add('logins/s > ejabberd', cmp(v('magpie', 'logins', 'loginsPerSec'), v('ejabberd', 'logins', 'loginsPerSec'), (a, b) => a > b),
    `ratio ${fmt(ratio(v('magpie', 'logins', 'loginsPerSec'), v('ejabberd', 'logins', 'loginsPerSec')))}`);
  add('logins/s >= 2x Prosody', cmp(v('magpie', 'logins', 'loginsPerSec'), v('prosody', 'logins', 'loginsPerSec'), (a, b) => a >= 2 * b),
    `ratio ${fmt(ratio(v('magpie', 'logins', 'loginsPerSec'), v('prosody', 'logins', 'loginsPerSec')))}`);
  add('msgs/s > ejabberd', cmp(v('magpie', 'messages', 'msgsPerSec'), v('ejabberd', 'messages', 'msgsPerSec'), (a, b) => a > b),
    `ratio ${fmt(ratio(v('magpie', 'messages', 'msgsPerSec'), v('ejabberd', 'messages', 'msgsPerSec')))}`);
  add('msgs/s >= 2x Prosody', cmp(v('magpie', 'messages', 'msgsPerSec'), v('prosody', 'messages', 'msgsPerSec'), (a, b) => a >= 2 * b),
    `ratio ${fmt(ratio(v('magpie', 'messages', 'msgsPerSec'), v('prosody', 'messages', 'msgsPerSec')))}`);
  add('CPU/msg <= 0.5x ejabberd', cmp(v('magpie', 'messages', 'serverCpuUsPerMsg'), v('ejabberd', 'messages', 'serverCpuUsPerMsg'), (a, b) => a <= 0.5 * b),
    `ratio ${fmt(ratio(v('magpie', 'messages', 'serverCpuUsPerMsg'), v('ejabberd', 'messages', 'serverCpuUsPerMsg')))}`);
  add('RSS/idle session <= ejabberd', cmp(v('magpie', 'idle', 'kibPerConn'), v('ejabberd', 'idle', 'kibPerConn'), (a, b) => a <= b),
    `ratio ${fmt(ratio(v('magpie', 'idle', 'kibPerConn'), v('ejabberd', 'idle', 'kibPerConn')))}`);
  add('RSS/idle session <= Prosody', cmp(v('magpie', 'idle', 'kibPerConn'), v('prosody', 'idle', 'kibPerConn'), (a, b) => a <= b),
    `ratio ${fmt(ratio(v('magpie', 'idle', 'kibPerConn'), v('prosody', 'idle', 'kibPerConn')))}`);
  return t;
}

function table(rows) {
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => '| ' + r.map((c, i) => (i === 0 ? String(c).padEnd(w[i]) : String(c).padStart(w[i]))).join(' | ') + ' |';
  return [line(rows[0]), '|' + w.map((n, i) => (i === 0 ? ':' + '-'.repeat(n + 1) : '-'.repeat(n + 1) + ':')).join('|') + '|', ...rows.slice(1).map(line)].join('\n');
}

function summaryTable(results, servers) {
  const head = ['metric', ...servers, ...(servers.includes('magpie') ? servers.filter((s) => s !== 'magpie').map((s) => `magpie/${s}`) : [])];
  const rows = [head];
  for (const [scen, field, label, unit, better] of METRICS) {
    if (!results[scen]) continue;
    const vals = servers.map((s) => {
      const r = results[scen][s];
      return r?.error ? 'failed' : fmt(val(results, s, scen, field));
    });
    const ratios = servers.includes('magpie') ? servers.filter((s) => s !== 'magpie').map((s) => fmt(ratio(val(results, 'magpie', scen, field), val(results, s, scen, field)))) : [];
    rows.push([`${label}${unit ? ` (${unit})` : ''} [${better}]`, ...vals, ...ratios]);
  }
  return table(rows);
}

function detailTable(results, servers) {
  const rows = [['detail', ...servers]];
  const add = (label, scen, f) => { if (results[scen]) rows.push([label, ...servers.map((s) => { const r = results[scen][s]; return r?.error ? 'failed' : r ? fmt(f(r)) : 'n/a'; })]); };
  add('logins: completed / failed', 'logins', (r) => `${r.logins} / ${r.failed}`);
  add('logins: server CPU cores busy', 'logins', (r) => r.serverCpuCores);
  add('logins: generator CPU share', 'logins', (r) => r.generatorCpuShare);
  add('logins: other processes CPU share', 'logins', (r) => r.otherCpuShare);
  add('idle: sessions open', 'idle', (r) => `${r.connected} (${r.failed} failed)`);
  add('idle: RSS before → after (MiB)', 'idle', (r) => `${r.rssBeforeMiB} → ${r.rssAfterMiB}`);
  add('idle: logins/s while opening', 'idle', (r) => r.connectsPerSec);
  add('msgs: clients online', 'messages', (r) => r.clients);
  add('msgs: server CPU cores busy', 'messages', (r) => r.serverCpuCores);
  add('msgs: generator CPU share', 'messages', (r) => r.generatorCpuShare);
  add('msgs: other processes CPU share', 'messages', (r) => r.otherCpuShare);
  add('msgs: latency p50 / p99 (ms)', 'messages', (r) => (r.latency ? `${r.latency.p50Ms} / ${r.latency.p99Ms}` : 'n/a'));
  add('msgs: lost / error stanzas', 'messages', (r) => `${r.lost} / ${r.errorStanzas}`);
  return table(rows);
}

function machine() {
  const sh = (c) => { try { return execFileSync('sh', ['-c', c], { encoding: 'utf8' }).trim(); } catch { return '?'; } };
  return {
    nproc: Number(sh('nproc')), cpuModel: cpus()[0]?.model ?? '?', memTotalGiB: round(totalmem() / 2 ** 30, 1), memFreeGiB: round(freemem() / 2 ** 30, 1),
    freeH: sh('free -h'), kernel: sh('uname -r'), node: process.version, loadavg: sh('cat /proc/loadavg'),
  };
}

function markdownSection(run) {
  const { results, servers, opts } = run;
  const lines = [];
  lines.push(`## ${run.date}${opts.note ? ` — ${opts.note}` : ''}`, '');
  lines.push('```', run.command, '```', '');
  lines.push(`Versions: ${servers.map((s) => `${s} ${run.versions[s]}`).join('; ')}. Load average at start: ${run.machine.loadavg}. ` +
    `Sizes: ${opts.logins} logins (${opts.loginConcurrency} in flight, ${opts.loginUsers} accounts), ${opts.idleConns} idle sessions, ` +
    `${opts.clients} clients × ${opts.msgSeconds} s (${opts.msgRate > 0 ? `open loop ${opts.msgRate} msg/s` : `closed loop, ${opts.msgWindow} in flight`}), ` +
    `${opts.procs} generator processes, ${opts.cert === 'ec' ? 'ECDSA P-256' : 'RSA 2048'} certificate. JSON: \`${run.jsonFile}\`.`, '');
  lines.push(summaryTable(results, servers), '');
  lines.push(detailTable(results, servers), '');
  const failures = [];
  for (const scen of Object.keys(results)) for (const s of servers) if (results[scen][s]?.error) failures.push(`- ${s} / ${scen}: ${results[scen][s].error.split('\n')[0]}`);
  if (failures.length) lines.push('Failures:', '', ...failures, '');
  lines.push('Targets (Magpie):', '');
  for (const t of run.targets) lines.push(`- ${t.met === null ? 'not measured' : t.met ? 'MET' : 'NOT MET'}: ${t.target} (${t.detail})`);
  lines.push('');
  return lines.join('\n');
}

const MD_HEADER = (m) => `# Benchmarks: Magpie vs Prosody vs ejabberd

Produced by \`npm run bench\` (\`scripts/bench.mjs\` → \`bench/run.mjs\`). Every run starts each server
fresh for every scenario, on loopback, from configuration generated into a temporary directory, and
drives all three with the same load generator (\`bench/load/\`: Node processes speaking XMPP over raw
\`net\`/\`tls\` sockets with Magpie's core SASL client). Each run appends a section below and writes
the full numbers to \`bench/results/<timestamp>.json\`.

## Method

- **Logins/s**: STARTTLS + SASL SCRAM-SHA-1 + resource binding on a fresh TCP connection, then
  \`</stream:stream>\` and close; 50 logins in flight (split over the generator processes) until the
  requested count. The generator caches each account's SCRAM SaltedPassword, so client-side PBKDF2
  runs once per account in an unmeasured warm-up pass (every account logs in once) and never in the
  measured part. TLS sessions are not resumed: every login is a full handshake. Server CPU per login
  is the server process's utime+stime (\`/proc/<pid>/stat\`) over the measured interval divided by
  the logins completed in it.
- **Memory per idle session**: after a warm-up of 500 logins and 5 s of quiet, VmRSS of the server
  process is read; then N sessions log in (STARTTLS, SCRAM-SHA-1, bind, no presence) and stay
  connected and silent; after a settle period VmRSS is read again. (after − before) / N.
- **Delivered messages/s**: N clients online (no presence, no roster), each message sent to the full
  JID of a random other client as a \`<message type='chat'>\` with a ~90-byte body. By default a
  closed loop keeps a fixed number of messages in flight (sent but not yet received) across the
  generator processes, so the generator sends exactly as fast as the server delivers; for that, each
  client picks its recipient among the clients of its own generator process (the server cannot tell
  the difference). A message counts only when the receiving client has read it (a marker in the
  body). Server CPU per message = server CPU time / messages delivered in the measured window. The
  generator's own CPU share (its processes' CPU time / wall time / cores) is reported so one can see
  whether it, rather than the server, was the limit. \`--msg-rate\` switches to an open loop at a
  fixed rate with recipients among all clients.
- The measured process is: Magpie's \`node\`, Prosody's \`lua5.4\`, ejabberd's \`beam.smp\`.
- The same self-signed certificate (ECDSA P-256 by default, \`--cert rsa\` for RSA 2048) is used by
  all three servers.
- Peers use their Debian packages' shipped configuration (module list included) except for what
  would throttle a benchmark: Prosody without \`mod_limits\`, \`tcp_backlog\` 4096, in-band
  registration on (for account creation); ejabberd with the c2s shaper off, without
  \`mod_fail2ban\` and \`mod_pres_counter\`, listener backlog 4096, \`max_fsm_queue\` 100000,
  \`cache_size\` 100000, SCRAM password storage (Debian's default), \`mod_http_api\` for account
  creation. Magpie: the example configuration from the task with raised limits
  (\`maxConnectionsPerAddress\`, auth throttling, timeouts). Nothing is tuned below its default.
- Accounts: Magpie through its storage API (bench/servers/magpie-users.mjs), Prosody through XEP-0077
  in-band registration, ejabberd through \`/api/register\`.

## Machine and comparability

${m.nproc} cores (${m.cpuModel}), shared with other services (databases, brokers) running on the
same host; load generator and server share those cores. Memory:

\`\`\`
${m.freeH}
\`\`\`

Only ratios between servers **within one run** are comparable; absolute numbers move with the
machine's other load from run to run.

Targets (from the issue): more logins/s and messages/s than ejabberd and at least 2× Prosody's; at
most half of ejabberd's server CPU per delivered message; no more memory per idle connection than
either.

`;

// ---- main --------------------------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-').replace('Z', 'Z');
  const tmp = mkdtempSync('/tmp/magpie-bench-');
  chmodSync(tmp, 0o755);
  onCleanup(async () => { if (o.keep) log(`kept ${tmp}`); else rmSync(tmp, { recursive: true, force: true }); });
  log(`temporary directory ${tmp}`);

  // One certificate for every server.
  const cert = join(tmp, 'cert.pem'), key = join(tmp, 'key.pem');
  const keyArgs = o.cert === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'] : ['-newkey', 'rsa:2048'];
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '7', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'ignore' });
  chmodSync(key, 0o644); // ejabberd runs as its own user; a throwaway key

  const ctx = { dir: tmp, cert, key, portBase: o.portBase, password: o.password };
  const servers = o.servers.map((n) => new SERVERS[n](ctx));
  const versions = Object.fromEntries(servers.map((s) => [s.name, s.version()]));
  const run = {
    date: startedAt.toISOString(), command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(), opts: o,
    machine: machine(), versions, servers: o.servers, setup: {}, results: {},
  };
  log(`machine: ${run.machine.nproc} cores, load ${run.machine.loadavg}`);

  const gen = new GenPool(o.procs);
  await gen.start();

  const nUsers = Math.max(o.only.includes('idle') ? o.idleConns : 0, o.only.includes('messages') ? o.clients : 0,
    o.only.includes('logins') ? Math.max(o.loginUsers, o.loginConcurrency * 2) : 0, 2);
  for (const s of servers) {
    log(`${s.name}: creating ${nUsers} accounts`);
    const t0 = Date.now();
    try {
      const r = await s.prepare(nUsers, gen);
      run.setup[s.name] = { accounts: nUsers, seconds: round((Date.now() - t0) / 1000, 1), result: r };
      log(`${s.name}: accounts ready in ${run.setup[s.name].seconds} s`);
    } catch (e) {
      run.setup[s.name] = { error: String(e?.stack ?? e) };
      log(`${s.name}: SETUP FAILED: ${e?.message ?? e}\n${s.logTail?.(20) ?? ''}`);
    }
  }

  for (const scen of o.only) {
    run.results[scen] = {};
    for (const s of servers) {
      if (run.setup[s.name]?.error) { run.results[scen][s.name] = { error: 'setup failed' }; continue; }
      log(`${scen} / ${s.name}: starting server`);
      try {
        await s.start();
        await gen.all('config', () => ({ name: s.name, host: s.host, port: s.port, domain: s.domain, password: o.password }));
        const r = await SCENARIOS[scen](s, gen, o);
        run.results[scen][s.name] = r;
        log(`${scen} / ${s.name}: ${JSON.stringify(r)}`);
      } catch (e) {
        run.results[scen][s.name] = { error: String(e?.stack ?? e) };
        log(`${scen} / ${s.name}: FAILED: ${e?.message ?? e}\n--- server log tail ---\n${s.logTail?.(20) ?? ''}`);
        await gen.all('closeAll', () => ({ graceMs: 2000 }), 60000).catch(() => {});
      } finally {
        await s.stop();
      }
      await sleep(2000);
    }
  }
  await gen.stop();

  run.targets = evaluateTargets(run.results);
  run.finishedAt = new Date().toISOString();
  mkdirSync(o.results, { recursive: true });
  run.jsonFile = join(o.results, `${stamp}.json`).replace(process.cwd() + '/', '');
  writeFileSync(join(o.results, `${stamp}.json`), JSON.stringify(run, null, 2) + '\n');

  console.log('\n' + summaryTable(run.results, o.servers) + '\n\n' + detailTable(run.results, o.servers) + '\n');
  for (const t of run.targets) console.log(`${t.met === null ? 'not measured' : t.met ? 'MET    ' : 'NOT MET'}  ${t.target} (${t.detail})`);
  console.log(`\nJSON: ${run.jsonFile}`);
  if (o.md) {
    if (!existsSync(o.md)) writeFileSync(o.md, MD_HEADER(run.machine));
    appendFileSync(o.md, '\n' + markdownSection(run));
    console.log(`appended to ${o.md}`);
  }
}

let exiting = false;
async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  await cleanupAll();
  process.exit(code);
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { console.error(`\n${sig}: stopping servers and cleaning up`); shutdown(130); });
process.on('uncaughtException', (e) => { console.error(e); shutdown(1); });
process.on('unhandledRejection', (e) => { console.error(e); shutdown(1); });

main().then(() => shutdown(0), (e) => { console.error(e?.stack ?? e); shutdown(1); });
