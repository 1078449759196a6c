// The capped log of an owned key (ownership.ts, issue #8 follow-up: MUC discussion history that
// survives a takeover) on a real Redis under a private key prefix: one turn's appends leave as
// one script call per key, the log keeps its last `max` entries and is deleted at 0, a trim or
// any other write of the key sends the pending appends first, only the owner writes, a handover
// (release keepState) leaves the log to the next owner and a plain release deletes it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../log/logger.js';
import { testRedis } from './test-redis.js';
import { Ownership } from './ownership.js';
import type { ClusterRedis } from './redis-link.js';
import type { OwnedKeysHandlers } from '../modules/owned-keys.js';

const { redis, prefix, connect } = testRedis('ownlog');
const log = createLogger({ level: 'silent', destination: 'stderr', pretty: false });

const turn = () => new Promise((r) => setImmediate(r));
const handlers: OwnedKeysHandlers = { stanza: async () => {}, orphaned: async () => {}, lost: async () => {}, reclaimed: async () => {} };
const logKey = (room: string) => `${prefix}:ownlog:muc:svc:${room}`;

/** One node's Ownership on the shared connection, counting its log script calls. */
function node(name: string, calls: string[][]) {
  const pending = new Set<Promise<unknown>>();
  const cmd = new Proxy(redis, {
    get: (r, p) => p === 'ownLog'
      ? (...a: string[]) => { calls.push(a); return (Reflect.get(r, p) as (...x: string[]) => Promise<number>).apply(r, a); }
      : Reflect.get(r, p),
  }) as unknown as ClusterRedis;
  const own = new Ownership({ name, cmd, keys: { prefix, inbox: (n) => `${prefix}:to:${n}` }, track: (p) => { pending.add(p); } }, log);
  const keys = own.namespace('muc:svc', handlers);
  const settled = async () => { await turn(); await Promise.all([...pending]); pending.clear(); };
  return { keys, settled };
}

it('owned key log: batched per turn, capped, trimmed, owner-only, kept on handover, deleted on release', async (t) => {
  if (!(await connect(t))) return;
  const calls: string[][] = [];
  const a = node('n1', calls);
  assert.equal(await a.keys.resolve('room'), 'n1');
  assert.equal(await a.keys.resolve('other'), 'n1');

  // One turn: five appends to one room, one to another: two script calls, in order, capped.
  for (let i = 1; i <= 5; i++) a.keys.appendLog('room', `e${i}`, 3);
  a.keys.appendLog('other', 'o1', 3);
  assert.equal(calls.length, 0, 'nothing sent before the end of the turn');
  await a.settled();
  assert.equal(calls.length, 2, 'one write per key and turn');
  assert.deepEqual(calls[0]!.slice(5), ['e3', 'e4', 'e5'], 'what the cap trims is not sent');
  assert.deepEqual(await a.keys.loadLog('room'), ['e3', 'e4', 'e5']);
  a.keys.appendLog('room', 'e6', 3);
  await a.settled();
  assert.deepEqual(await redis.lrange(logKey('room'), 0, -1), ['e4', 'e5', 'e6'], 'capped in Redis too');

  // A trim sends the turn's pending appends first, then cuts; 0 deletes the log.
  a.keys.appendLog('room', 'e7', 3);
  a.keys.trimLog('room', 2);
  await a.settled();
  assert.deepEqual(await a.keys.loadLog('room'), ['e6', 'e7']);
  a.keys.appendLog('room', 'e8', 0);
  await a.settled();
  assert.equal(await redis.exists(logKey('room')), 0, 'history length 0: no log');
  a.keys.replaceLog('room', ['r1', 'r2', 'r3'], 2);
  await a.settled();
  assert.deepEqual(await a.keys.loadLog('room'), ['r2', 'r3'], 'replaced, capped');

  // A handover keeps the log for the next owner, which continues it; the old owner cannot write.
  a.keys.appendLog('room', 'r4', 5);
  await a.keys.release('room', true); // sends the pending append first
  await a.settled();
  assert.deepEqual(await redis.lrange(logKey('room'), 0, -1), ['r2', 'r3', 'r4']);
  const b = node('n2', calls);
  assert.equal(await b.keys.resolve('room'), 'n2');
  assert.deepEqual(await b.keys.loadLog('room'), ['r2', 'r3', 'r4']);
  a.keys.appendLog('room', 'stale', 5);
  a.keys.trimLog('room', 0);
  b.keys.appendLog('room', 'r5', 5);
  await a.settled(); await b.settled();
  assert.deepEqual(await b.keys.loadLog('room'), ['r2', 'r3', 'r4', 'r5'], 'only the owner writes');

  // A room that is gone (release without keepState) takes its log with it.
  b.keys.appendLog('room', 'r6', 5);
  await b.keys.release('room');
  await b.settled();
  assert.equal(await redis.exists(logKey('room'), `${prefix}:own:muc:svc:room`, `${prefix}:ownstate:muc:svc:room`), 0);
  await a.keys.release('other');
  assert.equal(await redis.exists(logKey('other')), 0);
});
