// External components (XEP-0114, jabber:component:accept) over real sockets: the handshake, the
// header and addressing errors, one connection per domain, stanzas both ways between a c2s client
// and the component, the bounce while it is away, disco#items; then the same flow driven by
// xmpp.js's @xmpp/component, a component library written by a third party.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { byId, errorCondition, login, none } from '../im/roster-helpers.js';
import { xml as el, type Element } from '@magpie/core/xml/element';

const require = createRequire(import.meta.url);
const { component, xml } = require('@xmpp/component') as typeof import('@xmpp/component');

const ACCEPT = 'jabber:component:accept';
const STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
const SECRET = 's3cret:with&odd<chars>';
const streamError = (c: RawClient): string | undefined =>
  c.elements.find((e) => e.name === 'error' && e.xmlns === 'http://etherx.jabber.org/streams')?.elements().find((e) => e.xmlns === STREAMS && e.name !== 'text')?.name;

function openComponent(c: RawClient, to: string, ns = ACCEPT): void {
  c.send(`<?xml version='1.0'?><stream:stream xmlns='${ns}' xmlns:stream='http://etherx.jabber.org/streams' to='${to}'>`);
}

/** Connect, open and hand-shake; returns the client (handshake answered or not). */
async function connectComponent(ts: TestServer, domain: string, secret = SECRET): Promise<RawClient> {
  const c = await RawClient.connect(ts.server.port('component'));
  openComponent(c, domain);
  await c.until(() => c.header !== undefined, 5000, 'stream header');
  const digest = createHash('sha1').update(c.header!.id + secret).digest('hex');
  c.send(`<handshake>${digest}</handshake>`);
  return c;
}

async function authenticated(ts: TestServer, domain: string): Promise<RawClient> {
  const c = await connectComponent(ts, domain);
  await c.next((e) => e.name === 'handshake');
  return c;
}

async function closedWith(c: RawClient, condition: string): Promise<void> {
  await c.waitClosed(8000);
  assert.equal(streamError(c), condition, c.text);
}

describe('external components (XEP-0114)', () => {
  let ts: TestServer; let alice: RawClient;
  before(async () => {
    const dir = (await import('node:fs')).mkdtempSync(join((await import('node:os')).tmpdir(), 'magpie-comp-'));
    writeFileSync(join(dir, 'secret'), 'from-a-file\n');
    ts = await startTestServer({
      listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }, { type: 'component', address: '127.0.0.1', port: 0 }],
      components: [
        { domain: 'echo.localhost', secret: SECRET, name: 'Echo' },
        { domain: 'away.localhost', secret: SECRET },
        { domain: 'filed.localhost', secretFile: join(dir, 'secret') },
        { domain: 'xmppjs.localhost', secret: 'xmpp.js secret' },
      ],
    });
    await ts.addUser('alice', 'pw');
    alice = await login(ts, 'alice', 'phone');
  });
  after(async () => { alice.destroy(); await ts.stop(); });

  it('accepts the right handshake: header from the component domain, no version, empty <handshake/>', async () => {
    const c = await authenticated(ts, 'echo.localhost');
    try {
      assert.equal(c.header!.from, 'echo.localhost');
      assert.equal(c.header!.version, undefined);
      assert.match(c.text, /xmlns='jabber:component:accept'/);
      assert.ok(ts.server.components.isConnected('echo.localhost'));
    } finally { c.destroy(); }
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(ts.server.components.isConnected('echo.localhost'), false, 'a dropped connection is detached');
  });

  it('reads the secret from secretFile', async () => {
    const c = await connectComponent(ts, 'filed.localhost', 'from-a-file');
    try { await c.next((e) => e.name === 'handshake'); } finally { c.destroy(); }
  });

  it('a wrong handshake → not-authorized and the connection closes', async () => {
    const failures = ts.server.metrics.snapshot()['components.auth_failures'] ?? 0;
    const c = await connectComponent(ts, 'echo.localhost', 'wrong secret');
    await closedWith(c, 'not-authorized');
    assert.ok(!c.elements.some((e) => e.name === 'handshake'));
    assert.equal(ts.server.metrics.snapshot()['components.auth_failures'], failures + 1);
  });

  it('a stanza instead of the handshake → not-authorized', async () => {
    const c = await RawClient.connect(ts.server.port('component'));
    openComponent(c, 'echo.localhost');
    c.send(`<message from='x@echo.localhost' to='alice@localhost'><body>early</body></message>`);
    await closedWith(c, 'not-authorized');
    await none(alice, (e) => e.getChildText('body') === 'early', 'a message before the handshake');
  });

  it('an unknown component domain or a hosted domain → host-unknown; a client namespace → invalid-namespace', async () => {
    for (const to of ['nope.localhost', 'localhost']) {
      const c = await RawClient.connect(ts.server.port('component'));
      openComponent(c, to);
      await closedWith(c, 'host-unknown');
    }
    const c = await RawClient.connect(ts.server.port('component'));
    openComponent(c, 'echo.localhost', 'jabber:client');
    await closedWith(c, 'invalid-namespace');
  });

  it('a second connection for a connected domain is refused with conflict; the first keeps working', async () => {
    const first = await authenticated(ts, 'echo.localhost');
    try {
      const second = await connectComponent(ts, 'echo.localhost');
      await closedWith(second, 'conflict');
      alice.send(`<message to='svc@echo.localhost' id='c1' type='chat'><body>still there?</body></message>`);
      const m = await first.next(byId('c1'));
      assert.equal(m.attr('from'), 'alice@localhost/phone');
    } finally { first.destroy(); }
  });

  it('routes stanzas both ways between a client and the component', async () => {
    const c = await authenticated(ts, 'echo.localhost');
    try {
      alice.send(`<message to='bot@echo.localhost' id='m1' type='chat'><body>hello bot</body><x xmlns='urn:example'/></message>`);
      const got = await c.next(byId('m1'));
      assert.equal(got.xmlns, ACCEPT, 'stanzas arrive in the component namespace');
      assert.equal(got.getChildText('body'), 'hello bot');
      assert.equal(got.attr('from'), 'alice@localhost/phone');
      assert.equal(got.attr('to'), 'bot@echo.localhost');
      assert.ok(got.getChild('x', 'urn:example'));
      assert.doesNotMatch(c.text, /xmlns="jabber:client"/, 'no jabber:client leaks onto the component stream');

      c.send(`<message from='bot@echo.localhost/r' to='alice@localhost/phone' id='m2' type='chat'><body>hello alice</body></message>`);
      const back = await alice.next(byId('m2'));
      assert.equal(back.attr('from'), 'bot@echo.localhost/r');
      assert.equal(back.getChildText('body'), 'hello alice');

      // An iq round trip: the client asks, the component answers.
      alice.send(`<iq to='echo.localhost' id='q1' type='get'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      const q = await c.next(byId('q1'));
      c.send(`<iq from='echo.localhost' to='${q.attr('from')}' id='q1' type='result'><query xmlns='http://jabber.org/protocol/disco#info'><identity category='gateway' type='smtp'/></query></iq>`);
      const r = await alice.next(byId('q1'));
      assert.equal(r.attr('type'), 'result');
      assert.equal(r.getChild('query', 'http://jabber.org/protocol/disco#info')?.getChild('identity')?.attr('type'), 'smtp');

      // The component reaches the server itself (XEP-0199 ping to the host).
      c.send(`<iq from='echo.localhost' to='localhost' id='p1' type='get'><ping xmlns='urn:xmpp:ping'/></iq>`);
      assert.equal((await c.next(byId('p1'))).attr('type'), 'result');

      // A message to an account that does not exist bounces back to the component.
      c.send(`<message from='bot@echo.localhost' to='nobody@localhost' id='m3' type='chat'><body>x</body></message>`);
      assert.equal(errorCondition(await c.next(byId('m3'))), 'service-unavailable');

      // A malformed `to` is a stanza error, not the end of the stream.
      c.send(`<message from='bot@echo.localhost' to='a@b@c' id='m4'><body>x</body></message>`);
      const m4 = await c.next(byId('m4'));
      assert.equal(errorCondition(m4), 'jid-malformed');
      assert.equal(m4.attr('from'), 'localhost', 'answered by the server, not from the malformed address');
    } finally { c.destroy(); }
  });

  it('a `from` outside the component domain → invalid-from; a missing `to` → improper-addressing', async () => {
    const c = await authenticated(ts, 'echo.localhost');
    c.send(`<message from='alice@localhost' to='alice@localhost/phone' id='spoof'><body>spoofed</body></message>`);
    await closedWith(c, 'invalid-from');
    await none(alice, byId('spoof'), 'the spoofed message');
    const d = await authenticated(ts, 'echo.localhost');
    d.send(`<message from='bot@echo.localhost' id='nt'><body>no to</body></message>`);
    await closedWith(d, 'improper-addressing');
  });

  it('a configured component that is not connected → service-unavailable; an unknown subdomain → remote-server-not-found', async () => {
    alice.send(`<message to='x@away.localhost' id='b1' type='chat'><body>anyone?</body></message>`);
    const e = await alice.next(byId('b1'));
    assert.equal(e.attr('type'), 'error');
    assert.equal(errorCondition(e), 'service-unavailable');
    assert.equal(e.attr('from'), 'x@away.localhost');
    alice.send(`<iq to='away.localhost' id='b2' type='get'><query xmlns='jabber:iq:version'/></iq>`);
    assert.equal(errorCondition(await alice.next(byId('b2'))), 'service-unavailable');
    // An error is never answered with an error (RFC 6120 §8.3.1).
    const mark = alice.elements.length;
    alice.send(`<message to='x@away.localhost' id='b3' type='error'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
    await none(alice, (e2) => alice.elements.indexOf(e2) >= mark && e2.attr('id') === 'b3', 'an error to an error');
    alice.send(`<message to='x@nowhere.example' id='b4' type='chat'><body>?</body></message>`);
    assert.equal(errorCondition(await alice.next(byId('b4'))), 'remote-server-not-found');
  });

  it('lists connected components in the server disco#items', async () => {
    const items = async (id: string): Promise<{ jid?: string; name?: string }[]> => {
      alice.send(`<iq to='localhost' id='${id}' type='get'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`);
      const r = await alice.next(byId(id));
      return (r.getChild('query', 'http://jabber.org/protocol/disco#items')?.getChildren('item') ?? []).map((i: Element) => ({ jid: i.attr('jid'), name: i.attr('name') }));
    };
    assert.ok(!(await items('d0')).some((i) => i.jid === 'echo.localhost'), 'a disconnected component is not listed');
    const c = await authenticated(ts, 'echo.localhost');
    try {
      assert.deepEqual((await items('d1')).filter((i) => i.jid === 'echo.localhost'), [{ jid: 'echo.localhost', name: 'Echo' }]);
    } finally { c.destroy(); }
  });

  it('times out a connection that never hands shake', async () => {
    const slow = await startTestServer({
      listeners: [{ type: 'component', address: '127.0.0.1', port: 0 }],
      components: [{ domain: 'slow.localhost', secret: 'x' }],
      limits: { negotiationTimeout: 1 },
    });
    try {
      const c = await RawClient.connect(slow.server.port('component'));
      openComponent(c, 'slow.localhost');
      await closedWith(c, 'connection-timeout');
    } finally { await slow.stop(); }
  });

  it('works with xmpp.js (@xmpp/component): handshake, messages both ways, iq answered by the component', async () => {
    const xmpp = component({ service: `xmpp://127.0.0.1:${ts.server.port('component')}`, domain: 'xmppjs.localhost', password: 'xmpp.js secret' });
    xmpp.on('error', () => {});
    const inbox: { attrs: Record<string, string>; getChildText(n: string): string | null }[] = [];
    xmpp.on('stanza', (s: never) => { if ((s as { name: string }).name === 'message') inbox.push(s); });
    xmpp.iqCallee.get('jabber:iq:version', 'query', () => xml('query', 'jabber:iq:version', {}, xml('name', {}, 'xmpp.js component')));
    xmpp.iqCallee.get('urn:xmpp:ping', 'ping', () => true);
    try {
      const jid = await xmpp.start();
      assert.equal(jid.toString(), 'xmppjs.localhost');
      alice.send(`<message to='echo@xmppjs.localhost' id='j1' type='chat'><body>hi xmpp.js</body></message>`);
      const end = Date.now() + 5000;
      while (!inbox.some((m) => m.attrs.id === 'j1') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      const m = inbox.find((x) => x.attrs.id === 'j1');
      assert.ok(m, 'the component received the message');
      assert.equal(m.attrs.from, 'alice@localhost/phone');
      assert.equal(m.getChildText('body'), 'hi xmpp.js');
      await xmpp.send(xml('message', { from: 'echo@xmppjs.localhost', to: 'alice@localhost/phone', type: 'chat', id: 'j2' }, xml('body', {}, 'hi alice from xmpp.js')));
      const back = await alice.next(byId('j2'));
      assert.equal(back.getChildText('body'), 'hi alice from xmpp.js');
      alice.send(`<iq to='xmppjs.localhost' id='j3' type='get'><query xmlns='jabber:iq:version'/></iq>`);
      const v = await alice.next(byId('j3'));
      assert.equal(v.attr('type'), 'result');
      assert.equal(v.getChild('query', 'jabber:iq:version')?.getChildText('name'), 'xmpp.js component');
      // The server asks the component: a request from the server is answered through the stream.
      const pong = await ts.server.router.request(el('iq', 'jabber:client', { type: 'get', from: 'localhost', to: 'xmppjs.localhost' }, el('ping', 'urn:xmpp:ping')), 5000);
      assert.equal(pong.attr('type'), 'result');
      assert.equal(pong.attr('from'), 'xmppjs.localhost');
    } finally { await xmpp.stop(); }
  });
});
