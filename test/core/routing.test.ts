// Routing rules of RFC 6120 §8 and §10 and RFC 6121 §8.5 over real sockets.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import type { Element } from '@magpie/core/xml/element';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const cond = (e: Element): string | undefined => e.getChild('error')?.elements().find((c) => c.xmlns === STANZAS && c.name !== 'text')?.name;

describe('routing', () => {
  let ts: TestServer; let a: RawClient; let b: RawClient;
  before(async () => {
    // Without offline storage, so that the RFC 6121 §8.5.2 bounce for an offline account shows.
    ts = await startTestServer({ modules: { disabled: ['offline'] } });
    await ts.addUser('alice', 'pw-alice'); await ts.addUser('bob', 'pw-bob'); await ts.addUser('carol', 'pw-carol');
    a = await RawClient.connect(ts.port); await a.login('alice', 'pw-alice', { resource: 'a' });
    b = await RawClient.connect(ts.port); await b.login('bob', 'pw-bob', { resource: 'b' });
  });
  after(async () => { a.destroy(); b.destroy(); await ts.stop(); });

  it('message to an account that does not exist → service-unavailable (RFC 6121 §8.5.1)', async () => {
    a.send(`<message to='nobody@localhost' type='chat' id='x1'><body>hi</body></message>`);
    const e = await a.next((el) => el.attr('id') === 'x1');
    assert.equal(e.attr('type'), 'error'); assert.equal(cond(e), 'service-unavailable');
    assert.equal(e.attr('from'), 'nobody@localhost');
  });

  it('iq to an account that does not exist, or to an offline full JID → service-unavailable', async () => {
    a.send(`<iq to='nobody@localhost/x' type='get' id='x2'><query xmlns='jabber:iq:version'/></iq>`);
    assert.equal(cond(await a.next((el) => el.attr('id') === 'x2')), 'service-unavailable');
    a.send(`<iq to='carol@localhost/gone' type='get' id='x3'><query xmlns='jabber:iq:version'/></iq>`);
    assert.equal(cond(await a.next((el) => el.attr('id') === 'x3')), 'service-unavailable');
  });

  it('message to an offline account without offline storage → service-unavailable', async () => {
    a.send(`<message to='carol@localhost' type='chat' id='x4'><body>are you there</body></message>`);
    assert.equal(cond(await a.next((el) => el.attr('id') === 'x4')), 'service-unavailable');
  });

  it('an error is never answered with an error', async () => {
    a.send(`<message to='nobody@localhost' type='error' id='x5'><error type='cancel'><item-not-found xmlns='${STANZAS}'/></error></message>`);
    a.send(`<iq to='localhost' type='get' id='x6'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const next = await a.next((el) => el.attr('id') === 'x5' || el.attr('id') === 'x6');
    assert.equal(next.attr('id'), 'x6', 'no answer to the error message');
  });

  it('a domain that is not local → remote-server-not-found (no federation yet)', async () => {
    a.send(`<message to='someone@elsewhere.example' type='chat' id='x7'><body>hi</body></message>`);
    const e = await a.next((el) => el.attr('id') === 'x7');
    assert.equal(cond(e), 'remote-server-not-found');
  });

  it('iq without id, with a bad type, or with two payloads → bad-request', async () => {
    a.send(`<iq to='localhost' type='fetch' id='x8'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(cond(await a.next((el) => el.attr('id') === 'x8')), 'bad-request');
    a.send(`<iq to='localhost' type='get' id='x9'><ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal(cond(await a.next((el) => el.attr('id') === 'x9')), 'bad-request');
    a.send(`<iq to='localhost' type='get'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const e = await a.next((el) => el.name === 'iq' && el.attr('type') === 'error' && el.attr('id') === undefined);
    assert.equal(cond(e), 'bad-request');
  });

  it('a malformed to address → jid-malformed', async () => {
    a.send(`<message to='@@bad' type='chat' id='x10'><body>x</body></message>`);
    assert.equal(cond(await a.next((el) => el.attr('id') === 'x10')), 'jid-malformed');
  });

  it('from is stamped with the full JID, also when the client gave its bare JID', async () => {
    a.send(`<message to='bob@localhost/b' from='alice@localhost' id='x11'><body>stamp</body></message>`);
    const m = await b.next((el) => el.attr('id') === 'x11');
    assert.equal(m.attr('from'), 'alice@localhost/a');
  });

  it('iq to a full JID reaches that resource and its result comes back', async () => {
    a.send(`<iq to='bob@localhost/b' type='get' id='x12'><query xmlns='jabber:iq:version'/></iq>`);
    const q = await b.next((el) => el.attr('id') === 'x12');
    assert.equal(q.attr('from'), 'alice@localhost/a');
    b.send(`<iq to='alice@localhost/a' type='result' id='x12'><query xmlns='jabber:iq:version'><name>bobclient</name></query></iq>`);
    const r = await a.next((el) => el.attr('id') === 'x12');
    assert.equal(r.attr('type'), 'result'); assert.equal(r.attr('from'), 'bob@localhost/b');
  });

  it('a groupchat message to a bare JID → service-unavailable; headline to an offline user is dropped', async () => {
    a.send(`<message to='bob@localhost' type='groupchat' id='x13'><body>x</body></message>`);
    assert.equal(cond(await a.next((el) => el.attr('id') === 'x13')), 'service-unavailable');
    a.send(`<message to='carol@localhost' type='headline' id='x14'><body>news</body></message>`);
    a.send(`<iq to='localhost' type='get' id='x15'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.equal((await a.next((el) => el.attr('id') === 'x14' || el.attr('id') === 'x15')).attr('id'), 'x15');
  });
});

describe('module failures', () => {
  it('a module hook that throws during stream negotiation ends that stream with internal-server-error, not the server', async () => {
    const { defineModule } = await import('@magpie/server/modules/module');
    let armed = true;
    const faulty = defineModule({
      manifest: { name: 'faulty', description: 'throws from a features hook once', specs: [], defaultEnabled: true },
      setup(api) { api.hook('stream/features', () => { if (armed) { armed = false; throw new Error('module bug'); } }); },
    });
    const ts = await startTestServer({}, { modules: [faulty as never] });
    try {
      await ts.addUser('alice', 'pw');
      const c = await RawClient.connect(ts.port);
      c.open();
      const e = await c.next((el) => el.name === 'error');
      assert.ok(e.getChild('internal-server-error', 'urn:ietf:params:xml:ns:xmpp-streams'));
      await c.waitClosed();
      const d = await RawClient.connect(ts.port);
      assert.match(await d.login('alice', 'pw'), /^alice@localhost\//, 'the server is still up');
      d.destroy();
    } finally { await ts.stop(); }
  });
});
