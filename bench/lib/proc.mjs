// Process bookkeeping for the benchmark: CPU time and resident memory from /proc, finding a
// process by its command line, waiting for a TCP port, and a registry of everything started so
// that one cleanup path can stop it all (normal end, failure, Ctrl-C).

import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import { cpus } from 'node:os';

export const CLK_TCK = 100; // getconf CLK_TCK on Linux/x86_64
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** utime + stime of a whole process (all its threads, dead or alive), in milliseconds. */
export function cpuMs(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is f[0]; utime is field 14 → f[11], stime field 15 → f[12].
  return (Number(f[11]) + Number(f[12])) * (1000 / CLK_TCK);
}

/**
 * Machine-wide CPU time in milliseconds from /proc/stat: `busy` (everything but idle and iowait)
 * and `softirq` (interrupt-context work such as loopback packet processing, which no process is
 * charged for).
 */
export function systemCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  return { busy: (total - f[3] - f[4]) * (1000 / CLK_TCK), softirq: (f[5] + f[6]) * (1000 / CLK_TCK) };
}

/** CPU time (ms) of every process on the machine: Map pid → { comm, ms }. */
export function allProcessesCpu() {
  const out = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')'));
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), { comm, ms: (Number(f[11]) + Number(f[12])) * (1000 / CLK_TCK) });
    } catch { /* gone */ }
  }
  return out;
}

/** The processes, other than `exclude`, that used the most CPU between two allProcessesCpu() maps. */
export function topOthers(before, after, exclude, wallS, n = 3) {
  const rows = [];
  for (const [pid, a] of after) {
    if (exclude.has(pid)) continue;
    const ms = a.ms - (before.get(pid)?.ms ?? 0);
    if (ms > 0) rows.push({ pid, comm: a.comm, cores: Math.round((ms / 1000 / wallS) * 1000) / 1000 });
  }
  return rows.sort((x, y) => y.cores - x.cores).slice(0, n);
}

/** VmRSS in KiB. */
export function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

export function alive(pid) {
  try { process.kill(pid, 0); } catch (e) { return e.code === 'EPERM'; }
  try { return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

export function comm(pid) {
  try { return readFileSync(`/proc/${pid}/comm`, 'utf8').trim(); } catch { return undefined; }
}

/** Pids whose comm equals `name` and whose command line contains `needle`. */
export function findProcesses(name, needle) {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== name) continue;
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) out.push(Number(d));
    } catch { /* gone */ }
  }
  return out;
}

export function portOpen(port, host = '127.0.0.1', ms = 1000) {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (v) => { clearTimeout(t); s.destroy(); resolve(v); };
    const t = setTimeout(() => done(false), ms);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export async function waitForPort(port, { timeoutMs = 60000, isAlive = () => true, what = `port ${port}` } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await portOpen(port)) return;
    if (!isAlive()) throw new Error(`${what}: process exited before listening`);
    await sleep(200);
  }
  throw new Error(`${what}: not listening after ${timeoutMs} ms`);
}

// ---- cleanup registry --------------------------------------------------------------------------

const cleanups = [];
let shuttingDown = false;
/** Throws once cleanup has begun, so nothing new is started while everything is being stopped. */
export function assertRunning() { if (shuttingDown) throw new Error('shutting down'); }
/** Register an async cleanup; returns a function that runs it (once) and unregisters it. */
export function onCleanup(fn) {
  let done = false;
  const run = async () => { if (done) return; done = true; const i = cleanups.indexOf(run); if (i >= 0) cleanups.splice(i, 1); await fn(); };
  cleanups.push(run);
  return run;
}
/** Run all registered cleanups, newest first, each bounded in time. */
export async function cleanupAll() {
  shuttingDown = true;
  while (cleanups.length) {
    const run = cleanups[cleanups.length - 1];
    try { await Promise.race([run(), sleep(20000)]); } catch (e) { console.error('cleanup failed:', e?.message ?? e); }
    const i = cleanups.indexOf(run); if (i >= 0) cleanups.splice(i, 1);
  }
}

/** SIGTERM a pid (and optionally its process group), wait, then SIGKILL. */
export async function terminate(pid, { group = false, graceMs = 8000 } = {}) {
  if (!pid) return;
  const sig = (s) => { try { process.kill(group ? -pid : pid, s); } catch { /* gone */ } };
  if (!alive(pid) && !group) return;
  sig('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) sig('SIGKILL');
  if (group) sig('SIGKILL'); // anything left in the group
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
}

/**
 * The machine is shared: before a measurement wait (bounded) until two consecutive 1-second
 * samples show less than 15% of all cores busy, so a run does not start in the middle of someone
 * else's build. Returns the seconds waited and whether it got quiet (null: no wait asked).
 */
export async function waitQuiet(maxS, log = () => {}) {
  if (maxS <= 0) return { waitedS: 0, quiet: null };
  const t0 = performance.now();
  const waited = () => Math.round((performance.now() - t0) / 100) / 10;
  let calm = 0;
  while ((performance.now() - t0) / 1000 < maxS) {
    const a = systemCpu().busy; await sleep(1000); const b = systemCpu().busy;
    calm = (b - a) / 1000 / cpus().length < 0.15 ? calm + 1 : 0;
    if (calm >= 2) return { waitedS: waited(), quiet: true };
  }
  log(`  the machine stayed busy for ${maxS} s; measuring anyway`);
  return { waitedS: waited(), quiet: false };
}
