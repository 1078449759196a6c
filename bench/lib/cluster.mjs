// Cluster benchmark plumbing (issue #8): an isolated environment on the machine's real
// PostgreSQL and Redis (a fresh schema and a private Redis key prefix, both removed at the end,
// as test/cluster/cluster-helpers.ts does for the tests), bulk benchmark accounts, and Magpie
// nodes started as child processes (bench/servers/cluster-node.mjs) with an IPC channel for
// their registry counts, memory and CPU.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis } from 'ioredis';
import { AccountService } from '../../packages/server/dist/accounts/accounts.js';
import { openStorage } from '../../packages/server/dist/storage/index.js';
import { alive, assertRunning, onCleanup, terminate } from './proc.mjs';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NODE_SCRIPT = join(REPO, 'bench/servers/cluster-node.mjs');
export const DOMAIN = 'localhost';

/** The PostgreSQL URL the tests use (test/support/postgres.ts): MAGPIE_TEST_PG_URL, postgres, the OS user. */
export async function pgUrl() {
  const candidates = process.env.MAGPIE_TEST_PG_URL ? [process.env.MAGPIE_TEST_PG_URL]
    : ['postgres://postgres@127.0.0.1:5432/test', `postgres://${userInfo().username}@127.0.0.1:5432/test`];
  for (const url of candidates) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
    try { await c.connect(); await c.end(); return url; } catch { await c.end().catch(() => {}); }
  }
  throw new Error('no PostgreSQL at 127.0.0.1:5432 (database test); set MAGPIE_TEST_PG_URL');
}

/** A fresh Redis key prefix and PG schema for one benchmark run; removed by the cleanup registry. */
export async function benchEnv({ redisUrl = process.env.MAGPIE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379', keep = false } = {}) {
  const id = randomBytes(4).toString('hex');
  const env = { id, prefix: `magpie-bench-${id}`, schema: `bench_${id}`, pgUrl: await pgUrl(), redisUrl };
  const r = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  r.on('error', () => {});
  await r.connect();
  env.redisPid = Number(/process_id:(\d+)/.exec(await r.info('server'))?.[1]) || undefined;
  r.disconnect();
  onCleanup(async () => {
    if (keep) return;
    const rc = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
    rc.on('error', () => {});
    try {
      let cursor = '0';
      do {
        const [next, keys] = await rc.scan(cursor, 'MATCH', `${env.prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await rc.del(...keys);
      } while (cursor !== '0');
    } catch { /* Redis gone */ } finally { rc.disconnect(); }
    const c = new pg.Client({ connectionString: env.pgUrl });
    await c.connect();
    try { await c.query(`DROP SCHEMA IF EXISTS "${env.schema}" CASCADE`); } finally { await c.end(); }
  });
  return env;
}

/**
 * Create user1..userN with one password. Benchmark-only dataset: the SCRAM credentials (SHA-1,
 * SHA-256, SHA-512, 4096 iterations, as AccountService stores them) are derived ONCE and every
 * account gets the same salt and keys; deriving 45,000 distinct ones would take minutes of PBKDF2
 * and change nothing the server does at login (it never runs PBKDF2 for SCRAM). Rows go in with
 * multi-row INSERTs into the schema the storage layer created (same columns as its create()).
 */
export async function createAccounts(env, n, password) {
  const t0 = Date.now();
  const storage = await openStorage({ type: 'postgres', url: env.pgUrl, schema: env.schema, poolSize: 2 });
  let creds;
  try { creds = await new AccountService(storage.accounts).credentialsFor(DOMAIN, 'user1', password); } finally { await storage.close(); }
  const c = new pg.Client({ connectionString: env.pgUrl, options: `-c search_path=${env.schema}` });
  await c.connect();
  try {
    const json = JSON.stringify(creds);
    for (let from = 1; from <= n; from += 5000) {
      const users = [];
      for (let i = from; i < Math.min(n + 1, from + 5000); i++) users.push(`user${i}`);
      await c.query(`INSERT INTO accounts (host, username, credentials, created_at)
        SELECT $1, u, $2::json, $3 FROM unnest($4::text[]) AS u ON CONFLICT DO NOTHING`, [DOMAIN, json, Date.now(), users]);
    }
    const [{ count }] = (await c.query('SELECT count(*)::int AS count FROM accounts WHERE host = $1', [DOMAIN])).rows;
    if (count < n) throw new Error(`only ${count} of ${n} accounts in ${env.schema}`);
  } finally { await c.end(); }
  return { accounts: n, seconds: (Date.now() - t0) / 1000 };
}

/** The node configuration: loopback c2s, PostgreSQL, cluster on the env's Redis prefix. */
export function nodeConfig(env, { name, port, dir, cluster = {}, limits = {}, disabled = [], logLevel = 'warn', poolSize = 8 }) {
  return {
    hosts: [{ domain: DOMAIN }],
    listeners: [{ type: 'c2s', address: '127.0.0.1', port }],
    dataDir: join(dir, 'data'),
    storage: { type: 'postgres', url: env.pgUrl, schema: env.schema, poolSize },
    cluster: { enabled: true, redisUrl: env.redisUrl, keyPrefix: env.prefix, nodeName: name, ...cluster },
    // Raised for the benchmark only: every client comes from 127.0.0.1, and the generator never
    // fails a login, but the throttles must not be what is measured.
    limits: { maxConnectionsPerAddress: 100000, authFailuresBeforeDelay: 1000, authLockoutFailures: 100000, negotiationTimeout: 600, idleTimeout: 3600, ...limits },
    modules: { disabled },
    log: { level: logLevel, destination: join(dir, `${name}.log`) },
  };
}

/** A started node: pid, port, stats(gc), stop(). */
export class NodeProc {
  constructor(env, opts) { this.env = env; this.opts = opts; this.name = opts.name; this.port = opts.port; this.seq = 0; this.pending = new Map(); }

  get logFile() { return join(this.opts.dir, `${this.name}.log`); }

  async start({ maxOldSpaceMiB } = {}) {
    assertRunning();
    mkdirSync(this.opts.dir, { recursive: true });
    const cfgFile = join(this.opts.dir, `${this.name}.json`);
    writeFileSync(cfgFile, JSON.stringify(nodeConfig(this.env, this.opts), null, 2));
    const errFd = openSync(join(this.opts.dir, `${this.name}.stderr`), 'a');
    // MAGPIE_BENCH_NODE_ARGS: extra node flags for the nodes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const heap = (maxOldSpaceMiB ? ` --max-old-space-size=${maxOldSpaceMiB}` : '') + (process.env.MAGPIE_BENCH_NODE_ARGS ? ` ${process.env.MAGPIE_BENCH_NODE_ARGS}` : '');
    // ulimit in the child shell: 15,000 client sockets + PostgreSQL + Redis per node (hard limit 20,000).
    const p = spawn('bash', ['-c', `ulimit -n 20000 && exec "${process.execPath}" --expose-gc${heap} "${NODE_SCRIPT}" "${cfgFile}"`],
      { stdio: ['ignore', errFd, errFd, 'ipc'], cwd: REPO, detached: true }); // stdout too: --trace-gc output
    closeSync(errFd);
    this.proc = p; this.pid = p.pid;
    this.stopCleanup = onCleanup(() => this.stopNow());
    p.on('message', (m) => {
      if (m?.ready) { this.ready?.(m); return; }
      const w = this.pending.get(m?.id);
      if (!w) return;
      this.pending.delete(m.id);
      clearTimeout(w.timer);
      if (m.ok) w.resolve(m); else w.reject(new Error(`${this.name}: ${m.error}`));
    });
    p.on('exit', (code, sig) => {
      this.exited = { code, sig };
      for (const w of this.pending.values()) { clearTimeout(w.timer); w.reject(new Error(`${this.name} exited (${code ?? sig})`)); }
      this.pending.clear();
      this.failed?.(new Error(`${this.name} exited (${code ?? sig}) before it was ready: ${this.stderrTail()}`));
    });
    await new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`${this.name} did not start in 60 s: ${this.stderrTail()}`)), 60000);
      this.ready = (m) => { clearTimeout(t); this.ready = undefined; this.failed = undefined; resolve(m); };
      this.failed = (e) => { clearTimeout(t); reject(e); };
    });
    const lim = readFileSync(`/proc/${this.pid}/limits`, 'utf8').match(/Max open files\s+(\d+)/)?.[1];
    this.openFilesLimit = Number(lim);
    return this;
  }

  stderrTail(n = 20) {
    try { return readFileSync(join(this.opts.dir, `${this.name}.stderr`), 'utf8').split('\n').slice(-n).join('\n'); } catch { return ''; }
  }

  /** Lines of the node's log at warn level or above that concern the cluster (reaps, rejoins). */
  clusterWarnings() {
    let text = '';
    try { text = readFileSync(this.logFile, 'utf8'); } catch { return []; }
    return text.split('\n').filter((l) => l.includes('"component":"cluster"') && /"level":(40|50|60)/.test(l));
  }

  stats(args = {}, timeoutMs = 120000) {
    if (this.exited) return Promise.reject(new Error(`${this.name} exited (${this.exited.code ?? this.exited.sig})`));
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new Error(`${this.name}: stats timed out`)); }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.proc.send({ id, cmd: 'stats', ...args });
    });
  }

  async stopNow() {
    if (!this.proc || this.exited) return;
    try { this.proc.send({ cmd: 'stop' }); } catch { /* gone */ }
    for (let i = 0; i < 150 && !this.exited && alive(this.pid); i++) await new Promise((r) => setTimeout(r, 100));
    await terminate(this.pid, { group: true, graceMs: 5000 });
  }

  async stop() { if (this.stopCleanup) await this.stopCleanup(); this.stopCleanup = undefined; }
}
