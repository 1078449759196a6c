// The Redis mirror of XEP-0198 unacknowledged queues (unacked-mirror.ts, issue #8) on a real
// Redis under a private key prefix: one turn's writes leave in one pipeline with consecutive
// pushes merged, acks trim from the head, the copy stays bounded, close deletes it, and recover
// hands every queue back in order (with its send time) and deletes it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@magpie/core/xml/element';
import { createLogger } from '../log/logger.js';
import { testRedis } from './test-redis.js';
import { ClusterUnackedMirror, type Orphan } from './unacked-mirror.js';
import { ClusterKeys } from './wire.js';
import type { ClusterRedis } from './redis-link.js';

const { redis, prefix, connect } = testRedis('mirror');
const keys = new ClusterKeys(prefix);
const log = createLogger({ level: 'silent', destination: 'stderr', pretty: false });

const msg = (id: string) => xml('message', 'jabber:client', { to: 'bob@localhost/phone', from: 'alice@localhost/desk', type: 'chat', id }, xml('body', 'jabber:client', {}, id));
const ids = async (smId: string) => (await redis.lrange(keys.unacked('n1', smId), 0, -1)).map((s) => /id=['"](\w+)['"]/.exec(s)![1]);
const turn = () => new Promise((r) => setImmediate(r));

it('mirrors pushes, acks and close; batches a turn into one pipeline; bounds the copy; recovers in order', async (t) => {
  if (!(await connect(t))) return;
  let pipelines = 0;
  const counting = new Proxy(redis, { get: (r, p) => p === 'pipeline' ? (...a: unknown[]) => { pipelines++; return (r.pipeline as (...x: unknown[]) => unknown)(...a); } : Reflect.get(r, p) }) as unknown as ClusterRedis;
  const mirror = new ClusterUnackedMirror({ name: 'n1', keys, cmd: counting, log });

  const h = mirror.open('sm1', 'bob@localhost/phone', 4);
  for (const id of ['a', 'b', 'c']) h.push(msg(id), 1000);
  await turn(); await mirror.flushed();
  assert.equal(pipelines, 1, 'one pipeline for the turn');
  assert.deepEqual(await ids('sm1'), ['a', 'b', 'c']);
  assert.deepEqual(await redis.hgetall(keys.unackedIndex('n1')), { sm1: 'bob@localhost/phone' });

  h.ack(2); h.push(msg('d'), 2000); h.push(msg('e'), 3000);
  await mirror.flushed();
  assert.deepEqual(await ids('sm1'), ['c', 'd', 'e'], 'ack trims the head, in order with the pushes');
  for (const id of ['f', 'g', 'h']) h.push(msg(id), 4000);
  await mirror.flushed();
  assert.deepEqual(await ids('sm1'), ['e', 'f', 'g', 'h'], 'bounded at the limit');

  const gone = mirror.open('sm2', 'carol@localhost/x', 10);
  gone.push(msg('z'), 1);
  gone.close();
  gone.push(msg('y'), 1); // after close: ignored
  await mirror.flushed();
  assert.equal(await redis.exists(keys.unacked('n1', 'sm2')), 0);
  assert.deepEqual(Object.keys(await redis.hgetall(keys.unackedIndex('n1'))), ['sm1']);

  const got: Orphan[] = [];
  const r = await new ClusterUnackedMirror({ name: 'n2', keys, cmd: redis as unknown as ClusterRedis, log })
    .recover('n1', 100, 4, async (o) => { got.push(o); });
  assert.deepEqual(r, { sessions: 1, stanzas: 4 });
  assert.equal(got[0]!.full, 'bob@localhost/phone');
  assert.deepEqual(got[0]!.stanzas.map((s) => [s.stanza.attrs.id, s.when]), [['e', 3000], ['f', 4000], ['g', 4000], ['h', 4000]]);
  assert.equal(got[0]!.stanzas[0]!.stanza.getChildText('body'), 'e');
  assert.deepEqual(await redis.keys(`${prefix}:*`), [], 'recovered mirrors are deleted');
});
