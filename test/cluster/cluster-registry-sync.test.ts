// Registry sync at scale (issue #8: 15,000 sessions per node). Cluster nodes on the real Redis,
// without sockets: synthetic sessions are bound straight into a node's registry, and the test
// checks that every other node's view converges on exactly that node's sessions, through the
// chunked (re)registration (cluster/registry-sync.ts), the snapshot a starting node reads
// (membership.entriesOf, pipelined), and a restart under the same name (reap, then register).
// MAGPIE_SYNC_SESSIONS sets N (default 3000; the issue's figure is 15000); timings are printed
// as test diagnostics.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { JID } from '@magpie/core/jid/jid';
import { xml } from '@magpie/core/xml/element';
import { createLogger } from '@magpie/server/log/logger';
import { HookBus } from '@magpie/server/hooks/bus';
import { Router } from '@magpie/server/router/router';
import { ClusterSchema } from '@magpie/server/config/cluster-schema';
import { createCluster, type ClusterNode, type ClusterSessionRegistry } from '@magpie/server/cluster/index';
import { LocalClientSession } from '@magpie/server/stream/client-session';
import { RemoteClientSession } from '@magpie/server/cluster/remote-session';
import type { ClientSession } from '@magpie/server/session/session';
import { skipOrFail } from '../support/server.js';
import { sleep } from '../im/roster-helpers.js';
import { clusterEnv, type ClusterEnv } from './cluster-helpers.js';

const N = Number(process.env.MAGPIE_SYNC_SESSIONS ?? 3000);
const CONVERGE_MS = Math.max(60_000, N * 10);
const log = createLogger({ level: 'silent', destination: 'stderr', pretty: false });

interface TestNode { name: string; node: ClusterNode; registry: ClusterSessionRegistry }

function makeNode(env: ClusterEnv, name: string): TestNode {
  const config = ClusterSchema.parse({ enabled: true, redisUrl: env.redisUrl, keyPrefix: env.prefix, nodeName: name, heartbeatSeconds: 1, deadAfterSeconds: 15 });
  const hooks = new HookBus();
  const router = new Router({ hooks, log, isLocalHost: (d) => d === 'localhost' });
  const { node, registry } = createCluster(config, { log, hooks, router });
  return { name, node, registry };
}

const stream = { write: () => {}, close: () => {}, transport: { secure: true, remoteAddress: '127.0.0.1' } };
function session(full: string, priority = 0): ClientSession {
  const s = new LocalClientSession(JID.parse(full), log, stream);
  s.priority = priority;
  s.presence = xml('presence', 'jabber:client', { from: full });
  return s;
}
const full = (tag: string, i: number): string => `${tag}${i >> 1}@localhost/r${i & 1}`;

/** What `owner` holds, as every other node should see it: full JID -> priority. */
function expected(owner: TestNode): Map<string, number> {
  return new Map([...owner.registry.all()].map((s) => [s.jid.toString(), s.priority]));
}
function matches(viewer: TestNode, owner: TestNode, want: Map<string, number>): boolean {
  const got = viewer.registry.remoteOf(owner.name);
  if (got.length !== want.size) return false;
  return got.every((s) => want.get(s.jid.toString()) === s.priority && s.presence !== undefined);
}
async function converge(viewers: TestNode[], owner: TestNode, what: string): Promise<number> {
  const want = expected(owner);
  const t0 = Date.now();
  while (!viewers.every((v) => matches(v, owner, want))) {
    if (Date.now() - t0 > CONVERGE_MS) {
      throw new Error(`${what}: did not converge; want ${want.size}, have ${viewers.map((v) => `${v.name}=${v.registry.remoteOf(owner.name).length}`).join(' ')}`);
    }
    await sleep(10);
  }
  return Date.now() - t0;
}

/** A Redis client in its own process (so this process' event loop does not count) pinging
    every 2 ms; on stdin's end it prints the longest round trip it saw, in ms. */
const PROBE = `const { Redis } = require('ioredis'); const r = new Redis(process.env.PROBE_URL); let max = 0, stop = false;
(async () => { await r.ping(); process.stdout.write('ready\\n');
  while (!stop) { const t = performance.now(); await r.ping(); max = Math.max(max, performance.now() - t); await new Promise((f) => setTimeout(f, 2)); }
  process.stdout.write('max ' + max.toFixed(1) + '\\n'); r.disconnect(); })();
process.stdin.on('end', () => { stop = true; }); process.stdin.resume();`;

/** The longest PING round trip another Redis client sees while `work` runs: how long a
    registration holds Redis up for everyone else. */
async function redisStall<T>(url: string, work: () => Promise<T>): Promise<[T, number]> {
  const child = spawn(process.execPath, ['-e', PROBE], { env: { ...process.env, PROBE_URL: url }, stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  while (!out.includes('ready')) { assert.equal(child.exitCode, null, 'the Redis probe runs'); await sleep(10); }
  let result: T;
  try { result = await work(); } finally { child.stdin.end(); await exited; }
  const m = /max ([\d.]+)/.exec(out);
  assert.ok(m, `the Redis probe reported: ${out}`);
  return [result, Number(m[1])];
}

describe(`cluster registry sync with ${N} synthetic sessions`, () => {
  let env: (ClusterEnv & { cleanup(): Promise<void> }) | undefined;
  let redis: Redis | undefined;
  const running: TestNode[] = [];

  before(async () => {
    env = await clusterEnv();
    if (env) redis = new Redis(env.redisUrl);
  });
  after(async () => {
    for (const n of running) await n.node.stop().catch(() => {});
    redis?.disconnect();
    await env?.cleanup();
  });

  /** Redis holds exactly `owner`'s sessions for it (node set and registry hashes). */
  async function redisMatches(owner: TestNode): Promise<void> {
    const want = expected(owner);
    const members = await redis!.smembers(`${env!.prefix}:nodesess:${owner.name}`);
    assert.deepEqual(new Set(members), new Set(want.keys()), 'Redis node set');
    const stale = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis!.scan(cursor, 'MATCH', `${env!.prefix}:sess:*`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) for (const [f, v] of Object.entries(await redis!.hgetall(k))) {
        if ((JSON.parse(v) as { node: string }).node === owner.name && !want.has(f)) stale.push(f);
      }
    } while (cursor !== '0');
    assert.deepEqual(stale, [], 'no stale registry entries of the node');
  }

  it('a node registering, re-registering after silent changes, and restarting under the same name converges everywhere', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const n2 = makeNode(env, 'sync-n2');
    await n2.node.start('postgres');
    running.push(n2);

    // 1. A node joins with N sessions: chunked sync events reach the running node.
    const n1 = makeNode(env, 'sync-n1');
    for (let i = 0; i < N; i++) n1.registry.add(session(full('a', i)));
    let t0 = Date.now();
    const [, joinStall] = await redisStall(env.redisUrl, () => n1.node.start('postgres'));
    const startMs = Date.now() - t0;
    running.push(n1);
    const joinMs = await converge([n2], n1, 'join');
    t.diagnostic(`join: node1 start (register ${N} sessions) ${startMs} ms, longest Redis PING meanwhile ${joinStall.toFixed(0)} ms; node2 converged ${joinMs} ms after`);
    await redisMatches(n1);

    // 2. Changes the others never heard of (as while Redis was away), then a re-registration:
    // a third of the sessions gone, a third new, priorities changed; sessions also end while
    // the chunks are going out (their `down` must win over the chunk that listed them).
    const listener = n1.registry.listener;
    n1.registry.listener = undefined;
    const all = [...n1.registry.all()];
    for (let i = 0; i < N; i += 3) n1.registry.remove(all[i]!);
    for (let i = 0; i < N / 3; i++) n1.registry.add(session(full('b', i), 1));
    for (let i = 1; i < N; i += 3) all[i]!.priority = 5;
    await Promise.resolve(); // the registry's change flush (a microtask) finds no listener
    n1.registry.listener = listener;
    t0 = Date.now();
    const reg = n1.node.register().then(() => Date.now() - t0);
    const endingDuring = [...n1.registry.all()].filter((_, i) => i % 50 === 2);
    for (const [k, s] of endingDuring.entries()) { if (k % 4 === 0) await sleep(1); n1.registry.remove(s); }
    const registerMs = await reg;
    const rejoinMs = await converge([n2], n1, 're-register');
    t.diagnostic(`re-register: node1 register ${registerMs} ms (${n1.registry.size} sessions); node2 converged ${rejoinMs} ms after`);
    await redisMatches(n1);
    // A plain re-registration (as after a Redis outage), for how long it holds Redis.
    t0 = Date.now();
    const [plainMs, plainStall] = await redisStall(env.redisUrl, () => n1.node.register().then(() => Date.now() - t0));
    t.diagnostic(`re-register unchanged: ${plainMs} ms, longest Redis PING meanwhile ${plainStall.toFixed(0)} ms`);
    await converge([n2], n1, 'unchanged re-register');

    // A generation whose beginning node2 did not see (it would have subscribed in the middle):
    // node2 re-reads node1 from Redis, which drops a proxy only it still had.
    n2.registry.applyUp({ node: n1.name, id: 'ghost', full: 'ghost@localhost/r', priority: 0, presence: null, interested: false, connectedAt: 1 },
      (e) => new RemoteClientSession(JID.parse(e.full), e, { forward: () => {}, closeRemote: () => {} }, log));
    assert.ok(n2.registry.get('ghost@localhost/r'));
    await redis!.publish(`${env.prefix}:events`, JSON.stringify({ t: 'sync-end', node: n1.name, gen: 'unseen', count: 0 }));
    await converge([n2], n1, 'reload after an unseen generation');
    assert.equal(n2.registry.get('ghost@localhost/r'), undefined);

    // 3. A node starting now reads the others from Redis (pipelined snapshot).
    const n3 = makeNode(env, 'sync-n3');
    t0 = Date.now();
    await n3.node.start('postgres');
    running.push(n3);
    const snapMs = Date.now() - t0;
    assert.ok(matches(n3, n1, expected(n1)), 'node3 holds node1\'s sessions once started');
    t.diagnostic(`snapshot: node3 start (loads ${n1.registry.size} remote sessions) ${snapMs} ms`);

    // 4. node1 dies without a word and comes back under the same name with other sessions: it
    // clears what its previous run left (announcing those sessions closed), then registers.
    await n1.node.link.close();
    running.splice(running.indexOf(n1), 1);
    const n1b = makeNode(env, 'sync-n1');
    for (let i = 0; i < N; i++) n1b.registry.add(session(full(i % 2 ? 'a' : 'c', i), 2));
    t0 = Date.now();
    await n1b.node.start('postgres');
    running.push(n1b);
    const restartMs = Date.now() - t0;
    const restartConvergeMs = await converge([n2, n3], n1b, 'restart');
    t.diagnostic(`restart: node1 start (reap its previous run, register ${N}) ${restartMs} ms; node2 and node3 converged ${restartConvergeMs} ms after`);
    await redisMatches(n1b);
  });
});
