// Helpers for the cluster scenarios (issue #8): several Magpie nodes on one real Redis and one
// real PostgreSQL, isolated per test run by a unique Redis key prefix and a unique PostgreSQL
// schema (both removed afterwards). Nodes run in the test process, or as child processes when a
// test must kill one with SIGKILL.

import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pgTestUrl } from '../support/postgres.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { IM_MODULES, rosterGet, presenceSync, sleep } from '../im/roster-helpers.js';
import { RawClient } from '../support/raw-client.js';

export const REDIS_URL = process.env.MAGPIE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function redisAvailable(url = REDIS_URL): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  r.on('error', () => {});
  try { await r.connect(); return (await r.ping()) === 'PONG'; } catch { return false; } finally { r.disconnect(); }
}

export interface ClusterEnv { prefix: string; schema: string; pgUrl: string; redisUrl: string }

/** A fresh key prefix and schema; `cleanup` removes both. */
export async function clusterEnv(redisUrl = REDIS_URL): Promise<(ClusterEnv & { cleanup(): Promise<void> }) | undefined> {
  const pgUrl = await pgTestUrl();
  if (!pgUrl || !(await redisAvailable(redisUrl))) return undefined;
  const id = randomBytes(4).toString('hex');
  const env = { prefix: `magpie-test-${id}`, schema: `cluster_${id}`, pgUrl, redisUrl };
  return {
    ...env,
    async cleanup() {
      const r = new Redis(env.redisUrl, { maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      try {
        let cursor = '0';
        do {
          const [next, keys] = await r.scan(cursor, 'MATCH', `${env.prefix}:*`, 'COUNT', 1000);
          cursor = next;
          if (keys.length) await r.del(...keys);
        } while (cursor !== '0');
      } catch { /* Redis gone: nothing to clean */ } finally { r.disconnect(); }
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      try { await c.query(`DROP SCHEMA IF EXISTS "${env.schema}" CASCADE`); } finally { await c.end(); }
    },
  };
}

/** Overrides that make a test server one node of the cluster `env`. */
export function nodeConfig(env: ClusterEnv, nodeName: string, cluster: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    storage: { type: 'postgres', url: env.pgUrl, schema: env.schema, poolSize: 4 },
    cluster: { enabled: true, redisUrl: env.redisUrl, keyPrefix: env.prefix, nodeName, heartbeatSeconds: 0.5, deadAfterSeconds: 2, ...cluster },
  };
}

/** Start `n` nodes one after the other (the first one creates the schema). */
export async function startNodes(env: ClusterEnv, n: number, cluster: Record<string, unknown> = {}): Promise<TestServer[]> {
  const nodes: TestServer[] = [];
  for (let i = 0; i < n; i++) nodes.push(await startTestServer(nodeConfig(env, `node${i + 1}`, cluster), { modules: IM_MODULES }));
  return nodes;
}

/** A node in a child process (so a test can SIGKILL it); resolves once it listens. */
export interface ChildNode { proc: ChildProcess; port: number; kill(signal?: NodeJS.Signals): Promise<void> }

export function startChildNode(env: ClusterEnv, nodeName: string, cluster: Record<string, unknown> = {}): Promise<ChildNode> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'node-process.ts');
  const proc = spawn(process.execPath, ['--conditions=magpie-src', '--import', 'tsx', script, JSON.stringify(nodeConfig(env, nodeName, cluster))],
    { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('child node did not start: ' + out)); }, 30_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^PORT (\d+)$/m.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]), kill: async (signal = 'SIGKILL') => { if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal); await exited; } });
      }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`child node exited (${code}): ${out}`)); });
  });
}

/** A client logged in on the node listening on `port`, with its roster fetched and a presence sent. */
export async function onlineAt(port: number, user: string, resource: string, presence = '<presence/>'): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.login(user, 'pw', { resource });
  await rosterGet(c);
  await presenceSync(c, presence);
  return c;
}
export const online = (ts: TestServer, user: string, resource: string, presence?: string): Promise<RawClient> => onlineAt(ts.port, user, resource, presence);

/** Wait until every node satisfies `pred` (registry updates travel between nodes asynchronously). */
export async function converge(nodes: TestServer[], pred: (ts: TestServer) => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!nodes.every(pred)) {
    if (Date.now() > end) {
      const view = nodes.map((ts, i) => `node${i + 1}: ${[...(ts.server.sessions as unknown as { remoteByFull?: Map<string, unknown> }).remoteByFull?.keys() ?? []].join(',')} local: ${[...ts.server.sessions.all()].map((s) => s.jid.toString()).join(',')}`);
      throw new Error(`cluster did not converge: ${what}\n${view.join('\n')}`);
    }
    await sleep(20);
  }
}
