// Presence-heavy logins: N users (default 1,000), each with C roster contacts (default 50:
// user i ↔ users i±1..i±C/2 modulo N, subscription 'both' on both sides), all log in (STARTTLS +
// SCRAM-SHA-1 + bind, `--login-concurrency` in flight), send initial presence right after bind and
// stay online. The server answers each login's probes for contacts already online and broadcasts
// the new presence to them.
//
// Rosters are written without XMPP, with the server stopped: Magpie through its storage API
// (bench/servers/magpie-rosters.mjs), Prosody as the files of its 'internal' storage
// (<data>/<host>/roster/<user>.dat). The scenario therefore restarts the server that bench/run.mjs
// started for it: stop, write the rosters (first round only), start fresh.
//
// It drives its own generator processes (bench/load/presence-worker.mjs, same IPC protocol as
// worker.mjs) so the shared worker stays untouched.

import { fork, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GenPool, sum } from '../lib/gen.mjs';
import { assertRunning, cpuMs, onCleanup, sleep, systemCpu, terminate, waitQuiet } from '../lib/proc.mjs';

const WORKER = fileURLToPath(new URL('../load/presence-worker.mjs', import.meta.url));
const ROSTERS = fileURLToPath(new URL('../servers/magpie-rosters.mjs', import.meta.url));
const round = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);

let pool = null;
const rostersWritten = new Set();

/** Contacts of user i (1-based): i±1..i±half modulo total. */
function contactsOf(i, total, half) {
  const out = [];
  for (let d = 1; d <= half; d++) out.push(((i - 1 + d) % total) + 1, ((i - 1 - d + total) % total) + 1);
  return out;
}

/** Prosody's datamanager encoding of host and user names (every non-alphanumeric → %xx). */
const prosodyEncode = (s) => s.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
const luaStr = (s) => JSON.stringify(s); // plain ASCII JIDs: a JSON string is a valid Lua string

function writeProsodyRosters(server, total, half) {
  const dir = join(server.dir, 'data', prosodyEncode(server.domain), 'roster');
  mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= total; i++) {
    const lines = ['return {', '\t[false] = {', '\t\t["version"] = 1;', '\t\t["pending"] = {};', '\t};'];
    for (const j of contactsOf(i, total, half)) {
      lines.push(`\t[${luaStr(`user${j}@${server.domain}`)}] = {`, '\t\t["subscription"] = "both";', '\t\t["groups"] = {};', '\t};');
    }
    lines.push('};', '');
    writeFileSync(join(dir, `${prosodyEncode(`user${i}`)}.dat`), lines.join('\n'));
  }
  return { users: total, items: total * 2 * half };
}

async function writeMagpieRosters(server, total, half) {
  assertRunning();
  const child = spawn(process.execPath, [ROSTERS, join(server.dir, 'config.json'), String(total), String(half)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const kill = onCleanup(() => terminate(child.pid, { graceMs: 2000 }));
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => child.on('close', resolve));
  await kill();
  if (code !== 0) throw new Error(`magpie-rosters.mjs exited with ${code}`);
  return JSON.parse(out.trim().split('\n').pop());
}


const genUs = (snaps) => snaps.reduce((a, s) => a + s.cpu.user + s.cpu.system, 0);
async function snapshot(server) {
  const g = await pool.all('snap');
  return { g, c: cpuMs(server.pid), sys: systemCpu(), t: performance.now() };
}
function shares(a, b) {
  const wall = (b.t - a.t) / 1000, n = cpus().length;
  const srv = b.c - a.c, gen = (genUs(b.g) - genUs(a.g)) / 1000, soft = b.sys.softirq - a.sys.softirq;
  const other = b.sys.busy - a.sys.busy - srv - gen - soft;
  const f = (ms) => round(ms / 1000 / wall / n, 3);
  return { server: f(srv), generator: f(gen), softirq: f(soft), other: f(other) };
}

export async function scenarioPresence(server, _gen, o) {
  const total = o.presenceUsers ?? 1000;
  const half = Math.floor((o.presenceContacts ?? 50) / 2);
  if (2 * half >= total) throw new Error('presence: contacts must be fewer than users');
  if (server.name !== 'magpie' && server.name !== 'prosody') throw new Error(`presence: not implemented for ${server.name} (rosters are written for magpie and prosody only)`);

  // Rosters are written offline: stop the server run.mjs started, write them once, start fresh.
  await server.stop();
  let rosterSetup = null;
  if (!rostersWritten.has(server.name)) {
    const t0 = Date.now();
    const r = server.name === 'magpie' ? await writeMagpieRosters(server, total, half) : writeProsodyRosters(server, total, half);
    rosterSetup = { ...r, seconds: round((Date.now() - t0) / 1000, 1) };
    rostersWritten.add(server.name);
  }
  await server.start();

  if (!pool) { pool = new GenPool(o.procs, WORKER); await pool.start(); }
  await pool.all('config', () => ({ name: server.name, host: server.host, port: server.port, domain: server.domain, password: o.password }));

  // Unmeasured warm-up: every account logs in once without presence (generator SCRAM cache,
  // server caches and JIT), then the measured logins with presence.
  const warm = await pool.all('warm', (k) => ({ users: pool.usersOf(k, 1, total), concurrency: pool.share(o.loginConcurrency, k) }), 600000);
  if (sum(warm, 'failed')) throw new Error(`warm-up: ${sum(warm, 'failed')} logins failed: ${warm.flatMap((r) => r.errors).slice(0, 2).join(' | ')}`);
  await sleep(2000);
  const quietBefore = await waitQuiet(o.quietWait);

  try {
    const s0 = await snapshot(server);
    const rs = await pool.all('online', (k) => ({ users: pool.usersOf(k, 1, total), concurrency: pool.share(o.loginConcurrency, k), resource: 'p' }), 1200000);
    const s1 = await snapshot(server);
    const connected = sum(rs, 'connected'), failed = sum(rs, 'failed');
    if (!connected) throw new Error(`no login succeeded: ${rs.flatMap((r) => r.errors).slice(0, 3).join(' | ')}`);
    const firstStart = Math.min(...rs.map((r) => r.firstStart ?? Infinity));
    const lastPresence = Math.max(...rs.map((r) => r.lastPresence ?? -Infinity));
    const loginSeconds = (lastPresence - firstStart) / 1000;

    // Let the broadcasts and probe answers finish: until every expected presence arrived, or
    // nothing new arrived for 3 s (bounded at 60 s).
    const expected = connected * 2 * half;
    let s2 = s1, last = sum(s1.g, 'presences'), stableSince = performance.now();
    for (let i = 0; i < 240; i++) {
      await sleep(250);
      s2 = await snapshot(server);
      const p = sum(s2.g, 'presences');
      if (p !== last) { last = p; stableSince = performance.now(); }
      if (sum(s2.g, 'available') >= expected && performance.now() - stableSince > 1000) break;
      if (performance.now() - stableSince > 3000) break;
    }
    const checks = await pool.all('check', () => ({ total, half }));
    const srvMs = s2.c - s0.c;
    return {
      users: total, contactsPerUser: 2 * half, logins: connected, failed, errors: rs.flatMap((r) => r.errors).slice(0, 5),
      loginSeconds: round(loginSeconds, 2), loginsPerSec: round(connected / loginSeconds, 1),
      serverCpuMsPerLogin: round(srvMs / connected, 3),
      serverCpuMsLoginWindow: round(s1.c - s0.c, 0), serverCpuMsTotal: round(srvMs, 0),
      settleSeconds: round((s2.t - s1.t) / 1000, 2),
      presences: sum(s2.g, 'presences'), availableFromContacts: sum(s2.g, 'available'), selfPresences: sum(s2.g, 'selfPresences'),
      unavailable: sum(s2.g, 'unavailable'), errorStanzas: sum(s2.g, 'errs'),
      presencesPerLogin: round(sum(s2.g, 'presences') / connected, 1),
      expectedContactPresences: sum(checks, 'expected'), missingContactPresences: sum(checks, 'missing'),
      sessionsComplete: sum(checks, 'complete'), sessionsChecked: sum(checks, 'sessions'),
      missingExamples: checks.flatMap((c) => c.examples).slice(0, 5), sessionsClosedByServer: sum(s2.g, 'closed'),
      cpuShare: shares(s0, s1), cpuShareWithSettle: shares(s0, s2), quietBefore, rosterSetup,
    };
  } finally {
    await pool.all('closeAll', () => ({ graceMs: 10000 }), 120000).catch(() => {});
  }
}

export async function stopPresencePool() {
  if (pool) { await pool.stop(); pool = null; }
}
