// Per-session module state across cluster nodes (issue #8: "roster pushes and carbons to
// resources on other nodes"). Three Magpie nodes on one real Redis and one real PostgreSQL, raw
// clients over real sockets:
// - XEP-0280 carbons: received and sent copies reach an enabled resource on another node, never
//   a resource that did not enable them (the flag travels in the registry entry's shared state);
// - XEP-0163 PEP: a notification reaches a '+notify' resource on another node (its verified
//   caps' +notify set is shared), and not one without the interest;
// - RFC 6121 §2.1.6 roster pushes and XEP-0191 §3.2 block pushes to resources on other nodes;
// - XEP-0352 CSI: presence forwarded from another node passes the owning node's CSI filter
//   (held while inactive, collapsed per sender, delivered on <active/>);
// - RFC 6121 §4.6 directed presence to a resource on another node, and its unavailable;
// - XEP-0016 §2.2 an active privacy list set on one node is applied on another node to a
//   bare-JID message fanned out to the account's resources;
// - per-account locks across nodes: 2 x 25 concurrent roster sets from two nodes leave 50 items
//   and hand out 50 distinct roster versions (§2.6; the version counter is a read-modify-write).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import type { TestServer } from '../support/server.js';
import { skipOrFail } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { login, take, none, rosterGet, rosterSet, itemXml, push, presenceSync, befriend, chat, byId, iq, sleep } from '../im/roster-helpers.js';
import { available as capsAvailable, publish, isEvent, takeEvent } from '../pubsub/pubsub-helpers.js';
import { clusterEnv, startNodes, type ClusterEnv, online, converge } from './cluster-helpers.js';

const CARBONS = 'urn:xmpp:carbons:2';
const FORWARD = 'urn:xmpp:forward:0';
const CSI = 'urn:xmpp:csi:0';
const MOOD = 'http://jabber.org/protocol/mood';

const presenceFrom = (jid: string) => (e: Element): boolean => e.name === 'presence' && e.attr('from') === jid;
/** A carbon copy (`kind` received|sent) of the message with id `id`. */
const inner = (e: Element, kind: 'received' | 'sent'): Element | undefined => e.getChild(kind, CARBONS)?.getChild('forwarded', FORWARD)?.getChild('message', 'jabber:client');
const carbon = (kind: 'received' | 'sent', id: string) => (e: Element): boolean => e.name === 'message' && inner(e, kind)?.attr('id') === id;
const anyCarbon = (id: string) => (e: Element): boolean => carbon('received', id)(e) || carbon('sent', id)(e);

const sharedOn = (full: string, key: string, test: (v: unknown) => boolean) => (ts: TestServer): boolean => {
  const s = ts.server.sessions.get(full);
  return !!s && test(s.shared.get(key));
};

describe('cluster: per-session module state on every node', () => {
  let env: (ClusterEnv & { cleanup(): Promise<void> }) | undefined;
  let nodes: TestServer[] = [];
  const clients: RawClient[] = [];
  const track = (c: RawClient): RawClient => { clients.push(c); return c; };

  before(async () => {
    env = await clusterEnv();
    if (!env) return;
    nodes = await startNodes(env, 3);
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank']) await nodes[0]!.addUser(u, 'pw');
    await befriend(nodes[0]!, 'alice', 'bob');
    await befriend(nodes[0]!, 'carol', 'dave');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    for (const n of nodes) await n.stop();
    await env?.cleanup();
  });

  it('carbons: received and sent copies reach an enabled resource on another node, and only enabled ones', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    const a = track(await online(n1, 'alice', 'a'));
    const b = track(await online(n2, 'alice', 'b'));
    const c = track(await online(n3, 'alice', 'c')); // never enables carbons
    const bob = track(await online(n3, 'bob', 'phone'));
    for (const cl of [a, b]) assert.equal((await iq(cl, 'set', `<enable xmlns='${CARBONS}'/>`)).attr('type'), 'result');
    await converge(nodes, sharedOn('alice@localhost/b', 'carbons', (v) => v === CARBONS), 'alice/b has carbons on, everywhere');
    await converge(nodes, sharedOn('alice@localhost/a', 'carbons', (v) => v === CARBONS), 'alice/a has carbons on, everywhere');
    await converge(nodes, sharedOn('alice@localhost/c', 'carbons', (v) => v === undefined), 'alice/c known without carbons');

    // Bob (node3) -> alice/a (node1): alice/b (node2) gets a received copy; alice/c none.
    bob.send(chat('alice@localhost/a', 'in-1'));
    await take(a, byId('in-1'));
    const rc = await take(b, carbon('received', 'in-1'), 'received carbon on node2', 10_000);
    assert.equal(rc.attr('from'), 'alice@localhost');
    assert.equal(rc.attr('to'), 'alice@localhost/b');
    assert.equal(inner(rc, 'received')!.attr('from'), 'bob@localhost/phone');
    await none(a, anyCarbon('in-1'), 'a carbon to the resource that got the original', 500);
    await none(c, anyCarbon('in-1'), 'a carbon to a resource without carbons', 500);

    // alice/a (node1) -> bob: alice/b (node2) gets a sent copy; alice/c none.
    a.send(chat('bob@localhost/phone', 'out-1'));
    await take(bob, byId('out-1'));
    const sc = await take(b, carbon('sent', 'out-1'), 'sent carbon on node2', 10_000);
    assert.equal(inner(sc, 'sent')!.attr('to'), 'bob@localhost/phone');
    await none(c, anyCarbon('out-1'), 'a carbon to a resource without carbons', 500);

    // Disabling on node2 is seen by node3: no more copies for alice/b.
    assert.equal((await iq(b, 'set', `<disable xmlns='${CARBONS}'/>`)).attr('type'), 'result');
    await converge(nodes, sharedOn('alice@localhost/b', 'carbons', (v) => v === undefined), 'alice/b has carbons off, everywhere');
    bob.send(chat('alice@localhost/a', 'in-2'));
    await take(a, byId('in-2'));
    await none(b, anyCarbon('in-2'), 'a carbon after disabling', 800);
    for (const cl of [a, b, c, bob]) cl.destroy();
    await converge(nodes, (ts) => ts.server.sessions.resources('alice@localhost').length === 0 && ts.server.sessions.resources('bob@localhost').length === 0, 'alice and bob gone');
  });

  it('PEP: a publish on node1 notifies a +notify resource of a contact on node2, not one without the interest', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    const a = track(await login(n1, 'alice', 'pub'));
    await presenceSync(a, '<presence/>');
    const b = track(await login(n2, 'bob', 'mood'));
    await capsAvailable(n2, b, [MOOD]);
    const b2 = track(await login(n3, 'bob', 'plain'));
    await presenceSync(b2, '<presence/>'); // available, no caps: no interest
    await converge(nodes, sharedOn('bob@localhost/mood', 'caps+notify', (v) => Array.isArray(v) && v.includes(`${MOOD}+notify`)), 'bob/mood +notify known everywhere');
    const r = await publish(a, MOOD, `<mood xmlns='${MOOD}'><happy/></mood>`, 'm1');
    assert.equal(r.attr('type'), 'result', r.toString());
    const ev = await takeEvent(b, MOOD, 'items', 'alice@localhost', 10_000);
    assert.equal(ev.getChild('event', 'http://jabber.org/protocol/pubsub#event')!.getChild('items')!.getChild('item')!.attr('id'), 'm1');
    await none(b2, isEvent(MOOD), 'a mood event without +notify', 800);
    for (const cl of [a, b, b2]) cl.destroy();
    await converge(nodes, (ts) => ts.server.sessions.resources('alice@localhost').length === 0 && ts.server.sessions.resources('bob@localhost').length === 0, 'alice and bob gone');
  });

  it('roster and block pushes made on node3 reach interested resources on node1 and node2', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    const e1 = track(await login(n1, 'erin', 'one'));
    const e2 = track(await login(n2, 'erin', 'two'));
    const e3 = track(await login(n3, 'erin', 'three'));
    await rosterGet(e1);
    await rosterGet(e2);
    await iq(e1, 'get', `<blocklist xmlns='urn:xmpp:blocking'/>`);
    await converge(nodes, (ts) => ts.server.sessions.get('erin@localhost/two')?.interested === true, 'erin/two interested');
    await converge(nodes, sharedOn('erin@localhost/one', 'blocking', (v) => v === true), 'erin/one asked for the block list');
    assert.equal((await rosterSet(e3, itemXml('zoe@example.org', { name: 'Zoe' }))).attr('type'), 'result');
    const p1 = await push(e1, 'zoe@example.org');
    const p2 = await push(e2, 'zoe@example.org');
    assert.equal(p1.name, 'Zoe');
    assert.equal(p2.ver, p1.ver);
    // XEP-0191 §3.2: a block on node3 is pushed to erin/one (asked for the list), not erin/two.
    assert.equal((await iq(e3, 'set', `<block xmlns='urn:xmpp:blocking'><item jid='spam@example.org'/></block>`)).attr('type'), 'result');
    const bp = await take(e1, (e) => e.name === 'iq' && e.attr('type') === 'set' && !!e.getChild('block', 'urn:xmpp:blocking'), 'block push on node1', 10_000);
    assert.equal(bp.getChild('block', 'urn:xmpp:blocking')!.getChild('item')!.attr('jid'), 'spam@example.org');
    await none(e2, (e) => !!e.getChild('block', 'urn:xmpp:blocking'), 'a block push to a resource that never asked for the list', 500);
    await iq(e3, 'set', `<unblock xmlns='urn:xmpp:blocking'/>`);
    for (const cl of [e1, e2, e3]) cl.destroy();
  });

  it('CSI: presence from a contact on node1 is held for an inactive resource on node2 and collapsed', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2] = nodes as [TestServer, TestServer];
    const d = track(await online(n2, 'dave', 'phone'));
    const c = track(await online(n1, 'carol', 'desk'));
    await take(d, (e) => presenceFrom('carol@localhost/desk')(e) && e.attr('type') === undefined, 'carol available');
    await converge([n1], (ts) => ts.server.sessions.get('dave@localhost/phone')?.presence !== undefined, 'dave available on node1');
    d.send(`<inactive xmlns='${CSI}'/>`);
    await iq(d, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost'); // the nonza is processed in stream order
    const mark = d.elements.length;
    for (const show of ['away', 'dnd', 'xa']) await presenceSync(c, `<presence><show>${show}</show></presence>`);
    // A message is urgent: it flushes what is held first, so the order stays; send none yet.
    await sleep(800);
    assert.equal(d.elements.slice(mark).filter(presenceFrom('carol@localhost/desk')).length, 0, 'presence delivered to an inactive client');
    d.send(`<active xmlns='${CSI}'/>`);
    await d.until(() => d.elements.slice(mark).some(presenceFrom('carol@localhost/desk')), 10_000, 'the held presence');
    await sleep(300);
    const got = d.elements.slice(mark).filter(presenceFrom('carol@localhost/desk'));
    assert.deepEqual(got.map((p) => p.getChildText('show')), ['xa'], 'one collapsed presence, the latest');
    c.destroy(); d.destroy();
  });

  it('directed presence to a resource on another node, and its unavailable when the sender leaves', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2] = nodes as [TestServer, TestServer];
    const f = track(await online(n2, 'frank', 'pc'));
    const e = track(await online(n1, 'erin', 'desk'));
    await converge([n1], (ts) => ts.server.sessions.get('frank@localhost/pc')?.presence !== undefined, 'frank available on node1');
    await presenceSync(e, `<presence to='frank@localhost/pc'><status>hello</status></presence>`);
    const p = await take(f, presenceFrom('erin@localhost/desk'), 'directed presence', 10_000);
    assert.equal(p.getChildText('status'), 'hello');
    e.destroy(); // no unavailable sent: node1 announces it to whoever got directed presence
    const u = await take(f, (x) => presenceFrom('erin@localhost/desk')(x) && x.attr('type') === 'unavailable', 'unavailable after directed presence', 10_000);
    assert.equal(u.attr('to'), 'frank@localhost/pc');
    f.destroy();
  });

  it('privacy: an active list set on node2 is applied on node1 to a bare-JID message for that resource', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2] = nodes as [TestServer, TestServer];
    const h1 = track(await login(n2, 'hank', 'one'));
    const pq = (inner: string) => `<query xmlns='jabber:iq:privacy'>${inner}</query>`;
    assert.equal((await iq(h1, 'set', pq(`<list name='nofrank'><item type='jid' value='frank@localhost' action='deny' order='1'><message/></item></list>`))).attr('type'), 'result');
    assert.equal((await iq(h1, 'set', pq(`<active name='nofrank'/>`))).attr('type'), 'result');
    await presenceSync(h1, `<presence><priority>5</priority></presence>`);
    const h2 = track(await online(n1, 'hank', 'two'));
    await converge([n1], (ts) => ts.server.sessions.get('hank@localhost/one')?.presence !== undefined
      && (ts.server.sessions.get('hank@localhost/one')?.shared.get('privacy') as { active?: string } | undefined)?.active === 'nofrank', 'hank/one available with its active list on node1');
    const f = track(await login(n1, 'frank', 'x'));
    f.send(chat('hank@localhost', 'p1'));
    await take(h2, byId('p1'), 'the message at the resource without a list', 10_000);
    await none(h1, byId('p1'), 'the message at the resource whose active list refuses frank', 500);
    assert.equal((await iq(h2, 'set', pq(`<active name='nofrank'/>`))).attr('type'), 'result');
    await converge([n1], (ts) => (ts.server.sessions.get('hank@localhost/two')?.shared.get('privacy') as { active?: string } | undefined)?.active === 'nofrank', 'hank/two active list');
    f.send(chat('hank@localhost', 'p2'));
    const err = await take(f, byId('p2'), 'the refusal', 10_000);
    assert.equal(err.getChild('error')?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas') !== undefined, true, err.toString());
    for (const cl of [h1, h2, f]) cl.destroy();
  });

  it('the roster lock holds across nodes: 2 x 25 concurrent roster sets on two nodes, 50 items, 50 distinct versions', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2] = nodes as [TestServer, TestServer];
    const g1 = track(await login(n1, 'gina', 'one'));
    const g2 = track(await login(n2, 'gina', 'two'));
    const before = await rosterGet(g1);
    await rosterGet(g2);
    await converge(nodes, (ts) => ts.server.sessions.get('gina@localhost/two')?.interested === true && ts.server.sessions.get('gina@localhost/one')?.interested === true, 'gina interested');
    const N = 25;
    const sets = [g1, g2].flatMap((c, k) => Array.from({ length: N }, (_, i) => rosterSet(c, itemXml(`c${k}-${i}@example.org`))));
    for (const r of await Promise.all(sets)) assert.equal(r.attr('type'), 'result', r.toString());
    // Every change is pushed to both resources, each with its own version.
    const isPush = (e: Element): boolean => e.name === 'iq' && e.attr('type') === 'set' && !!e.getChild('query', 'jabber:iq:roster');
    await g1.until(() => g1.elements.filter(isPush).length >= 2 * N, 15_000, 'every roster push');
    const vers = new Set(g1.elements.filter(isPush).map((p) => p.getChild('query', 'jabber:iq:roster')!.attr('ver')));
    assert.equal(vers.size, 2 * N, `distinct versions: ${[...vers].join(' ')}`);
    const after = await rosterGet(g2);
    const jids = after.getChild('query', 'jabber:iq:roster')!.getChildren('item').map((i) => i.attr('jid'));
    assert.equal(jids.length, 2 * N);
    // The counter advanced once per change: the final version is the starting one plus 50.
    const n = (v: string | undefined) => Number(v?.split('-')[1] ?? 0);
    assert.equal(n(after.getChild('query', 'jabber:iq:roster')!.attr('ver')), n(before.getChild('query', 'jabber:iq:roster')!.attr('ver')) + 2 * N);
    g1.destroy(); g2.destroy();
  });
});
