// The load generator as seen from the orchestrator: N forked worker processes
// (bench/load/worker.mjs), accounts user1..userK spread over them round-robin (user i belongs to
// worker (i-1) % N, so each worker keeps its own SCRAM cache for its users), and helpers that
// split a job over all workers and merge the answers.

import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assertRunning, onCleanup, terminate } from './proc.mjs';

const WORKER = fileURLToPath(new URL('../load/worker.mjs', import.meta.url));

export class GenPool {
  /** `worker`: the generator script each child process runs (worker.mjs by default). */
  constructor(n, worker = WORKER) { this.n = n; this.worker = worker; this.workers = []; this.seq = 0; }

  async start() {
    for (let k = 0; k < this.n; k++) {
      assertRunning();
      const child = fork(this.worker, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=2048'] });
      const w = { k, child, pending: new Map(), pid: child.pid };
      child.on('message', (m) => {
        if (m?.ready) { w.ready?.(); return; }
        const p = w.pending.get(m?.id);
        if (!p) return;
        w.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m); else p.reject(new Error(`worker ${k}: ${m.error}`));
      });
      child.on('exit', (code, sig) => {
        for (const p of w.pending.values()) { clearTimeout(p.timer); p.reject(new Error(`worker ${k} exited (${code ?? sig})`)); }
        w.pending.clear();
        w.exited = true;
      });
      await new Promise((resolve, reject) => { w.ready = resolve; child.once('error', reject); setTimeout(() => reject(new Error('worker did not start')), 15000); });
      w.stop = onCleanup(() => terminate(child.pid, { graceMs: 2000 }));
      this.workers.push(w);
    }
  }

  call(k, cmd, args = {}, timeoutMs = 600000) {
    const w = this.workers[k];
    if (w.exited) return Promise.reject(new Error(`worker ${k} is gone`));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { w.pending.delete(id); reject(new Error(`worker ${k}: ${cmd} timed out after ${timeoutMs} ms`)); }, timeoutMs);
      w.pending.set(id, { resolve, reject, timer });
      w.child.send({ id, cmd, ...args });
    });
  }

  /** Run `cmd` on every worker with per-worker arguments from argsOf(k). */
  all(cmd, argsOf = () => ({}), timeoutMs) {
    return Promise.all(this.workers.map((w) => this.call(w.k, cmd, argsOf(w.k), timeoutMs)));
  }

  /** Users user{from}..user{to} that belong to worker k. */
  usersOf(k, from, to) {
    const out = [];
    for (let i = from; i <= to; i++) if ((i - 1) % this.n === k) out.push(`user${i}`);
    return out;
  }

  /** Split an integer total over the workers (first ones get the remainder). */
  share(total, k) { return Math.floor(total / this.n) + (k < total % this.n ? 1 : 0); }

  pids() { return this.workers.map((w) => w.pid); }

  async stop() {
    await Promise.all(this.workers.map(async (w) => {
      try { if (!w.exited) w.child.send({ cmd: 'exit' }); } catch { /* gone */ }
      await w.stop();
    }));
    this.workers = [];
  }
}

/** Sum numeric fields of worker answers. */
export function sum(answers, field) { return answers.reduce((a, r) => a + (Number(r[field]) || 0), 0); }
