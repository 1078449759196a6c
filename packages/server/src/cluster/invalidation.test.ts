// The counting of acknowledged invalidations (invalidation.ts), with three instances joined by
// an in-process stand-in for the events channel and the inboxes (the real Redis path is driven
// by test/cluster/cluster-pubsub.test.ts): a broadcast resolves only after every other node ran
// its handlers, also when answers arrive before PUBLISH does; a silent node is waited for only
// `waitMs`; Redis down resolves at once.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../log/logger.js';
import { ClusterInvalidation } from './invalidation.js';
import type { DirectMessage, RegistryEvent } from './wire.js';

const log = createLogger({ level: 'silent', destination: 'stderr', pretty: false });
const tick = () => new Promise((r) => setImmediate(r));

function cluster(names: string[], opts: { silent?: string[]; ackFirst?: boolean; waitMs?: number; down?: boolean } = {}) {
  const nodes = new Map<string, ClusterInvalidation>();
  const dropped: string[] = [];
  for (const name of names) {
    nodes.set(name, new ClusterInvalidation({
      name, log, waitMs: opts.waitMs ?? 1000,
      async publishEvent(ev: RegistryEvent) {
        if (opts.down) throw new Error('connection is closed');
        const subscribers = [...nodes.keys()];
        for (const n of subscribers) if (n !== name && ev.t === 'invalidate' && !opts.silent?.includes(n)) nodes.get(n)!.onEvent(ev);
        // Answers may be read before PUBLISH's reply: let them through first when asked to.
        if (opts.ackFirst) { await tick(); await tick(); await tick(); }
        return subscribers.length;
      },
      direct(node: string, msg: DirectMessage) { if (msg.t === 'invalidated') setImmediate(() => nodes.get(node)!.onAck(msg.rid)); },
      async runHandlers(scope, host, user) { await tick(); dropped.push(`${name} ${scope} ${user}@${host}`); },
    }));
  }
  return { nodes, dropped };
}

it('resolves after every other node dropped its copy', async () => {
  const { nodes, dropped } = cluster(['n1', 'n2', 'n3']);
  await nodes.get('n1')!.broadcast('pubsub', 'localhost', 'alice');
  assert.deepEqual(dropped.sort(), ['n2 pubsub alice@localhost', 'n3 pubsub alice@localhost']);
});

it('counts answers that arrive before PUBLISH replies', async () => {
  const { nodes, dropped } = cluster(['n1', 'n2', 'n3'], { ackFirst: true });
  const t0 = Date.now();
  await nodes.get('n1')!.broadcast('privacy', 'localhost', 'bob');
  assert.equal(dropped.length, 2);
  assert.ok(Date.now() - t0 < 500, 'did not wait for the timeout');
});

it('waits for a silent node only waitMs', async () => {
  const { nodes, dropped } = cluster(['n1', 'n2', 'n3'], { silent: ['n3'], waitMs: 150 });
  const t0 = Date.now();
  await nodes.get('n1')!.broadcast('pubsub', 'localhost', '');
  assert.deepEqual(dropped, ['n2 pubsub @localhost']);
  assert.ok(Date.now() - t0 >= 140, 'waited for the silent node');
});

it('a single node and a Redis outage do not wait', async () => {
  const alone = cluster(['n1'], { waitMs: 5000 });
  await alone.nodes.get('n1')!.broadcast('pubsub', 'localhost', 'alice');
  const down = cluster(['n1', 'n2'], { waitMs: 5000, down: true });
  const t0 = Date.now();
  await down.nodes.get('n1')!.broadcast('pubsub', 'localhost', 'alice');
  assert.ok(Date.now() - t0 < 1000);
});
