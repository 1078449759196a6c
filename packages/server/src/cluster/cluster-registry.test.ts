// The cluster registry with a fake listener and fake link: remote entries merged into
// resources(), stale removals ignored, a node's sessions replaced by a sync and dropped with the
// node, local changes to presence/priority/interest coalesced into one update per tick.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { JID } from '@magpie/core/jid/jid';
import { xml } from '@magpie/core/xml/element';
import { LocalClientSession } from '../stream/client-session.js';
import { createLogger } from '../log/logger.js';
import { ClusterSessionRegistry } from './cluster-registry.js';
import { RemoteClientSession, isRemote, type RemoteLink } from './remote-session.js';
import type { SessionEntry } from './wire.js';

const log = createLogger({ level: 'silent', destination: 'stderr', pretty: false });
const sent: string[] = [];
const link: RemoteLink = { forward: (s, el) => { sent.push(`${s.node}:${s.jid.toString()}:${el.attrs.id}`); }, closeRemote: () => {} };
const entry = (full: string, node: string, id: string, over: Partial<SessionEntry> = {}): SessionEntry =>
  ({ node, id, full, priority: 0, presence: null, interested: false, connectedAt: 1, ...over });
const create = (e: SessionEntry) => new RemoteClientSession(JID.parse(e.full), e, link, log);
const local = (full: string) => new LocalClientSession(JID.parse(full), log, { write: () => {}, close: () => {}, transport: { secure: true, remoteAddress: '127.0.0.1' } });

it('merges remote sessions into resources() and get(), and routes send() through the link', () => {
  const r = new ClusterSessionRegistry();
  const a = local('alice@x/desk');
  r.add(a);
  r.applyUp(entry('alice@x/phone', 'n2', 's1', { priority: 5, presence: `<presence xmlns='jabber:client'><show>away</show></presence>` }), create);
  const all = r.resources('alice@x');
  assert.deepEqual(all.map((s) => s.jid.toString()), ['alice@x/desk', 'alice@x/phone']);
  const remote = r.get('alice@x/phone')!;
  assert.ok(isRemote(remote));
  assert.equal(remote.priority, 5);
  assert.equal(remote.presence?.getChildText('show'), 'away');
  remote.send(xml('message', 'jabber:client', { id: 'm1' }));
  assert.deepEqual(sent.splice(0), ['n2:alice@x/phone:m1']);
  // all() and size are this node's sessions only.
  assert.deepEqual([...r.all()], [a]);
  assert.equal(r.size, 1);
});

it('ignores a stale removal, replaces on sync, forgets a node', () => {
  const r = new ClusterSessionRegistry();
  r.applyUp(entry('bob@x/a', 'n2', 'old'), create);
  r.applyUp(entry('bob@x/a', 'n3', 'new'), create); // bound again on n3
  assert.equal(r.applyDown('n2', 'bob@x/a', 'old'), undefined);
  assert.equal((r.get('bob@x/a') as RemoteClientSession).node, 'n3');
  r.applyUp(entry('bob@x/b', 'n3', 'b1'), create);
  r.applySync('n3', [entry('bob@x/c', 'n3', 'c1')], create);
  assert.deepEqual(r.resources('bob@x').map((s) => s.jid.toString()), ['bob@x/c']);
  const gone = r.dropNode('n3');
  assert.equal(gone.length, 1);
  assert.ok(gone[0]!.closed);
  assert.deepEqual(r.resources('bob@x'), []);
});

it('a local session shadows a remote entry of the same full JID; remove() of a proxy only forgets it', () => {
  const r = new ClusterSessionRegistry();
  r.applyUp(entry('carol@x/a', 'n2', 'r1'), create);
  const proxy = r.get('carol@x/a')!;
  r.remove(proxy);
  assert.equal(r.get('carol@x/a'), undefined);
  r.applyUp(entry('carol@x/a', 'n2', 'r2'), create);
  const l = local('carol@x/a');
  assert.ok(isRemote(r.add(l)!));
  assert.equal(r.get('carol@x/a'), l);
  assert.equal(r.resources('carol@x').length, 1);
});

it('publishes local changes (presence, priority, interest) once per tick, and the removal', async () => {
  const r = new ClusterSessionRegistry();
  const events: string[] = [];
  r.listener = { up: (s) => events.push(`up ${s.priority} ${s.presence ? 'avail' : 'unavail'} ${s.interested}`), down: (s) => events.push(`down ${s.jid.toString()}`) };
  const s = local('dave@x/a');
  r.add(s);
  s.interested = true;
  s.presence = xml('presence', 'jabber:client');
  s.priority = 7;
  await Promise.resolve();
  s.priority = 7; // unchanged: nothing to publish
  await Promise.resolve();
  r.remove(s);
  s.priority = 1; // after removal: not published
  await Promise.resolve();
  assert.deepEqual(events, ['up 0 unavail false', 'up 7 avail true', 'down dave@x/a']);
});

it('publishes changes to a local session\'s shared state, and a proxy exposes the owner\'s values', async () => {
  const r = new ClusterSessionRegistry();
  const ups: (Record<string, unknown> | undefined)[] = [];
  r.listener = { up: (s) => ups.push(s.shared.toRecord()), down: () => {} };
  const s = local('erin@x/a');
  r.add(s);
  s.shared.set('carbons', 'urn:xmpp:carbons:2');
  s.shared.set('caps+notify', ['a+notify']);
  await Promise.resolve();
  s.shared.set('caps+notify', ['a+notify']); // equal value: nothing to publish
  await Promise.resolve();
  s.shared.delete('carbons');
  await Promise.resolve();
  assert.deepEqual(ups, [undefined, { carbons: 'urn:xmpp:carbons:2', 'caps+notify': ['a+notify'] }, { 'caps+notify': ['a+notify'] }]);
  // The other side: a proxy takes the record with each update, and drops what the owner dropped.
  r.applyUp(entry('erin@x/b', 'n2', 'e1', { shared: { carbons: 'urn:xmpp:carbons:2' } }), create);
  assert.equal(r.get('erin@x/b')!.shared.get('carbons'), 'urn:xmpp:carbons:2');
  r.applyUp(entry('erin@x/b', 'n2', 'e1'), create);
  assert.equal(r.get('erin@x/b')!.shared.get('carbons'), undefined);
});
