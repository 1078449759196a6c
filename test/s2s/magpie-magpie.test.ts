// Two Magpie servers federating on loopback (static routes instead of DNS): dialback with the
// generated self-signed certificates, SASL EXTERNAL with certificates from a test CA, direct
// TLS (XEP-0368); subscriptions, presence and messages both ways; what happens to stanzas while
// the peer is down (bounce) or restarting within s2s.retryWindow (queued, then delivered).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { isPresence, none, push, take } from '../im/roster-helpers.js';
import { condition, federation, hasOpenssl, loginAt, makeTestCa, route, s2sPort, startFederated, type TestCa } from './federation-helpers.js';

const T = 20_000; // first contact: TCP, TLS, dialback both ways on a loaded machine

/** Alice (on A) and Bob (on B) subscribe to each other, see presence, exchange messages. */
async function scenario(A: TestServer, B: TestServer): Promise<void> {
  const a = `alice@${A.domain}`, b = `bob@${B.domain}`;
  const alice = await loginAt(A, 'alice', 'r1');
  const bob = await loginAt(B, 'bob', 'r1');
  try {
    alice.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
    bob.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
    await take(alice, (e) => e.attr('id') === 'r0'); await take(bob, (e) => e.attr('id') === 'r0');
    alice.send(`<presence/>`); bob.send(`<presence/>`);
    await take(alice, isPresence(undefined, `${a}/r1`)); await take(bob, isPresence(undefined, `${b}/r1`));

    // RFC 6121 §3.1 across servers: Alice asks, Bob approves.
    alice.send(`<presence to='${b}' type='subscribe'/>`);
    assert.equal((await push(alice, b)).ask, 'subscribe');
    await take(bob, isPresence('subscribe', a), 'subscribe from alice', T);
    bob.send(`<presence to='${a}' type='subscribed'/>`);
    assert.equal((await push(bob, a)).subscription, 'from');
    assert.equal((await push(alice, b, T)).subscription, 'to');
    await take(alice, isPresence('subscribed', b), 'subscribed from bob', T);
    await take(alice, isPresence(undefined, `${b}/r1`), 'bob\'s presence after approval', T);

    // And back: Bob asks, Alice approves.
    bob.send(`<presence to='${a}' type='subscribe'/>`);
    const asking = await push(bob, a);
    assert.deepEqual([asking.subscription, asking.ask], ['from', 'subscribe']);
    await take(alice, isPresence('subscribe', b), 'subscribe from bob', T);
    alice.send(`<presence to='${b}' type='subscribed'/>`);
    assert.equal((await push(alice, b)).subscription, 'both');
    assert.equal((await push(bob, a, T)).subscription, 'both');
    await take(bob, isPresence(undefined, `${a}/r1`), 'alice\'s presence after approval', T);

    // Presence broadcast both ways.
    alice.send(`<presence><status>at lunch</status></presence>`);
    const pa = await take(bob, (e) => isPresence(undefined, `${a}/r1`)(e) && e.getChildText('status') === 'at lunch', 'alice\'s status', T);
    assert.equal(pa.attr('to'), b, 'broadcast to the contact\'s bare JID (RFC 6121 §4.4.2)');
    bob.send(`<presence><show>dnd</show></presence>`);
    await take(alice, (e) => isPresence(undefined, `${b}/r1`)(e) && e.getChildText('show') === 'dnd', 'bob\'s show', T);

    // Messages both ways, in order, with the jabber:client namespace restored for the client.
    for (let i = 1; i <= 3; i++) alice.send(`<message to='${b}' type='chat' id='m${i}'><body>hello ${i}</body></message>`);
    for (let i = 1; i <= 3; i++) {
      const m = await take(bob, (e) => e.name === 'message' && e.attr('id') === `m${i}`, `message ${i}`, T);
      assert.equal(m.attr('from'), `${a}/r1`);
      assert.equal(m.getChildText('body'), `hello ${i}`);
    }
    assert.ok(!/xmlns="jabber:server"/.test(bob.text), 'no jabber:server namespace reaches a client');
    const order = bob.elements.filter((e) => e.name === 'message').map((e) => e.attr('id'));
    assert.deepEqual(order, ['m1', 'm2', 'm3']);
    bob.send(`<message to='${a}/r1' type='chat' id='back'><body>hi alice</body></message>`);
    assert.equal((await take(alice, (e) => e.name === 'message' && e.attr('id') === 'back', 'reply', T)).getChildText('body'), 'hi alice');

    // An iq across servers (ping to the other user's full JID answered by the delivery rules).
    alice.send(`<iq type='get' id='xping' to='${b}/nope'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(condition(await take(alice, (e) => e.attr('id') === 'xping', 'iq error', T)), 'service-unavailable');

    // An iq to the other server itself, answered over the reverse stream.
    alice.send(`<iq type='get' id='sping' to='${B.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const pong = await take(alice, (e) => e.attr('id') === 'sping', 'server ping answer', T);
    assert.deepEqual([pong.attr('type'), pong.attr('from')], ['result', B.domain]);

    // Bob goes offline: Alice sees it.
    bob.send(`<presence type='unavailable'/>`);
    await take(alice, isPresence('unavailable', `${b}/r1`), 'bob unavailable', T);
  } finally { alice.destroy(); bob.destroy(); }
}

function methodOf(from: TestServer, to: TestServer): string | undefined {
  return federation(from).outgoingPairs().find((p) => p.remote === to.domain && p.ready)?.method;
}

describe('Magpie ↔ Magpie federation, dialback (self-signed certificates)', () => {
  let A: TestServer, B: TestServer;
  before(async () => {
    A = await startFederated('a.localhost');
    B = await startFederated('b.localhost');
    route(A, B); route(B, A);
    await A.addUser('alice', 'pw'); await B.addUser('bob', 'pw');
  });
  after(async () => { await A?.stop(); await B?.stop(); });

  it('subscriptions, presence and messages both ways', async () => {
    await scenario(A, B);
    assert.equal(methodOf(A, B), 'dialback');
    assert.equal(methodOf(B, A), 'dialback');
  });

  it('idle connections close after s2s.idleTimeout; the next stanza opens a new one', async () => {
    A.server.config.s2s.idleTimeout = 1; B.server.config.s2s.idleTimeout = 1;
    const alice = await loginAt(A, 'alice', 'idle');
    const bob = await loginAt(B, 'bob', 'idle');
    try {
      alice.send(`<message to='bob@b.localhost/idle' id='i1'><body>one</body></message>`);
      await take(bob, (e) => e.attr('id') === 'i1', 'first message', T);
      assert.ok(federation(A).outgoingPairs().some((p) => p.remote === 'b.localhost'));
      const deadline = Date.now() + 15_000;
      while (federation(A).outgoingPairs().length || federation(B).incomingPairs().length) {
        assert.ok(Date.now() < deadline, 'idle streams were closed');
        await new Promise((r) => setTimeout(r, 200));
      }
      alice.send(`<message to='bob@b.localhost/idle' id='i2'><body>two</body></message>`);
      await take(bob, (e) => e.attr('id') === 'i2', 'message on a new stream', T);
    } finally {
      A.server.config.s2s.idleTimeout = 600; B.server.config.s2s.idleTimeout = 600;
      alice.destroy(); bob.destroy();
    }
  });

  it('a requireValidCert policy refuses the self-signed peer (the stanza bounces)', async () => {
    A.server.config.s2s.domains['c.localhost'] = { requireValidCert: true };
    const C = await startFederated('c.localhost');
    try {
      route(A, C); route(C, A);
      await C.addUser('carol', 'pw');
      const alice = await loginAt(A, 'alice', 'pol');
      alice.send(`<message to='carol@c.localhost' id='pv'><body>x</body></message>`);
      assert.equal(condition(await take(alice, (e) => e.attr('id') === 'pv', 'bounce', T)), 'remote-server-not-found');
      alice.destroy();
    } finally { await C.stop(); }
  });
});

describe('Magpie ↔ Magpie federation, certificates from a test CA (SASL EXTERNAL)', { skip: !hasOpenssl() && 'openssl missing' }, () => {
  let ca: TestCa; let A: TestServer, B: TestServer;
  before(async () => {
    ca = makeTestCa(['a.localhost', 'b.localhost']);
    A = await startFederated('a.localhost', { ca });
    B = await startFederated('b.localhost', { ca, directTls: true });
    route(A, B, true); route(B, A);
    await A.addUser('alice', 'pw'); await B.addUser('bob', 'pw');
  });
  after(async () => { await A?.stop(); await B?.stop(); });

  it('authenticates with certificates both ways (A→B over direct TLS) and carries the same traffic', async () => {
    await scenario(A, B);
    assert.equal(methodOf(A, B), 'SASL EXTERNAL');
    assert.equal(methodOf(B, A), 'SASL EXTERNAL');
  });
});

describe('Magpie ↔ Magpie federation, one bidirectional connection (XEP-0288)', { skip: !hasOpenssl() && 'openssl missing' }, () => {
  let ca: TestCa; let A: TestServer, B: TestServer;
  before(async () => {
    ca = makeTestCa(['a.localhost', 'b.localhost']);
    A = await startFederated('a.localhost', { ca, s2s: { bidi: true } });
    B = await startFederated('b.localhost', { ca, s2s: { bidi: true } });
    route(A, B); route(B, A);
    await A.addUser('alice', 'pw'); await B.addUser('bob', 'pw');
  });
  after(async () => { await A?.stop(); await B?.stop(); });

  it('B answers over the connection A opened: no connection from B to A', async () => {
    await scenario(A, B);
    const out = federation(A).outgoingPairs();
    assert.deepEqual(out.map((p) => [p.remote, p.method, p.bidi]), [['b.localhost', 'SASL EXTERNAL', true]]);
    assert.deepEqual(federation(B).outgoingPairs(), [], 'B never connected to A');
  });
});

describe('Magpie ↔ Magpie federation, peer down, restarting, or silent', () => {
  let A: TestServer, B: TestServer;
  let bPort = 0;
  before(async () => {
    A = await startFederated('a.localhost', { s2s: { connectTimeout: 3, authTimeout: 3 } });
    B = await startFederated('b.localhost');
    bPort = s2sPort(B);
    route(A, B); route(B, A);
    await A.addUser('alice', 'pw'); await B.addUser('bob', 'pw');
  });
  after(async () => { await A?.stop(); await B?.stop(); });

  it('B stopped → remote-server-not-found; B back within the retry window → the queued stanzas arrive in order', async () => {
    const alice = await loginAt(A, 'alice', 'down');
    try {
      // Establish the link first, so stopping B tears down a live stream.
      alice.send(`<message to='bob@b.localhost' id='warm'><body>warm</body></message>`);
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 100 && !federation(A).outgoingPairs().some((p) => p.ready); i++) await new Promise((r) => setTimeout(r, 100));
      await B.stop(true);
      A.server.config.s2s.retryWindow = 0;
      alice.send(`<message to='bob@b.localhost' id='lost' type='chat'><body>nobody home</body></message>`);
      const e = await take(alice, (el) => el.attr('id') === 'lost', 'bounce', T);
      assert.equal(e.attr('type'), 'error');
      assert.equal(condition(e), 'remote-server-not-found');
      assert.equal(e.attr('from'), 'bob@b.localhost');

      // Now a window long enough for a restart: stanzas wait, then go out in order.
      A.server.config.s2s.retryWindow = 30;
      alice.send(`<message to='bob@b.localhost' id='q1' type='chat'><body>first</body></message>`);
      alice.send(`<message to='bob@b.localhost' id='q2' type='chat'><body>second</body></message>`);
      await new Promise((r) => setTimeout(r, 1500)); // a few refused rounds
      B = await startFederated('b.localhost', { s2sPort: bPort, dir: B.dir });
      route(B, A);
      const bob = await loginAt(B, 'bob', 'back');
      bob.send(`<presence/>`); // offline messages flow at initial presence
      const m1 = await take(bob, (el) => el.name === 'message' && el.attr('id') === 'q1', 'first queued message', T);
      const m2 = await take(bob, (el) => el.name === 'message' && el.attr('id') === 'q2', 'second queued message', T);
      assert.equal(m1.getChildText('body'), 'first'); assert.equal(m2.getChildText('body'), 'second');
      const ids = bob.elements.filter((el) => el.name === 'message').map((el) => el.attr('id'));
      assert.ok(ids.indexOf('q1') < ids.indexOf('q2'), `order ${ids.join(',')}`);
      await none(alice, (el) => el.attr('id') === 'q1' || el.attr('id') === 'q2', 'bounce of a delivered stanza');
      bob.destroy();
    } finally { alice.destroy(); }
  });

  it('a domain with no DNS records (SRV, then A/AAAA on 5269) → remote-server-not-found', async () => {
    A.server.config.s2s.retryWindow = 0;
    const alice = await loginAt(A, 'alice', 'nodns');
    try {
      alice.send(`<message to='someone@no-such-domain.invalid' id='nx'><body>?</body></message>`);
      assert.equal(condition(await take(alice, (el) => el.attr('id') === 'nx', 'bounce', 60_000)), 'remote-server-not-found');
    } finally { alice.destroy(); }
  });

  it('a peer that accepts TCP and never answers → remote-server-timeout after s2s.authTimeout', async () => {
    const silent = net.createServer((s) => { s.on('error', () => {}); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    A.server.config.s2s.routes['quiet.localhost'] = `127.0.0.1:${port}`;
    A.server.config.s2s.retryWindow = 0;
    const alice = await loginAt(A, 'alice', 'quiet');
    try {
      const t0 = Date.now();
      alice.send(`<message to='someone@quiet.localhost' id='hush'><body>?</body></message>`);
      const e = await take(alice, (el) => el.attr('id') === 'hush', 'timeout bounce', T);
      assert.equal(condition(e), 'remote-server-timeout');
      assert.ok(Date.now() - t0 >= 2500, 'not before the configured 3 s');
    } finally { alice.destroy(); silent.close(); }
  });

  it('too many stanzas queued for one domain → resource-constraint', async () => {
    const silent = net.createServer((s) => { s.on('error', () => {}); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    A.server.config.s2s.routes['full.localhost'] = `127.0.0.1:${(silent.address() as net.AddressInfo).port}`;
    const before = A.server.config.s2s.maxQueuedStanzas;
    A.server.config.s2s.maxQueuedStanzas = 2;
    const alice = await loginAt(A, 'alice', 'full');
    try {
      for (let i = 1; i <= 3; i++) alice.send(`<message to='x@full.localhost' id='f${i}'><body>${i}</body></message>`);
      assert.equal(condition(await take(alice, (el) => el.attr('id') === 'f3', 'overflow bounce', T)), 'resource-constraint');
      assert.equal(condition(await take(alice, (el) => el.attr('id') === 'f1', 'timeout bounce', T)), 'remote-server-timeout');
    } finally { alice.destroy(); silent.close(); A.server.config.s2s.maxQueuedStanzas = before; }
  });
});

export type { RawClient };
