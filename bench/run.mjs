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
import { allProcessesCpu, cleanupAll, cpuMs, onCleanup, rssKiB, sleep, systemCpu, topOthers, waitQuiet } from './lib/proc.mjs';
import { SERVERS } from './servers/servers.mjs';
import { scenarioPresence } from './scenarios/presence.mjs';

const BENCH = new URL('./', import.meta.url).pathname;

// ---- options -----------------------------------------------------------------------------------

const DEFAULTS = {
  only: 'logins,idle,messages',
  rounds: 3,                // logins and messages run this many times per server (median reported)
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
  presenceUsers: 1000,      // presence scenario: users online, each with --presence-contacts contacts
  presenceContacts: 50,
  quietWait: 60,            // seconds to wait, at most, for the shared machine to go quiet before each run
  cert: 'ec',               // ec (P-256) or rsa (2048)
  portBase: 15000,
  password: 'bench-Passw0rd',
  results: join(BENCH, 'results'),
  render: '',               // re-report a past run from its JSON instead of measuring
  md: join(BENCH, 'RESULTS.md'),
  keep: false,
  note: '',
  magpieDisable: '',        // Magpie modules to leave out (e.g. mam: the peers' Debian configs archive nothing)
};

const HELP = `Usage: npm run bench -- [options]
Runs as root (ejabberdctl switches to the ejabberd user by itself; Prosody gets run_as_root).
  --only LIST             scenarios: logins,idle,messages (default all)
  --servers LIST          magpie,prosody,ejabberd (default all)
  --rounds N              repeat logins and messages N times per server, servers interleaved,
                          and report the median (default ${DEFAULTS.rounds}; idle runs once)
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
  --presence-users N      presence scenario (--only presence): users logging in with presence (default ${DEFAULTS.presenceUsers})
  --presence-contacts N   roster contacts per user, subscription both (default ${DEFAULTS.presenceContacts})
  --quiet-wait S          before each run, wait up to S s for other load on the machine to drop
                          below 15% of the cores (default ${DEFAULTS.quietWait}; 0 = don't wait)
  --cert ec|rsa           server certificate key type, same for all servers (default ${DEFAULTS.cert})
  --port-base N           ports N+222.. (magpie), N+322 (prosody), N+422.. (ejabberd) (default ${DEFAULTS.portBase})
  --results DIR           where <timestamp>.json goes (default bench/results)
  --md FILE               results log to append to (default bench/RESULTS.md; --no-md to skip)
  --note TEXT             a note recorded with the results
  --magpie-disable LIST   Magpie modules not to load (e.g. mam, to match peers that archive nothing)
  --render FILE.json      do not measure: print the tables of a past run and append it to --md
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
  for (const s of o.only) if (!['logins', 'idle', 'messages', 'presence'].includes(s)) throw new Error(`unknown scenario ${s}`);
  for (const s of o.servers) if (!SERVERS[s]) throw new Error(`unknown server ${s}`);
  if (!['ec', 'rsa'].includes(o.cert)) throw new Error('--cert must be ec or rsa');
  if (o.rounds < 1 || o.rounds > 20) throw new Error('--rounds must be 1..20');
  if (o.procs < 1 || o.procs > 16) throw new Error('--procs must be 1..16');
  if (o.idleConns / o.procs > 15000) throw new Error('too many idle sessions per generator process (open-files limit): raise --procs');
  return o;
}

const log = (...a) => console.log(`[${new Date().toISOString().slice(11, 19)}]`, ...a);

// ---- measurement helpers -----------------------------------------------------------------------

const round = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
const genCpuUs = (snaps) => snaps.reduce((a, s) => a + s.cpu.user + s.cpu.system, 0);

/**
 * A measured interval: server process CPU, generator processes CPU (their own process.cpuUsage),
 * machine-wide busy and softirq time, and the other processes that were busy meanwhile (the
 * machine is shared, so a run can be disturbed by someone else's job; this makes it visible).
 */
async function meterStart(server, gen, snapArgs = {}) {
  const g = await gen.all('snap', () => snapArgs);
  return { g, sys: systemCpu(), procs: allProcessesCpu(), c: cpuMs(server.pid), t: performance.now() };
}
async function meterEnd(m0, server, gen, snapArgs = {}) {
  // Same order as meterStart (generator first), so every counter covers the same interval give
  // or take one IPC round trip.
  const g = await gen.all('snap', () => snapArgs);
  const c = cpuMs(server.pid), sys = systemCpu(), procs = allProcessesCpu(), t = performance.now();
  const wall = (t - m0.t) / 1000, cores = cpus().length;
  const serverMs = c - m0.c, genMs = (genCpuUs(g) - genCpuUs(m0.g)) / 1000;
  const softirqMs = sys.softirq - m0.sys.softirq;
  const otherMs = sys.busy - m0.sys.busy - serverMs - genMs - softirqMs;
  const exclude = new Set([server.pid, ...gen.pids(), process.pid]);
  return {
    wall, serverMs, g,
    cpuShare: { // of all cores, over the interval
      server: round(serverMs / 1000 / wall / cores, 3), generator: round(genMs / 1000 / wall / cores, 3),
      softirq: round(softirqMs / 1000 / wall / cores, 3), other: round(otherMs / 1000 / wall / cores, 3),
    },
    busiestOthers: topOthers(m0.procs, procs, exclude, wall, 3),
  };
}

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
  await sleep(1000);
  const quietBefore = await waitQuiet(o.quietWait, log);
  const m0 = await meterStart(server, gen);
  const rs = await gen.all('logins', (k) => ({
    users: gen.usersOf(k, 1, users), concurrency: gen.share(o.loginConcurrency, k),
    count: gen.share(o.logins, k), durationMs: o.loginSeconds * 1000, resourcePrefix: 'L',
  }), (o.loginSeconds + 120) * 1000);
  const m = await meterEnd(m0, server, gen);
  const done = sum(rs, 'done'), failed = sum(rs, 'failed');
  if (!done) throw new Error(`no login succeeded: ${rs.flatMap((r) => r.errors).slice(0, 3).join(' | ')}`);
  return {
    logins: done, failed, errors: rs.flatMap((r) => r.errors).slice(0, 5), seconds: round(m.wall, 2),
    loginsPerSec: round(done / m.wall, 1),
    serverCpuMsPerLogin: round(m.serverMs / done, 3),
    cpuShare: m.cpuShare, busiestOthers: m.busiestOthers, quietBefore,
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
    kibPerConn: round((after - before) / connected, 2),
    generatorRssMiB: round(snaps.reduce((a, x) => a + x.mem, 0) / 2 ** 20, 1),
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
  await sleep(1000);
  const quietBefore = await waitQuiet(o.quietWait, log);
  const mode = o.msgRate > 0 ? 'rate' : 'window';
  await gen.all('msgStart', (k) => ({ mode, window: Math.max(1, gen.share(o.msgWindow, k)), rate: gen.share(o.msgRate, k), globalUsers: o.clients, resource: 'm' }));
  await sleep(o.msgWarmup * 1000);
  const m0 = await meterStart(server, gen, { resetLatency: true, sampling: true });
  await sleep(o.msgSeconds * 1000);
  const m = await meterEnd(m0, server, gen, { sampling: false });
  await gen.all('msgStop');
  // Drain: wait (bounded) until everything sent has arrived, to report losses.
  let s2;
  for (let i = 0; i < 20; i++) {
    await sleep(500);
    s2 = await gen.all('snap');
    if (sum(s2, 'recv') >= sum(s2, 'sent')) break;
  }
  const delivered = sum(m.g, 'recv') - sum(m0.g, 'recv');
  if (!delivered) throw new Error('no message was delivered');
  const res = {
    mode, window: mode === 'window' ? o.msgWindow : null, targetRate: mode === 'rate' ? o.msgRate : null,
    clients: connected, seconds: round(m.wall, 2),
    sent: sum(m.g, 'sent') - sum(m0.g, 'sent'), delivered,
    msgsPerSec: round(delivered / m.wall, 1),
    serverCpuUsPerMsg: round((m.serverMs * 1000) / delivered, 2),
    cpuShare: m.cpuShare, busiestOthers: m.busiestOthers, quietBefore,
    latency: mergeLatency(m.g),
    totalSent: sum(s2, 'sent'), totalReceived: sum(s2, 'recv'), lost: sum(s2, 'sent') - sum(s2, 'recv'),
    errorStanzas: sum(s2, 'errs'), skippedBackpressure: sum(s2, 'skipped'), sessionsOpenAtEnd: sum(s2, 'open'),
  };
  await gen.all('closeAll', () => ({ graceMs: 10000 }), 120000);
  return res;
}

const SCENARIOS = { logins: scenarioLogins, idle: scenarioIdle, messages: scenarioMessages, presence: scenarioPresence };

// ---- report ------------------------------------------------------------------------------------

const METRICS = [
  // [scenario, field, label, unit, better]
  ['logins', 'loginsPerSec', 'logins/s', '', 'higher'],
  ['logins', 'serverCpuMsPerLogin', 'server CPU per login', 'ms', 'lower'],
  ['idle', 'kibPerConn', 'RSS per idle session', 'KiB', 'lower'],
  ['messages', 'msgsPerSec', 'delivered msgs/s', '', 'higher'],
  ['messages', 'serverCpuUsPerMsg', 'server CPU per msg', 'µs', 'lower'],
  ['presence', 'loginsPerSec', 'presence logins/s', '', 'higher'],
  ['presence', 'serverCpuMsPerLogin', 'server CPU per presence login', 'ms', 'lower'],
];

const PRIMARY = { logins: 'loginsPerSec', idle: 'kibPerConn', messages: 'msgsPerSec', presence: 'loginsPerSec' };
const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};

/** One result per server and scenario: the median round, with each headline metric's own median. */
function aggregate(scen, list) {
  const ok = list.filter((r) => !r.error);
  if (list.length === 1) return list[0];
  if (!ok.length) return { error: list[0]?.error ?? 'no result', rounds: list };
  const sorted = ok.slice().sort((a, b) => a[PRIMARY[scen]] - b[PRIMARY[scen]]);
  const out = { ...sorted[Math.floor((sorted.length - 1) / 2)], roundsOk: ok.length, roundsFailed: list.length - ok.length, rounds: list };
  for (const [sc, field] of METRICS) if (sc === scen) out[field] = round(median(ok.map((r) => r[field])), 3);
  return out;
}

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
  // An open-loop run offers the same fixed rate to every server: its msgs/s says nothing about capacity.
  const paced = Object.values(results.messages ?? {}).some((r) => r?.mode === 'rate');
  const tput = (a, b, f) => (paced ? null : cmp(a, b, f));
  const pacedNote = paced ? 'not applicable: open loop at a fixed rate; ' : '';
  add('msgs/s > ejabberd', tput(v('magpie', 'messages', 'msgsPerSec'), v('ejabberd', 'messages', 'msgsPerSec'), (a, b) => a > b),
    `${pacedNote}ratio ${fmt(ratio(v('magpie', 'messages', 'msgsPerSec'), v('ejabberd', 'messages', 'msgsPerSec')))}`);
  add('msgs/s >= 2x Prosody', tput(v('magpie', 'messages', 'msgsPerSec'), v('prosody', 'messages', 'msgsPerSec'), (a, b) => a >= 2 * b),
    `${pacedNote}ratio ${fmt(ratio(v('magpie', 'messages', 'msgsPerSec'), v('prosody', 'messages', 'msgsPerSec')))}`);
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
  const perRound = (f, d) => (r) => (r.rounds ? r.rounds.map((x) => (x.error ? 'failed' : fmt(round(x[f], d)))).join(' / ') : fmt(r[f]));
  const shares = (r) => (r.cpuShare ? `${r.cpuShare.server} / ${r.cpuShare.generator} / ${r.cpuShare.softirq} / ${r.cpuShare.other}` : 'n/a');
  add('logins: logins/s in each round', 'logins', perRound('loginsPerSec', 0));
  add('logins: CPU ms/login in each round', 'logins', perRound('serverCpuMsPerLogin', 2));
  add('logins: CPU share srv/gen/softirq/other', 'logins', shares);
  add('idle: sessions open', 'idle', (r) => `${r.connected} (${r.failed} failed)`);
  add('idle: RSS before → after (MiB)', 'idle', (r) => `${r.rssBeforeMiB} → ${r.rssAfterMiB}`);
  add('idle: logins/s while opening', 'idle', (r) => r.connectsPerSec);
  add('msgs: clients online', 'messages', (r) => r.clients);
  add('msgs: msgs/s in each round', 'messages', perRound('msgsPerSec', 0));
  add('msgs: CPU µs/msg in each round', 'messages', perRound('serverCpuUsPerMsg', 1));
  add('msgs: CPU share srv/gen/softirq/other', 'messages', shares);
  add('msgs: latency p50 / p99 (ms)', 'messages', (r) => (r.latency ? `${r.latency.p50Ms} / ${r.latency.p99Ms}` : 'n/a'));
  add('msgs: lost / error stanzas', 'messages', (r) => `${r.lost} / ${r.errorStanzas}`);
  add('presence: logins / failed', 'presence', (r) => `${r.logins} / ${r.failed}`);
  add('presence: logins/s in each round', 'presence', perRound('loginsPerSec', 0));
  add('presence: CPU ms/login in each round', 'presence', perRound('serverCpuMsPerLogin', 2));
  add('presence: CPU share srv/gen/softirq/other', 'presence', shares);
  add('presence: stanzas received (per login)', 'presence', (r) => `${fmt(r.presences)} (${r.presencesPerLogin})`);
  add('presence: contacts missing / expected', 'presence', (r) => `${r.missingContactPresences} / ${r.expectedContactPresences}`);
  return table(rows);
}

function machine() {
  const sh = (c) => { try { return execFileSync('sh', ['-c', c], { encoding: 'utf8' }).trimEnd(); } catch { return '?'; } };
  return {
    nproc: Number(sh('nproc')), cpuModel: cpus()[0]?.model ?? '?', memTotalGiB: round(totalmem() / 2 ** 30, 1), memFreeGiB: round(freemem() / 2 ** 30, 1),
    freeH: sh('free -h'), kernel: sh('uname -r'), node: process.version, loadavg: sh('cat /proc/loadavg').split(' ').slice(0, 3).join(' '),
  };
}

function markdownSection(run) {
  const { results, servers, opts } = run;
  const lines = [];
  lines.push(`## ${run.date}${opts.note ? ` — ${opts.note}` : ''}`, '');
  lines.push('```', run.command, '```', '');
  lines.push(`Versions: ${servers.map((s) => `${s} ${run.versions[s]}`).join('; ')}. Load average at start: ${run.machine.loadavg}. ` +
    `Sizes: ${[
      opts.only.includes('logins') && `${opts.logins} logins (${opts.loginConcurrency} in flight, ${opts.loginUsers} accounts)`,
      opts.only.includes('idle') && `${opts.idleConns} idle sessions`,
      opts.only.includes('messages') && `${opts.clients} clients × ${opts.msgSeconds} s (${opts.msgRate > 0 ? `open loop ${opts.msgRate} msg/s` : `closed loop, ${opts.msgWindow} in flight`})`,
    ].filter(Boolean).join(', ')}, ${opts.procs} generator processes, ${opts.cert === 'ec' ? 'ECDSA P-256' : 'RSA 2048'} certificate; ` +
    `logins and messages: median of ${opts.rounds} round(s), servers interleaved. JSON: \`${run.jsonFile}\`.`, '');
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

const MD_HEADER = (run, m = run.machine) => `# Benchmarks: Magpie vs Prosody vs ejabberd

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
  body). Server CPU per message = server CPU time / messages delivered in the measured window.
  \`--msg-rate\` switches to an open loop at a fixed rate with recipients among all clients.
- The measured process is: Magpie's \`node\`, Prosody's \`lua5.4\`, ejabberd's \`beam.smp\`.
- Logins and messages run several rounds (\`--rounds\`, default 3) with the servers interleaved
  (order rotated each round); the tables give the median, the detail rows every round.
- The machine is shared with other jobs. Before each measured window the script waits (up to
  \`--quiet-wait\` s) until the machine is nearly idle, and every window records how the CPU was
  split: "srv/gen/softirq/other" = server process / load generator / interrupt-context work
  (loopback networking) / everything else, each as a share of all cores. A large "other" means
  someone else's job ran during that window; such rounds are the ones the median is there to absorb.
  "other" is derived (busy − server − generator − softirq) and can be slightly negative, because
  the kernel also charges softirq ticks taken in a process's context to that process.
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

\`nproc\`: ${m.nproc} (${m.cpuModel}), kernel ${m.kernel}; the cores are shared with other services
(databases, brokers) and other people's jobs on the same host, and the load generator runs on them
too. Software when this file was created: node ${m.node}; ${Object.entries(run.versions).map(([k, v]) => `${k} ${v}`).join('; ')}
(each run's section repeats the versions it measured). \`free -h\`:

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

function report(run, md) {
  console.log('\n' + summaryTable(run.results, run.servers) + '\n\n' + detailTable(run.results, run.servers) + '\n');
  for (const t of run.targets) console.log(`${t.met === null ? 'not measured' : t.met ? 'MET    ' : 'NOT MET'}  ${t.target} (${t.detail})`);
  console.log(`\nJSON: ${run.jsonFile}`);
  if (md) {
    if (!existsSync(md)) writeFileSync(md, MD_HEADER(run));
    appendFileSync(md, '\n' + markdownSection(run));
    console.log(`appended to ${md}`);
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.render) {
    const run = JSON.parse(readFileSync(o.render, 'utf8'));
    run.targets = evaluateTargets(run.results);
    report(run, o.md);
    return;
  }
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

  const ctx = { dir: tmp, cert, key, portBase: o.portBase, password: o.password, magpieDisable: o.magpieDisable.split(',').map((s) => s.trim()).filter(Boolean) };
  const servers = o.servers.map((n) => new SERVERS[n](ctx));
  const versions = Object.fromEntries(servers.map((s) => [s.name, s.version()]));
  const run = {
    date: startedAt.toISOString(), command: ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])]
      .map((a, i) => (i > 0 && /[\s'"$]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a)).join(' '), opts: o,
    machine: machine(), versions, servers: o.servers, setup: {}, results: {},
  };
  log(`machine: ${run.machine.nproc} cores, load ${run.machine.loadavg}`);

  const gen = new GenPool(o.procs);
  await gen.start();

  const nUsers = Math.max(o.only.includes('idle') ? o.idleConns : 0, o.only.includes('messages') ? o.clients : 0,
    o.only.includes('logins') ? Math.max(o.loginUsers, o.loginConcurrency * 2) : 0, o.only.includes('presence') ? o.presenceUsers : 0, 2);
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
    const rounds = scen === 'idle' ? 1 : o.rounds;
    const perServer = Object.fromEntries(servers.map((s) => [s.name, []]));
    for (let rnd = 0; rnd < rounds; rnd++) {
      // Rotate the order every round so that no server always runs first or last.
      const order = servers.map((_, i) => servers[(i + rnd) % servers.length]);
      for (const s of order) {
        if (run.setup[s.name]?.error) { perServer[s.name].push({ error: 'setup failed' }); continue; }
        const tag = `${scen}${rounds > 1 ? ` #${rnd + 1}` : ''} / ${s.name}`;
        log(`${tag}: starting server`);
        try {
          await s.start();
          await gen.all('config', () => ({ name: s.name, host: s.host, port: s.port, domain: s.domain, password: o.password }));
          const r = await SCENARIOS[scen](s, gen, o);
          perServer[s.name].push(r);
          log(`${tag}: ${JSON.stringify(r)}`);
        } catch (e) {
          perServer[s.name].push({ error: String(e?.stack ?? e) });
          log(`${tag}: FAILED: ${e?.message ?? e}\n--- server log tail ---\n${s.logTail?.(20) ?? ''}`);
          await gen.all('closeAll', () => ({ graceMs: 2000 }), 60000).catch(() => {});
        } finally {
          await s.stop();
        }
        await sleep(2000);
      }
    }
    run.results[scen] = Object.fromEntries(servers.map((s) => [s.name, aggregate(scen, perServer[s.name])]));
  }
  await gen.stop();

  run.targets = evaluateTargets(run.results);
  run.finishedAt = new Date().toISOString();
  mkdirSync(o.results, { recursive: true });
  run.jsonFile = join(o.results, `${stamp}.json`).replace(process.cwd() + '/', '');
  writeFileSync(join(o.results, `${stamp}.json`), JSON.stringify(run, null, 2) + '\n');

  report(run, o.md);
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
