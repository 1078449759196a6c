// Federation from a cluster (issue #8: "s2s from any node, with one outgoing connection per remote
// domain per node at most"). Cluster A is three Magpie nodes serving a.localhost (one Redis, one
// PostgreSQL schema); B is a single Magpie serving b.localhost. Every A node routes b.localhost to
// B; B routes a.localhost to node2 only, so:
// - each A node opens its own outgoing stream to B (RFC 6120 §8.1.1.2: one per domain pair), and
//   B's dialback check (XEP-0220 §2.1.2) of a key that node1 or node3 generated is answered by
//   node2: the nodes share s2s.dialbackSecret (XEP-0185), which cluster mode requires;
// - everything B sends lands on node2 and reaches users on node1 and node3 through Redis;
// - a subscription (RFC 6121 §3) made from node1 and presence changed on node3 cross both ways;
// - the answer to a request a module on node1 sent to B (push, PEP discovery) comes back at
//   node2 and still resolves on node1.
// The same with Debian's Prosody as B (dialback: Prosody checks node1's key with node2).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { IM_MODULES, isPresence, push, take, sleep } from '../im/roster-helpers.js';
import { federation, hasOpenssl, loginAt, route, s2sPort, startFederated } from '../s2s/federation-helpers.js';
import { loginProsody, prosodyInstalled, selfSigned, startProsody, type ProsodyPeer } from '../s2s/prosody-peer.js';
import { clusterEnv, nodeConfig, type ClusterEnv } from './cluster-helpers.js';

const T = 30_000; // first contact: TCP, TLS, dialback both ways, on a loaded machine
const SECRET = 'cluster-s2s-test-dialback-secret';

/** Node `name` of cluster `env` serving a.localhost, with an s2s listener. */
function startANode(env: ClusterEnv, name: string, secret = SECRET): Promise<TestServer> {
  return startTestServer({
    ...nodeConfig(env, name),
    hosts: [{ domain: 'a.localhost' }],
    listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }, { type: 's2s', address: '127.0.0.1', port: 0 }],
    s2s: { enabled: true, systemCas: false, authTimeout: 20, dialbackSecret: secret },
  } as never, { modules: IM_MODULES });
}

const messages = (c: RawClient, id: string): Element[] => c.elements.filter((e) => e.name === 'message' && e.attr('id') === id);

async function online(ts: TestServer, user: string, resource: string): Promise<RawClient> {
  const c = await loginAt(ts, user, resource);
  c.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
  await take(c, (e) => e.attr('id') === 'r0');
  c.send('<presence/>');
  await take(c, isPresence(undefined, `${user}@${ts.domain}/${resource}`), 'own presence');
  return c;
}

/** Wait until every node's registry shows `full` (available unless `bound`): registry events
    travel asynchronously. */
async function visible(nodes: TestServer[], bare: string, full: string, bound = false): Promise<void> {
  const end = Date.now() + T;
  while (!nodes.every((n) => n.server.sessions.resources(bare).some((s) => s.jid.toString() === full && (bound || s.presence)))) {
    assert.ok(Date.now() < end, `${full} visible on every node`);
    await sleep(20);
  }
}

describe('cluster federation: three nodes of a.localhost with one server b.localhost', () => {
  let env: (ClusterEnv & { cleanup(): Promise<void> }) | undefined;
  let A: TestServer[] = [];
  let B: TestServer | undefined;
  const clients: RawClient[] = [];
  const track = (c: RawClient): RawClient => { clients.push(c); return c; };

  before(async () => {
    env = await clusterEnv();
    if (!env) return;
    for (const n of ['node1', 'node2', 'node3']) A.push(await startANode(env, n));
    B = await startFederated('b.localhost');
    for (const n of A) route(n, B);
    route(B, A[1]!); // B reaches a.localhost at node2 only (its dialback checks too)
    for (const u of ['alice', 'carol', 'dave']) await A[0]!.addUser(u, 'pw');
    await B.addUser('bob', 'pw');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    for (const n of A) await n.stop();
    await B?.stop();
    await env?.cleanup();
  });

  it('each node opens one outgoing stream to B, authenticated by dialback that another node verifies; B\'s stanzas reach every node', async (t) => {
    if (!env || !B) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2, n3] = A as [TestServer, TestServer, TestServer];
    const bob = track(await loginAt(B, 'bob', 'r1'));
    const senders = [
      { ts: n1, c: track(await loginAt(n1, 'alice', 'r1')), jid: 'alice@a.localhost/r1' },
      { ts: n2, c: track(await loginAt(n2, 'carol', 'r1')), jid: 'carol@a.localhost/r1' },
      { ts: n3, c: track(await loginAt(n3, 'dave', 'r1')), jid: 'dave@a.localhost/r1' },
    ];
    // node1 first and alone: its key is generated on node1 and checked by B with node2.
    for (const [i, s] of senders.entries()) {
      for (let k = 0; k < 3; k++) s.c.send(`<message to='bob@b.localhost/r1' type='chat' id='out-${i}-${k}'><body>${k}</body></message>`);
      for (let k = 0; k < 3; k++) {
        const m = await take(bob, (e) => e.name === 'message' && e.attr('id') === `out-${i}-${k}`, `message ${k} from ${s.jid}`, T);
        assert.equal(m.attr('from'), s.jid);
      }
    }
    // A second account on node1 uses node1's stream too.
    const alice2 = track(await loginAt(n1, 'alice', 'r2'));
    alice2.send(`<message to='bob@b.localhost/r1' type='chat' id='out-r2'><body>again</body></message>`);
    await take(bob, (e) => e.attr('id') === 'out-r2', 'message from alice/r2', T);

    for (const [i, n] of A.entries()) {
      const out = federation(n).outgoingPairs().filter((p) => p.remote === 'b.localhost');
      assert.equal(out.length, 1, `node${i + 1}: one outgoing stream to b.localhost`);
      assert.deepEqual([out[0]!.ready, out[0]!.method], [true, 'dialback'], `node${i + 1}'s stream is authenticated by dialback`);
    }
    // B sees one incoming stream per node, each authenticated for a.localhost, and has one
    // outgoing stream (to node2), over which it asked node2 about node1's and node3's keys.
    const inB = federation(B).incomingPairs().filter((p) => p.remote === 'a.localhost' && p.local === 'b.localhost');
    assert.equal(inB.length, 3, 'B: three incoming a.localhost streams');
    assert.equal(federation(B).incoming.size, 3);
    assert.equal(federation(B).outgoingPairs().length, 1);
    assert.deepEqual(A.map((n) => federation(n).incoming.size), [0, 1, 0], 'B connects to node2 only');

    // (b) Replies from B all arrive at node2 and are carried to node1 and node3 through Redis.
    for (const s of senders) await visible(A, s.jid.slice(0, s.jid.indexOf('/')), s.jid, true);
    for (const [i, s] of senders.entries()) bob.send(`<message to='${s.jid}' type='chat' id='back-${i}'><body>hi</body></message>`);
    for (const [i, s] of senders.entries()) {
      const m = await take(s.c, (e) => e.name === 'message' && e.attr('id') === `back-${i}`, `reply to ${s.jid}`, T);
      assert.equal(m.attr('from'), 'bob@b.localhost/r1');
    }
    assert.deepEqual(A.map((n) => federation(n).incoming.size), [0, 1, 0]);
    // Nothing duplicated (sent once per message, delivered once).
    await sleep(500);
    for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) assert.equal(messages(bob, `out-${i}-${k}`).length, 1, `out-${i}-${k} once`);
    for (const [i, s] of senders.entries()) assert.equal(messages(s.c, `back-${i}`).length, 1, `back-${i} once`);
    assert.deepEqual(A.map((n) => federation(n).outgoingPairs().length), [1, 1, 1]);
    // The same, as the operators' gauges show it (updated every second).
    const gauges = () => [...A, B!].map((n) => `${n.server.metrics.values.get('federation.outgoing_streams')}/${n.server.metrics.values.get('federation.incoming_streams')}`).join(' ');
    const end = Date.now() + 10_000;
    while (gauges() !== '1/0 1/1 1/0 1/3') { assert.ok(Date.now() < end, `out/in stream gauges of node1-3 and B: ${gauges()}`); await sleep(100); }
  });

  it('subscription made from node1, presence changed on node3, crossing to B and back', async (t) => {
    if (!env || !B) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, , n3] = A as [TestServer, TestServer, TestServer];
    await B.addUser('fred', 'pw');
    for (const u of ['gina']) await n1.addUser(u, 'pw');
    const fred = track(await online(B, 'fred', 'r1'));
    const g1 = track(await online(n1, 'gina', 'one'));
    const g3 = track(await online(n3, 'gina', 'three'));
    await visible(A, 'gina@a.localhost', 'gina@a.localhost/three');
    await visible(A, 'gina@a.localhost', 'gina@a.localhost/one');

    // Gina (on node1) subscribes to Fred; Fred approves. The approval and Fred's presence come
    // in at node2 and must reach both of Gina's resources (node1 and node3).
    g1.send(`<presence to='fred@b.localhost' type='subscribe'/>`);
    assert.equal((await push(g1, 'fred@b.localhost')).ask, 'subscribe');
    assert.equal((await push(g3, 'fred@b.localhost')).ask, 'subscribe', 'roster push to the resource on node3');
    await take(fred, isPresence('subscribe', 'gina@a.localhost'), 'subscribe from gina', T);
    fred.send(`<presence to='gina@a.localhost' type='subscribed'/>`);
    assert.equal((await push(g1, 'fred@b.localhost', T)).subscription, 'to');
    assert.equal((await push(g3, 'fred@b.localhost', T)).subscription, 'to');
    await take(g1, isPresence(undefined, 'fred@b.localhost/r1'), 'fred\'s presence at node1', T);
    await take(g3, isPresence(undefined, 'fred@b.localhost/r1'), 'fred\'s presence at node3', T);

    // Fred subscribes back; Gina approves from node3.
    fred.send(`<presence to='gina@a.localhost' type='subscribe'/>`);
    await take(g1, isPresence('subscribe', 'fred@b.localhost'), 'subscribe from fred at node1', T);
    await take(g3, isPresence('subscribe', 'fred@b.localhost'), 'subscribe from fred at node3', T);
    g3.send(`<presence to='fred@b.localhost' type='subscribed'/>`);
    assert.equal((await push(g3, 'fred@b.localhost')).subscription, 'both');
    assert.equal((await push(g1, 'fred@b.localhost')).subscription, 'both');
    // The probe B sends lands on node2, which answers for both resources from the registry.
    await take(fred, isPresence(undefined, 'gina@a.localhost/one'), 'gina/one presence', T);
    await take(fred, isPresence(undefined, 'gina@a.localhost/three'), 'gina/three presence', T);

    // Presence changed on node3 goes out on node3's own stream; Fred's change reaches both.
    g3.send(`<presence><status>on node3</status></presence>`);
    const st = await take(fred, (e) => isPresence(undefined, 'gina@a.localhost/three')(e) && e.getChildText('status') === 'on node3', 'status from node3', T);
    assert.equal(st.attr('to'), 'fred@b.localhost');
    fred.send(`<presence><show>away</show></presence>`);
    for (const g of [g1, g3]) await take(g, (e) => isPresence(undefined, 'fred@b.localhost/r1')(e) && e.getChildText('show') === 'away', 'fred away', T);
    g3.send(`<presence type='unavailable'/>`);
    await take(fred, isPresence('unavailable', 'gina@a.localhost/three'), 'gina/three unavailable', T);
    await sleep(500);
    const statuses = fred.elements.filter((e) => isPresence(undefined, 'gina@a.localhost/three')(e) && e.getChildText('status') === 'on node3');
    assert.equal(statuses.length, 1, 'the status change arrives once');
    assert.equal(g1.elements.filter((e) => isPresence(undefined, 'fred@b.localhost/r1')(e) && e.getChildText('show') === 'away').length, 1);
    assert.equal(federation(n3).outgoingPairs().filter((p) => p.remote === 'b.localhost').length, 1);
    assert.equal(federation(B).incoming.size, 3, 'still one incoming stream per node at B');
  });

  it('an answer from B to a request made on node1 arrives at node2 and resolves on node1', async (t) => {
    if (!env || !B) return skipOrFail(t, 'Redis or PostgreSQL not available');
    const [n1, n2] = A as [TestServer, TestServer];
    // From the server (answered to the domain) and from an account (answered to its bare JID,
    // as for XEP-0357 push to an app server or XEP-0115 discovery of a remote contact).
    for (const from of ['a.localhost', 'alice@a.localhost']) {
      const res = await n1.server.router.request(xml('iq', 'jabber:client', { type: 'get', from, to: 'b.localhost' }, xml('ping', 'urn:xmpp:ping')), 15_000);
      assert.deepEqual([res.attrs.type, res.attrs.from], ['result', 'b.localhost'], `answer to ${from}`);
    }
    assert.equal(federation(n1).incoming.size, 0, 'the answers came in at node2');
    assert.equal(federation(n2).incoming.size, 1);
    // And a request made on node2 itself still resolves there.
    const res = await n2.server.router.request(xml('iq', 'jabber:client', { type: 'get', from: 'a.localhost', to: 'b.localhost' }, xml('ping', 'urn:xmpp:ping')), 15_000);
    assert.equal(res.attrs.type, 'result');
  });
});

describe('cluster federation with Prosody: two nodes of a.localhost, Prosody routes a.localhost to node2', () => {
  let env: (ClusterEnv & { cleanup(): Promise<void> }) | undefined;
  let A: TestServer[] = [];
  let P: ProsodyPeer | undefined;
  const clients: RawClient[] = [];
  const track = (c: RawClient): RawClient => { clients.push(c); return c; };

  before(async () => {
    if (!prosodyInstalled() || !hasOpenssl()) return;
    env = await clusterEnv();
    if (!env) return;
    for (const n of ['node1', 'node2']) A.push(await startANode(env, n));
    // Self-signed on both sides (each Magpie node generates its own): dialback authenticates.
    P = await startProsody({ domain: 'p.localhost', ...selfSigned(A[0]!.dir, 'p.localhost'), secureAuth: false, routes: { 'a.localhost': ['127.0.0.1', s2sPort(A[1]!)] } });
    for (const n of A) n.server.config.s2s.routes['p.localhost'] = `127.0.0.1:${P.s2sPort}`;
    await A[0]!.addUser('mia', 'pw'); await A[0]!.addUser('max', 'pw');
    P.register('pat', 'pw');
  });
  after(async () => {
    for (const c of clients) c.destroy();
    for (const n of A) await n.stop();
    await P?.stop();
    await env?.cleanup();
  });

  it('users on both nodes subscribe and chat with a Prosody user; one outgoing stream per node', async (t) => {
    if (!env || !P) return skipOrFail(t, 'Redis, PostgreSQL, prosody or openssl not available');
    const [n1, n2] = A as [TestServer, TestServer];
    try {
      const pat = track(await loginProsody(P, 'pat', 'r1'));
      pat.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
      await take(pat, (e) => e.attr('id') === 'r0');
      pat.send('<presence/>');
      const mia = track(await online(n1, 'mia', 'r1'));
      const max = track(await online(n2, 'max', 'r1'));

      // Mia (node1) subscribes to Pat: node1 opens its stream; Prosody checks its key at node2.
      mia.send(`<presence to='pat@p.localhost' type='subscribe'/>`);
      assert.equal((await push(mia, 'pat@p.localhost')).ask, 'subscribe');
      await take(pat, isPresence('subscribe', 'mia@a.localhost'), 'subscribe from mia', T);
      pat.send(`<presence to='mia@a.localhost' type='subscribed'/>`);
      assert.equal((await push(mia, 'pat@p.localhost', T)).subscription, 'to');
      await take(mia, isPresence(undefined, 'pat@p.localhost/r1'), 'pat\'s presence at node1', T);
      pat.send(`<presence to='mia@a.localhost' type='subscribe'/>`);
      await take(mia, isPresence('subscribe', 'pat@p.localhost'), 'subscribe from pat at node1', T);
      mia.send(`<presence to='pat@p.localhost' type='subscribed'/>`);
      await take(pat, isPresence(undefined, 'mia@a.localhost/r1'), 'mia\'s presence at prosody', T);

      // Messages from both nodes, and replies that all come in at node2.
      mia.send(`<message to='pat@p.localhost' type='chat' id='pm-1'><body>from node1</body></message>`);
      max.send(`<message to='pat@p.localhost' type='chat' id='pm-2'><body>from node2</body></message>`);
      assert.equal((await take(pat, (e) => e.attr('id') === 'pm-1', 'message from node1', T)).attr('from'), 'mia@a.localhost/r1');
      assert.equal((await take(pat, (e) => e.attr('id') === 'pm-2', 'message from node2', T)).attr('from'), 'max@a.localhost/r1');
      pat.send(`<message to='mia@a.localhost' type='chat' id='pr-1'><body>to node1</body></message>`);
      pat.send(`<message to='max@a.localhost/r1' type='chat' id='pr-2'><body>to node2</body></message>`);
      assert.equal((await take(mia, (e) => e.attr('id') === 'pr-1', 'reply at node1', T)).getChildText('body'), 'to node1');
      assert.equal((await take(max, (e) => e.attr('id') === 'pr-2', 'reply at node2', T)).getChildText('body'), 'to node2');

      // Mia's presence change goes out from node1; Pat's comes in at node2 and reaches node1.
      mia.send(`<presence><status>node1 here</status></presence>`);
      await take(pat, (e) => isPresence(undefined, 'mia@a.localhost/r1')(e) && e.getChildText('status') === 'node1 here', 'mia\'s status', T);
      pat.send(`<presence><show>xa</show></presence>`);
      await take(mia, (e) => isPresence(undefined, 'pat@p.localhost/r1')(e) && e.getChildText('show') === 'xa', 'pat\'s show at node1', T);

      for (const [i, n] of A.entries()) {
        const out = federation(n).outgoingPairs().filter((p) => p.remote === 'p.localhost');
        assert.equal(out.length, 1, `node${i + 1}: one outgoing stream to p.localhost`);
        assert.deepEqual([out[0]!.ready, out[0]!.method], [true, 'dialback']);
      }
      assert.deepEqual(A.map((n) => federation(n).incoming.size), [0, 1], 'Prosody connects to node2 only');
      await sleep(500);
      for (const id of ['pm-1', 'pm-2']) assert.equal(messages(pat, id).length, 1, `${id} once`);
    } catch (e) { console.error(P.log().slice(-6000)); throw e; }
  });
});
