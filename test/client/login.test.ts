// @magpie/client logging in to a started Magpie over every transport: TCP with STARTTLS, direct
// TLS (XEP-0368), WebSocket (RFC 7395) and BOSH (XEP-0206); SCRAM-*-PLUS over TLS with channel
// binding and never over WebSocket; typed failures (wrong password, PLAIN refused without TLS,
// stream errors); iq request/response and timeouts.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, ConnectionError, TcpTransport, TimeoutError, XmppError, xml, type Client } from '@magpie/client/node';
import { WebSocket, WebSocketServer } from 'ws';
import { startTestServer, type TestServer } from '../support/server.js';
import { clientFor, type Via } from './helpers.js';

describe('client login', () => {
  let ts: TestServer;
  const clients: Client[] = [];
  const mk = (...a: Parameters<typeof clientFor>): Client => { const c = clientFor(...a); clients.push(c); return c; };
  before(async () => {
    ts = await startTestServer();
    for (const u of ['alice', 'bob']) await ts.addUser(u, 'pw');
  });
  after(async () => { for (const c of clients) await c.stop(); await ts.stop(); });

  for (const via of ['starttls', 'tls', 'ws', 'bosh'] as Via[]) {
    it(`logs in over ${via}, binds the requested resource and pings the server`, async () => {
      const c = mk(ts, 'alice', via, { resource: 'r-' + via });
      const statuses: string[] = [];
      c.on('status', (s) => statuses.push(s));
      const jid = await c.start();
      assert.equal(jid, `alice@localhost/r-${via}`);
      assert.equal(c.status, 'online');
      assert.deepEqual(statuses, ['connecting', 'online']);
      assert.equal(c.transportKind, via === 'ws' ? 'websocket' : via === 'bosh' ? 'bosh' : 'tcp');
      if (via === 'starttls' || via === 'tls') assert.equal(c.secure, true);
      const pong = await c.iq('get', 'localhost', xml('ping', 'urn:xmpp:ping'));
      assert.equal(pong.attr('type'), 'result');
      await c.stop();
      assert.equal(c.status, 'offline');
    });
  }

  it('uses SCRAM-SHA-512-PLUS with channel binding over TLS, plain SCRAM over WebSocket', async () => {
    const mechs: Record<string, string> = {};
    for (const via of ['starttls', 'tls', 'ws'] as Via[]) {
      const c = mk(ts, 'bob', via);
      c.on('output', (el) => { if (el.name === 'auth') mechs[via] = el.attr('mechanism')!; });
      await c.start();
      await c.stop();
    }
    assert.equal(mechs.starttls, 'SCRAM-SHA-512-PLUS');
    assert.equal(mechs.tls, 'SCRAM-SHA-512-PLUS');
    assert.equal(mechs.ws, 'SCRAM-SHA-512');
  });

  it('SCRAM-PLUS binds with tls-server-end-point on TLS 1.2 (no tls-exporter there)', async () => {
    const c = mk(ts, 'bob', 'tls', { tls: { rejectUnauthorized: false, maxVersion: 'TLSv1.2' } });
    let auth = '';
    c.on('output', (el) => { if (el.name === 'auth') auth = el.text(); });
    await c.start();
    // GS2 header "p=tls-server-end-point,," at the start of the client-first message.
    assert.match(Buffer.from(auth, 'base64').toString(), /^p=tls-server-end-point,,n=bob,/);
    await c.stop();
  });

  it('each SCRAM variant the allow-list picks works, -PLUS included', async () => {
    for (const m of ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS', 'PLAIN']) {
      const c = mk(ts, 'bob', 'tls', { mechanisms: [m] });
      let used = '';
      c.on('output', (el) => { if (el.name === 'auth') used = el.attr('mechanism')!; });
      await c.start();
      assert.equal(used, m);
      await c.stop();
    }
  });

  it('a wrong password is a typed AuthError and the client stays offline', async () => {
    const c = mk(ts, 'alice', 'starttls', { password: 'nope' });
    let offline = 0;
    c.on('offline', () => offline++);
    await assert.rejects(c.start(), (e: unknown) => e instanceof AuthError && e.condition === 'not-authorized');
    assert.equal(c.status, 'offline');
    assert.equal(offline, 1);
  });

  it('never sends PLAIN over an unencrypted WebSocket unless allowed on loopback', async () => {
    const c = mk(ts, 'alice', 'ws', { mechanisms: ['PLAIN'] });
    await assert.rejects(c.start(), (e: unknown) => e instanceof AuthError && e.condition === 'no-mechanism');
    const d = mk(ts, 'alice', 'ws', { mechanisms: ['PLAIN'], plain: 'tls-or-loopback' });
    await d.start();
    await d.stop();
  });

  it('refuses to authenticate over unencrypted non-loopback TCP (requireTls)', async () => {
    // A transport that cannot upgrade and is not loopback: the policy must stop before SASL.
    const c = mk(ts, 'alice', 'starttls', {
      connect: async () => {
        const t = new TcpTransport({ host: '127.0.0.1', port: ts.port });
        Object.defineProperty(t, 'loopback', { value: false });
        Object.defineProperty(t, 'canStartTls', { value: false });
        await t.connect();
        return t;
      },
    });
    let authSent = false;
    c.on('output', (el) => { if (el.name === 'auth') authSent = true; });
    await assert.rejects(c.start(), (e: unknown) => e instanceof ConnectionError && e.code === 'insecure');
    assert.equal(authSent, false);
  });

  it('an iq to nobody answering times out with TimeoutError; errors are XmppError with condition and type', async () => {
    const c = mk(ts, 'alice', 'starttls');
    await c.start();
    await assert.rejects(c.iq('get', 'localhost', xml('query', 'urn:example:unknown')), (e: unknown) =>
      e instanceof XmppError && e.condition === 'service-unavailable' && e.type === 'cancel');
    // A full JID of an offline resource: the server answers for it with an error…
    await assert.rejects(c.iq('get', 'bob@localhost/nowhere', xml('ping', 'urn:xmpp:ping')), XmppError);
    // …but a client that never answers makes the request time out.
    const quiet = mk(ts, 'bob', 'ws', { resource: 'quiet' });
    await quiet.start();
    quiet.handleIq('get', 'urn:example:slow', 'q', () => new Promise(() => {}));
    const t0 = Date.now();
    await assert.rejects(c.iq('get', quiet.jid!.toString(), xml('q', 'urn:example:slow'), { timeout: 300 }), (e: unknown) => e instanceof TimeoutError);
    assert.ok(Date.now() - t0 >= 290);
    assert.equal(c.status, 'online', 'a timeout does not end the session');
    await c.stop(); await quiet.stop();
  });

  it('a server that cannot prove it knows the password (forged SCRAM signature) fails hard', async () => {
    // A WebSocket man in the middle that relays to Magpie but rewrites the server signature.
    const mitm = new WebSocketServer({ port: 0, host: '127.0.0.1', handleProtocols: () => 'xmpp' });
    mitm.on('connection', (down) => {
      const up = new WebSocket(ts.wsUrl, 'xmpp');
      const pending: string[] = [];
      up.on('open', () => { for (const m of pending.splice(0)) up.send(m); });
      down.on('message', (d) => { if (up.readyState === up.OPEN) up.send(d.toString()); else pending.push(d.toString()); });
      up.on('message', (d) => {
        let text = d.toString();
        const m = /<success xmlns="urn:ietf:params:xml:ns:xmpp-sasl">([^<]+)<\/success>/.exec(text);
        if (m) text = text.replace(m[1]!, Buffer.from('v=' + Buffer.alloc(64, 7).toString('base64')).toString('base64'));
        down.send(text);
      });
      up.on('close', () => down.close()); down.on('close', () => up.close());
    });
    await new Promise((r) => mitm.once('listening', r));
    try {
      const c = mk(ts, 'alice', 'ws', { service: `ws://127.0.0.1:${(mitm.address() as { port: number }).port}` });
      let bound = false;
      c.on('output', (el) => { if (el.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind')) bound = true; });
      await assert.rejects(c.start(), (e: unknown) => e instanceof AuthError && e.condition === 'server-verification');
      assert.equal(bound, false, 'nothing is sent after the failed verification');
      assert.equal(c.status, 'offline');
    } finally { mitm.close(); }
  });

  it('connection refused is a ConnectionError', async () => {
    const c = mk(ts, 'alice', 'starttls', { service: 'xmpp://127.0.0.1:1' });
    await assert.rejects(c.start(), ConnectionError);
  });
});
