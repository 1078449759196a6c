// Logging in over real sockets (RFC 6120 §5–§7): STARTTLS and direct TLS, each SCRAM variant
// with and without channel binding, two resources of one account exchanging messages, and the
// first service modules (XEP-0030, XEP-0199, XEP-0092, XEP-0202).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';

describe('c2s login and routing', () => {
  let ts: TestServer;
  before(async () => { ts = await startTestServer(); await ts.addUser('alice', 'wonder land'); await ts.addUser('bob', 'b0b-secret'); });
  after(async () => { await ts.stop(); });

  it('advertises STARTTLS and the SASL mechanisms, then channel binding after TLS', async () => {
    const c = await RawClient.connect(ts.port);
    c.open();
    const f = await c.next((e) => e.name === 'features');
    assert.ok(f.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'));
    const mechs = f.getChild('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl')!.getChildren('mechanism').map((m) => m.text());
    assert.ok(mechs.includes('SCRAM-SHA-256') && mechs.includes('SCRAM-SHA-1') && mechs.includes('PLAIN'));
    assert.ok(!mechs.some((m) => m.endsWith('-PLUS')), 'no -PLUS without TLS');
    assert.equal(c.header?.from, 'localhost');
    assert.ok((c.header?.id ?? '').length >= 16, 'stream id is long and random');
    await c.startTls();
    c.open();
    const f2 = await c.next((e) => e.name === 'features');
    assert.equal(f2.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'), undefined);
    const m2 = f2.getChild('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl')!.getChildren('mechanism').map((m) => m.text());
    assert.ok(m2.includes('SCRAM-SHA-256-PLUS'));
    const cb = f2.getChild('sasl-channel-binding', 'urn:xmpp:sasl-cb:0')!.getChildren('channel-binding').map((x) => x.attr('type'));
    assert.ok(cb.includes('tls-exporter') && cb.includes('tls-server-end-point'));
    c.destroy();
  });

  for (const mech of ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-512-PLUS', 'PLAIN']) {
    it(`logs in with ${mech} over STARTTLS`, async () => {
      const c = await RawClient.connect(ts.port);
      const jid = await c.login('alice', 'wonder land', { starttls: true, mechanism: mech, resource: 'r-' + mech });
      assert.equal(jid, `alice@localhost/r-${mech}`);
      c.destroy();
    });
  }

  it('logs in over direct TLS (XEP-0368) with SCRAM-SHA-256-PLUS', async () => {
    const c = await RawClient.connect(ts.tlsPort, { tls: true });
    c.open();
    const f = await c.next((e) => e.name === 'features');
    assert.equal(f.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'), undefined);
    const r = await c.auth('SCRAM-SHA-256-PLUS', 'alice', 'wonder land');
    assert.equal(r.name, 'success');
    c.destroy();
  });

  it('generates a resource when the client asks for none, and answers legacy session', async () => {
    const c = await RawClient.connect(ts.port);
    const jid = await c.login('bob', 'b0b-secret');
    assert.match(jid, /^bob@localhost\/.+/);
    c.send(`<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`);
    const r = await c.next((e) => e.attr('id') === 's1');
    assert.equal(r.attr('type'), 'result');
    c.destroy();
  });

  it('routes messages between two resources of one account and between accounts, stamping from', async () => {
    const a1 = await RawClient.connect(ts.port);
    const a2 = await RawClient.connect(ts.port);
    const b = await RawClient.connect(ts.port);
    await a1.login('alice', 'wonder land', { resource: 'home' });
    await a2.login('alice', 'wonder land', { resource: 'work' });
    await b.login('bob', 'b0b-secret', { resource: 'phone' });
    a1.send(`<message to='alice@localhost/work' type='chat' id='m1'><body>from home</body></message>`);
    const m = await a2.next((e) => e.name === 'message');
    assert.equal(m.attr('from'), 'alice@localhost/home');
    assert.equal(m.getChildText('body'), 'from home');
    a2.send(`<message to='bob@localhost/phone' type='chat' id='m2'><body>hello bob &amp; &lt;friends&gt;</body><thread>t1</thread><x xmlns='urn:example:ext' a='1'><y/></x></message>`);
    const mb = await b.next((e) => e.name === 'message');
    assert.equal(mb.attr('from'), 'alice@localhost/work');
    assert.equal(mb.getChildText('body'), 'hello bob & <friends>');
    assert.equal(mb.getChildText('thread'), 't1');
    assert.equal(mb.getChild('x', 'urn:example:ext')?.attr('a'), '1', 'unknown extensions pass through');
    // A bare-JID message reaches the available resource with the highest priority.
    b.send(`<presence><priority>5</priority></presence>`);
    a1.send(`<presence><priority>1</priority></presence>`);
    await new Promise((r) => setTimeout(r, 100));
    a2.send(`<message to='bob@localhost' type='chat' id='m3'><body>bare</body></message>`);
    const mb2 = await b.next((e) => e.name === 'message' && e.attr('id') === 'm3');
    assert.equal(mb2.getChildText('body'), 'bare');
    for (const c of [a1, a2, b]) c.destroy();
  });

  it('answers disco#info, ping, version and time on the server, and errors for unknown namespaces', async () => {
    const c = await RawClient.connect(ts.port);
    await c.login('alice', 'wonder land', { resource: 'svc' });
    c.send(`<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
    const d = await c.next((e) => e.attr('id') === 'd1');
    assert.equal(d.attr('type'), 'result');
    assert.equal(d.attr('from'), 'localhost');
    const q = d.getChild('query', 'http://jabber.org/protocol/disco#info')!;
    assert.equal(q.getChild('identity')?.attr('category'), 'server');
    const feats = q.getChildren('feature').map((f) => f.attr('var'));
    for (const f of ['urn:xmpp:ping', 'jabber:iq:version', 'urn:xmpp:time', 'http://jabber.org/protocol/disco#items']) assert.ok(feats.includes(f), f);
    c.send(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal((await c.next((e) => e.attr('id') === 'p1')).attr('type'), 'result');
    c.send(`<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`);
    const v = await c.next((e) => e.attr('id') === 'v1');
    assert.equal(v.getChild('query', 'jabber:iq:version')?.getChildText('name'), 'Magpie');
    assert.equal(v.getChild('query', 'jabber:iq:version')?.getChild('os'), undefined, 'OS hidden by default');
    c.send(`<iq type='get' id='t1' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`);
    const t = await c.next((e) => e.attr('id') === 't1');
    assert.match(t.getChild('time', 'urn:xmpp:time')?.getChildText('utc') ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(t.getChild('time', 'urn:xmpp:time')?.getChildText('tzo') ?? '', /^[+-]\d\d:\d\d$/);
    c.send(`<iq type='get' id='u1' to='localhost'><query xmlns='urn:example:nobody'/></iq>`);
    const u = await c.next((e) => e.attr('id') === 'u1');
    assert.equal(u.attr('type'), 'error');
    assert.ok(u.getChild('error')?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
    c.destroy();
  });
});
