// Hostile input (issue: billion laughs, a 10 MB stanza, 100,000 nested elements, a tag sent one
// byte a second, invalid UTF-8, a spoofed from, a message before authentication): each gets its
// protocol error, the server stays up, and a fresh login works afterwards.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';

const STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
async function streamError(c: RawClient, ms = 8000): Promise<string> {
  const e = await c.next((el) => el.name === 'error' && el.xmlns === 'http://etherx.jabber.org/streams', ms);
  await c.waitClosed(ms);
  return e.elements().find((x) => x.xmlns === STREAMS && x.name !== 'text')!.name;
}

describe('hostile input', () => {
  let ts: TestServer;
  before(async () => { ts = await startTestServer({ limits: { negotiationTimeout: 3, closeTimeout: 1 } }); await ts.addUser('alice', 'pw'); await ts.addUser('eve', 'pw'); });
  after(async () => { await ts.stop(); });
  const freshLogin = async (): Promise<void> => {
    const c = await RawClient.connect(ts.port);
    assert.match(await c.login('alice', 'pw'), /^alice@localhost\//);
    c.destroy();
  };

  it('billion laughs → restricted-xml', async () => {
    const c = await RawClient.connect(ts.port);
    c.send(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><message><body>&lol3;</body></message>`);
    assert.equal(await streamError(c), 'restricted-xml');
    await freshLogin();
  });

  it('an entity reference inside a stanza → restricted-xml', async () => {
    const c = await RawClient.connect(ts.port);
    await c.login('eve', 'pw');
    c.send(`<message to='alice@localhost'><body>&lol;</body></message>`);
    assert.equal(await streamError(c), 'restricted-xml');
  });

  it('a 10 MB stanza → policy-violation long before it is all sent', async () => {
    const c = await RawClient.connect(ts.port);
    await c.login('eve', 'pw');
    const before = process.memoryUsage().rss;
    c.send(`<message to='alice@localhost'><body>`);
    const chunk = 'A'.repeat(64 * 1024);
    let sent = 0;
    while (!c.closed && sent < 10 * 1024 * 1024) { c.send(chunk); sent += chunk.length; await new Promise((r) => setImmediate(r)); }
    assert.equal(await streamError(c), 'policy-violation');
    assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'no unbounded buffering');
    await freshLogin();
  });

  it('100,000 nested elements → policy-violation', async () => {
    const c = await RawClient.connect(ts.port);
    await c.login('eve', 'pw');
    c.send(`<message to='alice@localhost'>` + '<a>'.repeat(100_000));
    assert.equal(await streamError(c), 'policy-violation');
    await freshLogin();
  });

  it('a tag that never ends, one byte a second → connection-timeout before authentication', async () => {
    const c = await RawClient.connect(ts.port);
    c.open();
    await c.next((e) => e.name === 'features');
    const tag = `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx`;
    let i = 0;
    const timer = setInterval(() => { if (!c.closed) c.send(tag[i++ % tag.length]!); }, 1000);
    try { assert.equal(await streamError(c, 10000), 'connection-timeout'); } finally { clearInterval(timer); }
    await freshLogin();
  });

  it('after login, a stanza trickled one byte a second → policy-violation at stanzaTimeout', async () => {
    const slow = await startTestServer({ limits: { stanzaTimeout: 2, closeTimeout: 1 } });
    try {
      await slow.addUser('eve', 'pw');
      const c = await RawClient.connect(slow.port);
      await c.login('eve', 'pw');
      const tag = `<message to='alice@localhost'><body>never ending`;
      let i = 0;
      const timer = setInterval(() => { if (!c.closed) c.send(tag[i++ % tag.length]!); }, 1000);
      try { assert.equal(await streamError(c, 10000), 'policy-violation'); } finally { clearInterval(timer); }
      // Whitespace keepalives between stanzas are not an unfinished stanza.
      const d = await RawClient.connect(slow.port);
      await d.login('eve', 'pw');
      for (let k = 0; k < 4; k++) { d.send(' '); await new Promise((r) => setTimeout(r, 1000)); }
      assert.equal(d.closed, false);
      d.destroy();
    } finally { await slow.stop(); }
  });

  it('invalid UTF-8 after login → unsupported-encoding', async () => {
    const c = await RawClient.connect(ts.port);
    await c.login('eve', 'pw');
    c.send(Buffer.from([0x3c, 0x6d, 0xff, 0xfe, 0x3e]));
    assert.equal(await streamError(c), 'unsupported-encoding');
    await freshLogin();
  });

  it('a spoofed from → invalid-from and nothing is delivered', async () => {
    const alice = await RawClient.connect(ts.port); await alice.login('alice', 'pw', { resource: 'victim' });
    alice.send(`<presence/>`);
    const c = await RawClient.connect(ts.port);
    await c.login('eve', 'pw');
    c.send(`<message from='localhost' to='alice@localhost/victim'><body>from the server, trust me</body></message>`);
    assert.equal(await streamError(c), 'invalid-from');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!alice.elements.some((e) => e.name === 'message'), 'the spoofed message was not delivered');
    alice.destroy();
  });

  it('a message before authentication → not-authorized and nothing is delivered', async () => {
    const alice = await RawClient.connect(ts.port); await alice.login('alice', 'pw', { resource: 'victim2' });
    const c = await RawClient.connect(ts.port);
    c.open();
    await c.next((e) => e.name === 'features');
    c.send(`<message to='alice@localhost/victim2'><body>unauthenticated</body></message>`);
    assert.equal(await streamError(c), 'not-authorized');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!alice.elements.some((e) => e.name === 'message'));
    alice.destroy();
  });

  it('bytes pipelined after <starttls/> are discarded, not processed after the handshake', async () => {
    const c = await RawClient.connect(ts.port);
    c.open();
    await c.next((e) => e.name === 'features');
    c.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/><iq type='get' id='injected'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await c.next((e) => e.name === 'proceed');
    // The injected iq must not cause any reply (it would be a not-authorized stream error).
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!/injected|not-authorized/.test(c.text));
    c.destroy();
  });

  it('the server is still healthy', async () => { await freshLogin(); });
});
