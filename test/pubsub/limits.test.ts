// PubSub limits and refusals with their XEP-0060 errors: payload size (payload-too-big), nodes
// per service (max-nodes-exceeded), max_items capped by the service, a persistent item without
// payload (payload-required), and a PEP service disabled by configuration.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { errorCondition, iq, login } from '../im/roster-helpers.js';
import { PUBSUB, appCondition, publish, pubsubIq } from './pubsub-helpers.js';

describe('PubSub limits', () => {
  let ts: TestServer;
  let a: RawClient;
  before(async () => {
    ts = await startTestServer({ modules: { options: { pubsub: { maxItemBytes: 1024, pep: { maxNodes: 3, maxItems: 5 } } } } });
    await ts.addUser('alice', 'pw');
    a = await login(ts, 'alice', 'r');
  });
  after(async () => { a.destroy(); await ts.stop(); });

  it('refuses a payload over maxItemBytes', async () => {
    const big = await publish(a, 'urn:t:big', `<x xmlns='urn:t'>${'y'.repeat(2000)}</x>`, '1');
    assert.equal(errorCondition(big), 'not-acceptable');
    assert.equal(appCondition(big), 'payload-too-big');
  });

  it('refuses a persistent item without payload', async () => {
    const r = await pubsubIq(a, 'set', `<publish node='urn:t:empty'><item id='1'/></publish>`);
    assert.equal(errorCondition(r), 'bad-request');
    assert.equal(appCondition(r), 'payload-required');
  });

  it('caps max_items=max at the service limit', async () => {
    for (let i = 1; i <= 7; i++) assert.equal((await publish(a, 'urn:t:many', `<x xmlns='urn:t'/>`, String(i), { 'pubsub#max_items': 'max' })).attr('type'), 'result');
    const items = (await pubsubIq(a, 'get', `<items node='urn:t:many'/>`)).getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChildren('item', PUBSUB);
    assert.deepEqual(items.map((i) => i.attr('id')), ['3', '4', '5', '6', '7']);
  });

  it('refuses nodes beyond maxNodes', async () => {
    for (const n of ['urn:t:n1', 'urn:t:n2']) await publish(a, n, `<x xmlns='urn:t'/>`, '1');
    const r = await publish(a, 'urn:t:n3', `<x xmlns='urn:t'/>`, '1');
    assert.equal(errorCondition(r), 'not-allowed');
    assert.equal(appCondition(r), 'max-nodes-exceeded');
    const c = await pubsubIq(a, 'set', `<create node='urn:t:n4'/>`);
    assert.equal(appCondition(c), 'max-nodes-exceeded');
  });
});

describe('PEP disabled', () => {
  it('answers service-unavailable and advertises no pep identity', async () => {
    const ts = await startTestServer({ modules: { options: { pubsub: { pep: { enabled: false } } } } });
    try {
      await ts.addUser('bob', 'pw');
      const b = await login(ts, 'bob', 'r');
      assert.equal(errorCondition(await publish(b, 'urn:t', `<x xmlns='urn:t'/>`, '1')), 'service-unavailable');
      const info = (await iq(b, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'bob@localhost')).getChild('query', 'http://jabber.org/protocol/disco#info')!;
      assert.ok(!info.getChildren('identity').some((i) => i.attr('type') === 'pep'));
      b.destroy();
    } finally { await ts.stop(); }
  });
});
