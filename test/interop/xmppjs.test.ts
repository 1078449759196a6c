// Interoperability with xmpp.js (@xmpp/client from npm): SCRAM-SHA-1 logins over STARTTLS and
// direct TLS, two resources of one account, iq round trips and messages with slixmpp.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { client, xml } from '@xmpp/client';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';

// The development certificate is self-signed; this test process trusts it.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

type XmppClient = ReturnType<typeof client>;
interface Stanza { name: string; attrs: Record<string, string>; getChildText(n: string): string | null; getChild(n: string, ns?: string): Stanza | undefined }

async function connect(service: string, username: string, password: string, resource: string): Promise<{ xmpp: XmppClient; jid: string; inbox: Stanza[]; mechanism: string }> {
  // xmpp.js gives a stream open 2 s by default; a loaded CI machine may need more for TLS + open.
  const xmpp = client({ service, domain: 'localhost', username, password, resource, timeout: 15_000 } as Parameters<typeof client>[0]);
  xmpp.on('error', () => {});
  const inbox: Stanza[] = [];
  xmpp.on('stanza', (s: Stanza) => { if (s.name === 'message') inbox.push(s); });
  let mechanism = '';
  xmpp.on('nonza', () => {});
  xmpp.on('send', (el: { name: string; attrs: Record<string, string> }) => { if (el.name === 'auth') mechanism = el.attrs.mechanism ?? ''; });
  try {
    const jid = await xmpp.start();
    return { xmpp, jid: jid.toString(), inbox, mechanism };
  } catch (e) {
    // A failed client would otherwise keep reconnecting (and keep this process alive).
    await xmpp.stop().catch(() => {});
    throw e;
  }
}

async function until<T>(f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) { const v = f(); if (v !== undefined) return v; if (Date.now() > end) throw new Error('timed out'); await new Promise((r) => setTimeout(r, 20)); }
}

describe('xmpp.js (@xmpp/client) interoperability', () => {
  let ts: TestServer;
  before(async () => { ts = await startTestServer(); await ts.addUser('alice', 'xmpp.js rocks'); await ts.addUser('bob', 'bobpw'); });
  after(async () => { await ts.stop(); });

  it('logs in over STARTTLS and over direct TLS with SCRAM-SHA-1 and binds two resources', async () => {
    const a = await connect(`xmpp://127.0.0.1:${ts.port}`, 'alice', 'xmpp.js rocks', 'laptop');
    const b = await connect(`xmpps://127.0.0.1:${ts.tlsPort}`, 'alice', 'xmpp.js rocks', 'phone');
    try {
      assert.equal(a.jid, 'alice@localhost/laptop');
      assert.equal(b.jid, 'alice@localhost/phone');
      assert.equal(a.mechanism, 'SCRAM-SHA-1');
      assert.equal(b.mechanism, 'SCRAM-SHA-1');
      assert.ok(ts.server.sessions.get('alice@localhost/laptop')?.secure, 'the STARTTLS session is encrypted');
      await a.xmpp.send(xml('message', { to: 'alice@localhost/phone', type: 'chat' }, xml('body', {}, 'laptop → phone')));
      const m = await until(() => b.inbox.find((s) => s.getChildText('body') === 'laptop → phone'));
      assert.equal(m.attrs.from, 'alice@localhost/laptop');
      const pong = await a.xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', 'urn:xmpp:ping')));
      assert.equal(pong.attrs.type, 'result');
      const ver = await b.xmpp.iqCaller.get(xml('query', 'jabber:iq:version'), 'localhost');
      assert.equal(ver.getChildText('name'), 'Magpie');
    } finally { await a.xmpp.stop(); await b.xmpp.stop(); }
  });

  it('a wrong password is rejected', async () => {
    await assert.rejects(connect(`xmpp://127.0.0.1:${ts.port}`, 'alice', 'nope', 'x'), /not-authorized/);
  });

  it('exchanges messages with slixmpp', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const a = await connect(`xmpp://127.0.0.1:${ts.port}`, 'alice', 'xmpp.js rocks', 'js');
    const s = new SlixClient({ jid: 'bob@localhost/py', password: 'bobpw', port: ts.port });
    try {
      await s.waitFor((e) => e.event === 'session_start');
      await a.xmpp.send(xml('message', { to: 'bob@localhost/py', type: 'chat' }, xml('body', {}, 'hello from xmpp.js')));
      const got = await s.waitFor((e) => e.event === 'message');
      assert.equal(got.body, 'hello from xmpp.js');
      assert.equal(got.frm, 'alice@localhost/js');
      s.command({ cmd: 'send', to: 'alice@localhost/js', body: 'hello from slixmpp' });
      const back = await until(() => a.inbox.find((x) => x.getChildText('body') === 'hello from slixmpp'), 10000);
      assert.equal(back.attrs.from, 'bob@localhost/py');
    } finally { await s.quit(); await a.xmpp.stop(); }
  });
});
