// The receiving side of a chunked registration (registry-sync.ts) with a real registry and fake
// proxies' link: chunks applied as they come, what the generation and the `up`s published during
// it did not name dropped at sync-end, a generation whose beginning was missed re-read from
// Redis instead of pruned, an older generation's end ignored.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { JID } from '@magpie/core/jid/jid';
import { createLogger } from '../log/logger.js';
import { ClusterSessionRegistry } from './cluster-registry.js';
import { RemoteClientSession, type RemoteLink } from './remote-session.js';
import { SyncReceiver } from './registry-sync.js';
import type { SessionEntry } from './wire.js';

const log = createLogger({ level: 'silent', destination: 'stderr', pretty: false });
const link: RemoteLink = { forward: () => {}, closeRemote: () => {} };
const entry = (full: string, node = 'n2', id = full): SessionEntry => ({ node, id, full, priority: 0, presence: null, interested: false, connectedAt: 1 });
const create = (e: SessionEntry) => new RemoteClientSession(JID.parse(e.full), e, link, log);

function setup() {
  const registry = new ClusterSessionRegistry();
  const reloads: string[] = [];
  const rx = new SyncReceiver({ registry, create, reload: (n) => reloads.push(n) });
  // What the node under test does with an event the receiver leaves to it.
  const feed = (ev: Parameters<SyncReceiver['onEvent']>[0]) => { if (!rx.onEvent(ev) && ev.t === 'up') registry.applyUp(ev.e, create); };
  const names = (node = 'n2') => registry.remoteOf(node).map((s) => s.jid.toString()).sort();
  return { registry, reloads, feed, names };
}

it('applies chunks as they come and drops, at the end, what neither the chunks nor an up named', () => {
  const { registry, feed, names, reloads } = setup();
  for (const f of ['a@x/1', 'b@x/1', 'gone@x/1']) registry.applyUp(entry(f), create);
  registry.applyUp(entry('other@x/1', 'n3'), create);
  feed({ t: 'sync-begin', node: 'n2', gen: 'g1' });
  feed({ t: 'sync-chunk', node: 'n2', gen: 'g1', entries: [entry('a@x/1'), entry('c@x/1')] });
  assert.deepEqual(names(), ['a@x/1', 'b@x/1', 'c@x/1', 'gone@x/1'], 'nothing dropped before the end');
  feed({ t: 'up', e: entry('b@x/1') }); // bound meanwhile: listed in no chunk, still there
  feed({ t: 'sync-chunk', node: 'n2', gen: 'g1', entries: [entry('d@x/1'), entry('intruder@x/1', 'n3')] });
  feed({ t: 'sync-end', node: 'n2', gen: 'g1', count: 3 });
  assert.deepEqual(names(), ['a@x/1', 'b@x/1', 'c@x/1', 'd@x/1']);
  assert.deepEqual(names('n3'), ['other@x/1'], 'another node\'s sessions untouched; a chunk cannot claim them');
  assert.deepEqual(reloads, []);
});

it('re-reads a node whose generation began before this node listened; ignores an older end', () => {
  const { registry, feed, names, reloads } = setup();
  registry.applyUp(entry('stale@x/1'), create);
  feed({ t: 'sync-chunk', node: 'n2', gen: 'g1', entries: [entry('late@x/1')] });
  feed({ t: 'sync-end', node: 'n2', gen: 'g1', count: 5 });
  assert.deepEqual(names(), ['late@x/1', 'stale@x/1'], 'no pruning on a partial view');
  assert.deepEqual(reloads, ['n2']);

  feed({ t: 'sync-begin', node: 'n2', gen: 'g2' });
  feed({ t: 'sync-chunk', node: 'n2', gen: 'g2', entries: [entry('late@x/1')] });
  feed({ t: 'sync-end', node: 'n2', gen: 'g1', count: 1 }); // an older generation's end
  assert.deepEqual(names(), ['late@x/1', 'stale@x/1']);
  assert.deepEqual(reloads, ['n2'], 'a newer generation is under way: it settles the set');
  feed({ t: 'sync-end', node: 'n2', gen: 'g2', count: 1 });
  assert.deepEqual(names(), ['late@x/1']);
});

it('forgets a pending generation when its node leaves', () => {
  const { registry, feed, names, reloads } = setup();
  feed({ t: 'sync-begin', node: 'n2', gen: 'g1' });
  feed({ t: 'sync-chunk', node: 'n2', gen: 'g1', entries: [entry('a@x/1')] });
  feed({ t: 'leave', node: 'n2' });
  registry.dropNode('n2');
  feed({ t: 'sync-end', node: 'n2', gen: 'g1', count: 1 });
  assert.deepEqual(names(), []);
  assert.deepEqual(reloads, ['n2'], 'an end without its beginning: Redis has the truth');
});
