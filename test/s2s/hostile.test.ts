// Hostile peers on raw s2s sockets against a Magpie server (a.localhost): a wrong stream `to`,
// stanzas before authentication, dialback with a key its claimed domain never issued (the
// real authoritative server, Magpie b.localhost, says so), dialback answers nobody asked for,
// db:verify of keys this server did or did not make, a forged `from` on an authenticated
// stream, a `to` that is not hosted here, and several domain pairs on one connection.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Element } from '@magpie/core/xml/element';
import { DialbackKeys } from '@magpie/server/s2s/dialback-key';
import type { TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { none, take } from '../im/roster-helpers.js';
import { loginAt, route, s2sPort, startFederated } from './federation-helpers.js';

const SECRET = 'hostile-test-secret-0123456789';
const DB = 'jabber:server:dialback';
const T = 15_000;

const header = (from: string | undefined, to: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='${DB}'${from ? ` from='${from}'` : ''} to='${to}' version='1.0'>`;

function streamError(c: RawClient): string | undefined {
  const e = c.elements.find((x) => x.name === 'error' && x.xmlns === 'http://etherx.jabber.org/streams');
  return e?.elements().find((x) => x.xmlns === 'urn:ietf:params:xml:ns:xmpp-streams' && x.name !== 'text')?.name;
}
async function expectStreamError(c: RawClient, cond: string): Promise<void> {
  await c.until(() => streamError(c) !== undefined, T, `stream error ${cond}`);
  assert.equal(streamError(c), cond);
  await c.waitClosed(T);
}

/** Open an s2s stream to A as `from` (STARTTLS first when `tls`); resolves after the features. */
async function openAs(port: number, from: string | undefined, to = 'a.localhost', tls = false): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.send(header(from, to));
  await c.next((e) => e.name === 'features' || e.name === 'error', T);
  if (tls && !c.elements.some((e) => e.name === 'error')) {
    await c.startTls(to);
    c.send(header(from, to));
    await c.next((e) => e.name === 'features', T);
  }
  return c;
}

/**
 * A fake authoritative server for the evil*.localhost domains: it answers every db:verify
 * whose key is 'evil-key' with valid (and any db:result of the server that connects with valid).
 */
async function fakeAuthoritative(): Promise<{ port: number; close(): void }> {
  const server = net.createServer((sock) => {
    const c = RawClient.fromSocket(sock);
    void (async () => {
      await c.until(() => !!c.header, T, 'header');
      const h = c.header!;
      c.send(`<?xml version='1.0'?><stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='${DB}' id='fake${Date.now()}' from='${h.to}' to='${h.from}' version='1.0'>`);
      c.send(`<stream:features><dialback xmlns='urn:xmpp:features:dialback'><errors/></dialback></stream:features>`);
      for (;;) {
        const el = await c.next((e) => e.xmlns === DB, 60_000).catch(() => undefined);
        if (!el) return;
        const ok = el.name === 'result' || el.text() === 'evil-key';
        c.send(`<db:${el.name} from='${el.attr('to')}' to='${el.attr('from')}'${el.attr('id') ? ` id='${el.attr('id')}'` : ''} type='${ok ? 'valid' : 'invalid'}'/>`);
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

describe('s2s: hostile peers', () => {
  let A: TestServer, B: TestServer;
  let fake: { port: number; close(): void };
  let port = 0;
  const keys = new DialbackKeys(SECRET);
  before(async () => {
    A = await startFederated('a.localhost', { s2s: { dialbackSecret: SECRET, domains: { 'evil.localhost': { requireTls: false }, 'evil2.localhost': { requireTls: false } } } });
    B = await startFederated('b.localhost');
    route(A, B); route(B, A);
    fake = await fakeAuthoritative();
    A.server.config.s2s.routes['evil.localhost'] = `127.0.0.1:${fake.port}`;
    A.server.config.s2s.routes['evil2.localhost'] = `127.0.0.1:${fake.port}`;
    await A.addUser('alice', 'pw');
    port = s2sPort(A);
  });
  after(async () => { fake?.close(); await A?.stop(); await B?.stop(); });

  /** An s2s stream authenticated (via the fake authoritative server) as evil.localhost. */
  async function evilStream(): Promise<RawClient> {
    const c = await openAs(port, 'evil.localhost');
    c.send(`<db:result from='evil.localhost' to='a.localhost'>evil-key</db:result>`);
    const r = await c.next((e) => e.name === 'result' && e.xmlns === DB, T);
    assert.equal(r.attr('type'), 'valid');
    return c;
  }

  it('a stream to a domain not served here → host-unknown', async () => {
    const c = await openAs(port, 'evil.localhost', 'nowhere.localhost');
    await expectStreamError(c, 'host-unknown');
  });

  it('a stanza before authentication → not-authorized', async () => {
    const c = await openAs(port, 'evil.localhost');
    c.send(`<message from='x@evil.localhost' to='alice@a.localhost'><body>early</body></message>`);
    await expectStreamError(c, 'not-authorized');
  });

  it('dialback with a key the claimed domain never issued → invalid, not-authorized, nothing delivered', async () => {
    const alice = await loginAt(A, 'alice', 'forged');
    try {
      alice.send(`<presence/>`);
      const c = await openAs(port, 'b.localhost', 'a.localhost', true);
      assert.ok(c.tlsSocket, 'TLS is required by default and was used');
      c.send(`<db:result from='b.localhost' to='a.localhost'>${'ab'.repeat(32)}</db:result>`);
      // 'invalid' (not an error) means B itself was asked and refused the key.
      const r = await c.next((e) => e.name === 'result' && e.xmlns === DB, T);
      assert.deepEqual([r.attr('type'), r.attr('from'), r.attr('to')], ['invalid', 'a.localhost', 'b.localhost']);
      c.send(`<message from='mallory@b.localhost' to='alice@a.localhost' id='forged'><body>trust me</body></message>`);
      await expectStreamError(c, 'not-authorized');
      await none(alice, (e) => e.name === 'message', 'a forged message', 1000);
    } finally { alice.destroy(); }
  });

  it('a dialback answer nobody asked for → not-authorized', async () => {
    const c = await openAs(port, 'evil.localhost');
    c.send(`<db:result from='evil.localhost' to='a.localhost' type='valid'/>`);
    await expectStreamError(c, 'not-authorized');
  });

  it('db:result for a domain not served here → item-not-found; claiming our own domain → not-authorized', async () => {
    const c = await openAs(port, 'evil.localhost');
    c.send(`<db:result from='evil.localhost' to='elsewhere.localhost'>evil-key</db:result>`);
    const r = await c.next((e) => e.name === 'result' && e.xmlns === DB, T);
    assert.equal(r.attr('type'), 'error');
    assert.ok(r.getChild('error', DB)?.getChild('item-not-found', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    // Nor may a peer claim a domain served here.
    c.send(`<db:result from='a.localhost' to='a.localhost'>evil-key</db:result>`);
    const own = await c.next((e) => e.name === 'result' && e.xmlns === DB, T);
    assert.equal(own.attr('type'), 'error');
    assert.ok(own.getChild('error', DB)?.getChild('not-authorized', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    c.destroy();
  });

  it('as authoritative server: db:verify is valid only for a key this server made for that stream', async () => {
    const c = await openAs(port, 'evil.localhost');
    const good = keys.generate('evil.localhost', 'a.localhost', 'S1');
    c.send(`<db:verify from='evil.localhost' to='a.localhost' id='S1'>${good}</db:verify>`);
    c.send(`<db:verify from='evil.localhost' to='a.localhost' id='S2'>${good}</db:verify>`);
    c.send(`<db:verify from='evil.localhost' to='a.localhost' id='S3'>never-issued</db:verify>`);
    const answers: Element[] = [];
    for (const id of ['S1', 'S2', 'S3']) answers.push(await c.next((e) => e.name === 'verify' && e.attr('id') === id, T));
    assert.deepEqual(answers.map((a) => a.attr('type')), ['valid', 'invalid', 'invalid']);
    assert.deepEqual([answers[0]!.attr('from'), answers[0]!.attr('to')], ['a.localhost', 'evil.localhost']);
    c.destroy();
  });

  it('an authenticated peer is delivered; a forged from → invalid-from and nothing delivered', async () => {
    const alice = await loginAt(A, 'alice', 'r1');
    try {
      alice.send(`<presence/>`);
      await take(alice, (e) => e.name === 'presence' && e.attr('from') === 'alice@a.localhost/r1');
      const c = await evilStream();
      c.send(`<message from='mallory@evil.localhost' to='alice@a.localhost' id='ok1' type='chat'><body>hello</body></message>`);
      const m = await take(alice, (e) => e.name === 'message' && e.attr('id') === 'ok1', 'the legitimate message', T);
      assert.equal(m.attr('from'), 'mallory@evil.localhost');
      c.send(`<message from='boss@b.localhost' to='alice@a.localhost' id='forged2' type='chat'><body>wire money</body></message>`);
      await expectStreamError(c, 'invalid-from');
      await none(alice, (e) => e.name === 'message' && e.attr('id') === 'forged2', 'the forged message', 1000);
    } finally { alice.destroy(); }
  });

  it('a stanza to a domain not served here → host-unknown; without from/to → improper-addressing', async () => {
    const c = await evilStream();
    c.send(`<message from='mallory@evil.localhost' to='bob@b.localhost'><body>relay me</body></message>`);
    await expectStreamError(c, 'host-unknown');
    const d = await evilStream();
    d.send(`<message to='alice@a.localhost'><body>who am I</body></message>`);
    await expectStreamError(d, 'improper-addressing');
  });

  it('several domain pairs on one stream: each needs its own dialback', async () => {
    const alice = await loginAt(A, 'alice', 'mux');
    try {
      alice.send(`<presence/>`);
      const c = await evilStream();
      c.send(`<db:result from='evil2.localhost' to='a.localhost'>evil-key</db:result>`);
      assert.equal((await c.next((e) => e.name === 'result' && e.attr('from') === 'a.localhost' && e.attr('to') === 'evil2.localhost', T)).attr('type'), 'valid');
      c.send(`<message from='x@evil.localhost' to='alice@a.localhost/mux' id='mx1'><body>1</body></message>`);
      c.send(`<message from='y@evil2.localhost' to='alice@a.localhost/mux' id='mx2'><body>2</body></message>`);
      await take(alice, (e) => e.attr('id') === 'mx1', 'message of the first pair', T);
      await take(alice, (e) => e.attr('id') === 'mx2', 'message of the second pair', T);
      c.destroy();
    } finally { alice.destroy(); }
  });
});
