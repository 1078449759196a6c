// Cluster mode end to end (issue #8): three Magpie nodes in this process on one real Redis and
// one real PostgreSQL. Clients on different nodes chat (full and bare JID, in order, iq between
// clients), see each other's presence, receive roster pushes made on another node; a resource
// bound again on another node replaces the old one (<conflict/>); a message for an account that
// is online nowhere is stored and delivered at its next login on any node; the shared registry
// in Redis matches who is online.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type Element } from '@magpie/core/xml/element';
import type { TestServer } from '../support/server.js';
import { skipOrFail } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { login, take, none, rosterGet, rosterSet, itemXml, push, presenceSync, befriend, chat, byId, iq, errorCondition, sleep } from '../im/roster-helpers.js';
import { clusterEnv, startNodes, type ClusterEnv, online, converge } from './cluster-helpers.js';

const from = (jid: string) => (e: Element): boolean => e.name === 'presence' && e.attr('from') === jid;
const available = (jid: string) => (e: Element): boolean => from(jid)(e) && e.attr('type') === undefined;
const unavailable = (jid: string) => (e: Element): boolean => from(jid)(e) && e.attr('type') === 'unavailable';
const body = (e: Element): string | undefined => e.getChildText('body');

const availableOn = (bare: string, full: string, priority?: number) => (ts: TestServer): boolean =>
  ts.server.sessions.resources(bare).some((s) => s.jid.toString() === full && s.presence !== undefined && (priority === undefined || s.priority === priority));

describe('cluster: three nodes on Redis and PostgreSQL', () => {
  let env: (ClusterEnv & { cleanup(): Promise<void> }) | undefined;
  let nodes: TestServer[] = [];
  const clients: RawClient[] = [];
  const track = (c: RawClient): RawClient => { clients.push(c); return c; };

  before(async () => {
    env = await clusterEnv();
    if (!env) return;
    nodes = await startNodes(env, 3);
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) await nodes[0]!.addUser(u, 'pw');
    await befriend(nodes[0]!, 'alice', 'bob');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    for (const n of nodes) await n.stop();
    await env?.cleanup();
  });

  it('chat between nodes: full and bare JID, in order, and iq between clients', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2] = nodes as [TestServer, TestServer];
    const a = track(await online(n1, 'alice', 'desk'));
    const b = track(await online(n2, 'bob', 'phone'));
    await converge(nodes, availableOn('bob@localhost', 'bob@localhost/phone'), 'bob available everywhere');
    a.send(chat('bob@localhost/phone', 'm-full'));
    assert.equal(body(await take(b, byId('m-full'))), 'm-full');
    a.send(chat('bob@localhost', 'm-bare'));
    const got = await take(b, byId('m-bare'));
    assert.equal(got.attr('from'), 'alice@localhost/desk');
    // Per sender→recipient order holds across nodes.
    const N = 200;
    for (let i = 0; i < N; i++) a.send(chat('bob@localhost/phone', `seq-${i}`));
    await b.until(() => b.elements.some(byId(`seq-${N - 1}`)), 10_000, 'the last message');
    const seen = b.elements.filter((e) => e.name === 'message' && e.attr('id')?.startsWith('seq-')).map((e) => e.attr('id'));
    assert.deepEqual(seen, Array.from({ length: N }, (_, i) => `seq-${i}`));
    // An iq to a client on another node, and its answer back.
    a.send(`<iq type='get' id='ping-b' to='bob@localhost/phone'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const req = await take(b, byId('ping-b'));
    assert.equal(req.attr('from'), 'alice@localhost/desk');
    b.send(`<iq type='result' id='ping-b' to='alice@localhost/desk'/>`);
    const res = await take(a, byId('ping-b'));
    assert.equal(res.attr('type'), 'result');
    assert.equal(res.attr('from'), 'bob@localhost/phone');
    // A server request (a module's api.request) to a client on another node: the answer is
    // routed on that node and resolved on this one.
    const asked = n1.server.router.request(xml('iq', 'jabber:client', { type: 'get', from: 'localhost', to: 'bob@localhost/phone' }, xml('ping', 'urn:xmpp:ping')), 5000);
    const sreq = await take(b, (e) => e.name === 'iq' && e.attr('from') === 'localhost' && !!e.getChild('ping', 'urn:xmpp:ping'));
    b.send(`<iq type='result' id='${sreq.attr('id')}' to='localhost'/>`);
    assert.equal((await asked).attr('type'), 'result');
    // An iq to a resource that is online nowhere: service-unavailable, as on one node.
    a.send(`<iq type='get' id='ping-x' to='bob@localhost/nowhere'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(errorCondition(await take(a, byId('ping-x'))), 'service-unavailable');
    a.destroy(); b.destroy();
    await converge(nodes, (ts) => ts.server.sessions.resources('alice@localhost').length === 0 && ts.server.sessions.resources('bob@localhost').length === 0, 'alice and bob gone');
  });

  it('presence between nodes: probes answered from the registry, broadcast, unavailable', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    const a = track(await online(n1, 'alice', 'desk', `<presence><show>away</show><status>lunch</status><priority>3</priority></presence>`));
    await converge(nodes, availableOn('alice@localhost', 'alice@localhost/desk', 3), 'alice available with priority 3');
    // Bob logs in on another node: his probe is answered with Alice's last presence (read from
    // the registry on his node), and Alice receives his initial presence.
    const b = track(await online(n2, 'bob', 'phone'));
    const p = await take(b, available('alice@localhost/desk'));
    assert.equal(p.getChildText('status'), 'lunch');
    assert.equal(p.getChildText('priority'), '3');
    await take(a, available('bob@localhost/phone'));
    // A second resource of Alice on a third node learns of the first, and vice versa (§4.2.2).
    const a2 = track(await online(n3, 'alice', 'laptop'));
    await take(a2, available('alice@localhost/desk'));
    await take(a, available('alice@localhost/laptop'));
    await take(b, available('alice@localhost/laptop'));
    // Subsequent presence and unavailable cross nodes too.
    // (Alice's resources may also get Bob's earlier presence again: the answer to the new
    // resource's probe goes to her bare JID, as on a single node.)
    await presenceSync(b, `<presence><show>dnd</show></presence>`);
    const dnd = (e: Element): boolean => available('bob@localhost/phone')(e) && e.getChildText('show') === 'dnd';
    await take(a, dnd);
    await take(a2, dnd);
    // A dropped connection (no unavailable sent) is announced by its own node.
    a2.destroy();
    await take(b, unavailable('alice@localhost/laptop'));
    await take(a, unavailable('alice@localhost/laptop'));
    b.send(`<presence type='unavailable'/>`);
    await take(a, unavailable('bob@localhost/phone'));
    a.destroy(); b.destroy();
  });

  it('a bare-JID message goes to the highest-priority resource, whatever its node', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    const hi = track(await online(n2, 'carol', 'hi', '<presence><priority>5</priority></presence>'));
    const lo = track(await online(n3, 'carol', 'lo', '<presence><priority>1</priority></presence>'));
    const d = track(await online(n1, 'dave', 'x'));
    await converge(nodes, availableOn('carol@localhost', 'carol@localhost/hi', 5), 'carol/hi priority 5');
    await converge(nodes, availableOn('carol@localhost', 'carol@localhost/lo', 1), 'carol/lo priority 1');
    d.send(chat('carol@localhost', 'to-hi'));
    await take(hi, byId('to-hi'));
    await none(lo, byId('to-hi'), 'the message on the lower-priority resource');
    // Priority changes travel with the presence: now the other resource wins.
    await presenceSync(lo, '<presence><priority>9</priority></presence>');
    await converge(nodes, availableOn('carol@localhost', 'carol@localhost/lo', 9), 'carol/lo priority 9');
    d.send(chat('carol@localhost', 'to-lo'));
    await take(lo, byId('to-lo'));
    await none(hi, byId('to-lo'), 'the message on the lower-priority resource');
    hi.destroy(); lo.destroy(); d.destroy();
  });

  it('roster pushes reach the account\'s resources on other nodes', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    const e1 = track(await login(n1, 'erin', 'one'));
    const e2 = track(await login(n2, 'erin', 'two'));
    const e3 = track(await login(n3, 'erin', 'three')); // never asks for the roster: no pushes
    await rosterGet(e1);
    await rosterGet(e2);
    await converge(nodes, (ts) => ts.server.sessions.get('erin@localhost/two')?.interested === true, 'erin/two interested');
    const r = await rosterSet(e1, itemXml('zoe@example.org', { name: 'Zoe', groups: ['Friends'] }));
    assert.equal(r.attr('type'), 'result');
    const p1 = await push(e1, 'zoe@example.org');
    const p2 = await push(e2, 'zoe@example.org');
    assert.equal(p2.name, 'Zoe');
    assert.deepEqual(p2.groups, ['Friends']);
    assert.equal(p2.ver, p1.ver);
    await none(e3, (e) => e.name === 'iq' && e.attr('type') === 'set', 'a push to a resource that did not request the roster');
    e1.destroy(); e2.destroy(); e3.destroy();
  });

  it('a resource bound again on another node replaces the old session (kick-old: <conflict/>)', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    const old = track(await online(n1, 'frank', 'same'));
    await converge(nodes, availableOn('frank@localhost', 'frank@localhost/same'), 'frank/same online');
    const fresh = track(await login(n2, 'frank', 'same'));
    await old.waitClosed(5000);
    assert.match(old.text, /<conflict xmlns=["']urn:ietf:params:xml:ns:xmpp-streams["']/);
    await presenceSync(fresh, '<presence/>');
    // Every node now routes frank/same to the new session.
    await converge(nodes, (ts) => { const s = ts.server.sessions.get('frank@localhost/same'); return !!s && s.presence !== undefined && ts.server.sessions.resources('frank@localhost').length === 1; }, 'frank/same moved');
    const d = track(await login(n3, 'dave', 'y'));
    d.send(chat('frank@localhost/same', 'after-conflict'));
    await take(fresh, byId('after-conflict'));
    fresh.destroy(); d.destroy();
  });

  it('a block made on one node is enforced by the others (their cached lists are dropped)', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2] = nodes as [TestServer, TestServer];
    const e = track(await online(n1, 'erin', 'desk'));
    const f = track(await online(n2, 'frank', 'pc'));
    await converge(nodes, availableOn('erin@localhost', 'erin@localhost/desk'), 'erin available');
    // Frank's node checks Erin's (empty) lists and caches them.
    f.send(chat('erin@localhost/desk', 'before-block'));
    await take(e, byId('before-block'));
    const r = await iq(e, 'set', `<block xmlns='urn:xmpp:blocking'><item jid='frank@localhost'/></block>`);
    assert.equal(r.attr('type'), 'result');
    await sleep(200);
    f.send(chat('erin@localhost/desk', 'after-block'));
    const err = await take(f, (x) => x.attr('id') === 'after-block' && x.attr('type') === 'error', 'the blocked message bounced');
    assert.ok(errorCondition(err));
    await none(e, byId('after-block'), 'a message from a blocked contact');
    await iq(e, 'set', `<unblock xmlns='urn:xmpp:blocking'/>`);
    e.destroy(); f.destroy();
  });

  it('a message for an account online nowhere is stored and delivered at its next login on another node', async (t) => {
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    await converge(nodes, (ts) => ts.server.sessions.resources('bob@localhost').length === 0, 'bob offline everywhere');
    const a = track(await online(n1, 'alice', 'desk'));
    a.send(chat('bob@localhost', 'stored-1'));
    a.send(chat('bob@localhost/gone', 'stored-2'));
    await iq(a, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
    await sleep(200);
    await none(a, (e) => e.name === 'message' && e.attr('type') === 'error', 'an error for a stored message');
    const b = track(await login(n3, 'bob', 'later'));
    b.send('<presence/>');
    assert.equal(body(await take(b, byId('stored-1'))), 'stored-1');
    assert.equal(body(await take(b, byId('stored-2'))), 'stored-2');
    // The shared registry in Redis lists exactly who is online, with the owning node.
    const reg = await nodes[0]!.server.cluster!.cmd.hgetall(`${env.prefix}:sess:bob@localhost`);
    assert.deepEqual(Object.keys(reg), ['bob@localhost/later']);
    assert.equal(JSON.parse(reg['bob@localhost/later']!).node, 'node3');
    void n2;
    a.destroy(); b.destroy();
  });
});

it('a cluster node does not start without Redis, and says why', async (t) => {
  const env = await clusterEnv();
  if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
  try {
    const { startTestServer } = await import('../support/server.js');
    const { nodeConfig } = await import('./cluster-helpers.js');
    const cfg = nodeConfig(env, 'lonely', { redisUrl: 'redis://127.0.0.1:1', connectTimeoutSeconds: 1 });
    await assert.rejects(startTestServer(cfg), /cluster: cannot reach Redis/);
  } finally { await env.cleanup(); }
});
