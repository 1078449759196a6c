// Stream errors (RFC 6120 §4.9) over raw sockets: each condition that applies to a c2s stream,
// followed by a check that the server still accepts a fresh login.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import type { Element } from '@magpie/core/xml/element';

const STREAMS = 'urn:ietf:params:xml:ns:xmpp-streams';
async function streamError(c: RawClient, ms = 5000): Promise<string> {
  const e: Element = await c.next((el) => el.name === 'error' && el.xmlns === 'http://etherx.jabber.org/streams', ms);
  await c.waitClosed(ms + 2000);
  assert.match(c.text, /<\/stream:stream>/, 'the server closes its stream');
  return e.elements().find((x) => x.xmlns === STREAMS && x.name !== 'text')!.name;
}

describe('stream errors', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ limits: { negotiationTimeout: 2, maxStanzaBytes: 65536, closeTimeout: 1 } });
    await ts.addUser('alice', 'pw'); await ts.addUser('mallory', 'pw');
  });
  after(async () => { await ts.stop(); });

  const cases: [string, string, string][] = [
    ['host-unknown for a domain not served', `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='other.example' version='1.0'>`, 'host-unknown'],
    ['host-unknown without to', `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`, 'host-unknown'],
    ['invalid-namespace for a wrong stream namespace', `<stream:stream xmlns='jabber:client' xmlns:stream='urn:wrong' to='localhost' version='1.0'>`, 'invalid-namespace'],
    ['invalid-namespace for a wrong content namespace', `<stream:stream xmlns='jabber:wrong' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`, 'invalid-namespace'],
    ['unsupported-version without version 1.0', `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='0.9'>`, 'unsupported-version'],
    ['bad-namespace-prefix for an undeclared prefix', `<stream:stream xmlns='jabber:client' to='localhost' version='1.0'>`, 'bad-namespace-prefix'],
    ['not-well-formed for broken XML', `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><message><body></message>`, 'not-well-formed'],
    ['restricted-xml for a comment', `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><!-- hi -->`, 'restricted-xml'],
    ['restricted-xml for a DOCTYPE', `<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`, 'restricted-xml'],
    ['restricted-xml for a processing instruction', `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><?evil x?>`, 'restricted-xml'],
    ['unsupported-encoding for a UTF-16 declaration', `<?xml version='1.0' encoding='UTF-16'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>`, 'unsupported-encoding'],
    ['not-authorized for a message before authentication', `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><message to='alice@localhost'><body>spam</body></message>`, 'not-authorized'],
    ['unsupported-stanza-type for an unknown top-level element', `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><foo/>`, 'unsupported-stanza-type'],
    ['bad-format for text between stanzas', `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>hello`, 'bad-format'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, async () => {
      const c = await RawClient.connect(ts.port);
      c.send(input);
      assert.equal(await streamError(c), expected);
    });
  }

  it('unsupported-encoding for invalid UTF-8 bytes', async () => {
    const c = await RawClient.connect(ts.port);
    c.send(Buffer.concat([Buffer.from(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'><message><body>`), Buffer.from([0xc3, 0x28, 0xc0, 0xaf])]));
    assert.equal(await streamError(c), 'unsupported-encoding');
  });

  it('policy-violation for a stanza over the size limit', async () => {
    const c = await RawClient.connect(ts.port);
    c.open();
    await c.next((e) => e.name === 'features');
    c.send(`<message><body>${'x'.repeat(70000)}</body></message>`);
    assert.equal(await streamError(c), 'policy-violation');
  });

  it('invalid-from for a spoofed from address', async () => {
    const c = await RawClient.connect(ts.port);
    await c.login('mallory', 'pw');
    c.send(`<message from='alice@localhost/x' to='alice@localhost'><body>I am alice</body></message>`);
    assert.equal(await streamError(c), 'invalid-from');
  });

  it('connection-timeout when a client never authenticates', async () => {
    const c = await RawClient.connect(ts.port);
    c.open();
    assert.equal(await streamError(c, 6000), 'connection-timeout');
  });

  it('conflict closes the older session when the same resource binds again', async () => {
    const c1 = await RawClient.connect(ts.port);
    await c1.login('alice', 'pw', { resource: 'same' });
    const c2 = await RawClient.connect(ts.port);
    assert.equal(await c2.login('alice', 'pw', { resource: 'same' }), 'alice@localhost/same');
    assert.equal(await streamError(c1), 'conflict');
    c2.send(`<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal((await c2.next((e) => e.attr('id') === 'p')).attr('type'), 'result');
    c2.destroy();
  });

  it('closing handshake: the server answers </stream:stream> and closes', async () => {
    const c = await RawClient.connect(ts.port);
    await c.login('alice', 'pw', { resource: 'bye' });
    c.send('</stream:stream>');
    await c.waitClosed();
    assert.match(c.text, /<\/stream:stream>$/);
  });

  it('a fresh login still works after all of the above', async () => {
    const c = await RawClient.connect(ts.port);
    assert.equal(await c.login('alice', 'pw', { resource: 'after' }), 'alice@localhost/after');
    c.destroy();
  });
});

describe('graceful shutdown', () => {
  it('closes every stream with system-shutdown', async () => {
    const ts = await startTestServer();
    await ts.addUser('alice', 'pw');
    const c1 = await RawClient.connect(ts.port); await c1.login('alice', 'pw', { resource: 'one' });
    const c2 = await RawClient.connect(ts.port); c2.open(); await c2.next((e) => e.name === 'features');
    const stopping = ts.stop();
    assert.equal(await streamError(c1), 'system-shutdown');
    assert.equal(await streamError(c2), 'system-shutdown');
    await stopping;
  });
});
