// The generic PubSub service on pubsub.localhost (XEP-0060): discovery, node creation (named,
// instant, with configuration), subscriptions and notifications, publisher affiliations,
// retract/purge/delete, owner management, who may create nodes; and persistence across a
// restart, on SQLite and on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { pgTestUrl } from '../support/postgres.js';
import type { RawClient } from '../support/raw-client.js';
import { errorCondition, iq, login, presenceSync } from '../im/roster-helpers.js';
import { EVENT, OWNER, PUBSUB, publish, pubsubIq, takeEvent } from './pubsub-helpers.js';

const SVC = 'pubsub.localhost';
const INFO = 'http://jabber.org/protocol/disco#info';
const ITEMS = 'http://jabber.org/protocol/disco#items';
const configure = (fields: Record<string, string>) => `<configure><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#node_config</value></field>${
  Object.entries(fields).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join('')}</x></configure>`;
const ids = (r: { getChild: (n: string, ns?: string) => any }) => (r.getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChildren('item', PUBSUB) as { attr(n: string): string }[]).map((i) => i.attr('id'));

describe('generic PubSub service', () => {
  let ts: TestServer;
  const clients: RawClient[] = [];
  const on = async (u: string, r: string) => { const c = await login(ts, u, r); clients.push(c); return c; };
  before(async () => {
    ts = await startTestServer({ modules: { options: { pubsub: { service: { creators: ['alice@localhost', 'bob@localhost'] } } } } });
    for (const u of ['alice', 'bob', 'carol']) await ts.addUser(u, 'pw');
  });
  after(async () => { for (const c of clients) c.destroy(); await ts.stop(); });

  it('is discoverable from the server and describes itself', async () => {
    const a = await on('alice', 'disco');
    const items = (await iq(a, 'get', `<query xmlns='${ITEMS}'/>`, 'localhost')).getChild('query', ITEMS)!.getChildren('item').map((i) => i.attr('jid'));
    assert.ok(items.includes(SVC), items.join());
    const info = (await iq(a, 'get', `<query xmlns='${INFO}'/>`, SVC)).getChild('query', INFO)!;
    assert.ok(info.getChildren('identity').some((i) => i.attr('category') === 'pubsub' && i.attr('type') === 'service'));
    assert.ok(info.getChildren('feature').some((f) => f.attr('var') === `${PUBSUB}#instant-nodes`));
  });

  it('runs a node\'s life: create, subscribe, publish, affiliations, retract, purge, delete', async () => {
    const a = await on('alice', 'life');
    const b = await on('bob', 'life');
    const c = await on('carol', 'life');
    await presenceSync(c, '<presence/>'); // a headline to a bare JID goes to available resources only
    const created = await pubsubIq(a, 'set', `<create node='news'/>${configure({ 'pubsub#title': 'News', 'pubsub#max_items': '5' })}`, SVC);
    assert.equal(created.attr('type'), 'result', created.toString());
    assert.equal(errorCondition(await pubsubIq(a, 'set', `<create node='news'/>`, SVC)), 'conflict');
    const instant = await pubsubIq(a, 'set', `<create/>`, SVC);
    assert.ok(instant.getChild('pubsub', PUBSUB)!.getChild('create', PUBSUB)!.attr('node'), 'an instant node gets a name');
    assert.equal(errorCondition(await pubsubIq(c, 'set', `<create node='mine'/>`, SVC)), 'forbidden', 'carol is not among the creators');

    const sub = await pubsubIq(b, 'set', `<subscribe node='news' jid='bob@localhost/life'/>`, SVC);
    assert.equal(sub.getChild('pubsub', PUBSUB)!.getChild('subscription', PUBSUB)!.attr('subscription'), 'subscribed', sub.toString());
    assert.equal(errorCondition(await pubsubIq(c, 'set', `<subscribe node='news' jid='bob@localhost'/>`, SVC)), 'bad-request', 'one subscribes only oneself');
    assert.equal((await pubsubIq(c, 'set', `<subscribe node='news' jid='carol@localhost'/>`, SVC)).attr('type'), 'result');

    assert.equal((await publish(a, 'news', `<entry xmlns='http://www.w3.org/2005/Atom'><title>One</title></entry>`, 'n1', undefined, SVC)).attr('type'), 'result');
    const ev = await takeEvent(b, 'news', 'items', SVC);
    assert.equal(ev.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attr('id'), 'n1');
    await takeEvent(c, 'news', 'items', SVC); // a bare JID subscriber gets it at its bare JID
    assert.equal(errorCondition(await publish(b, 'news', `<entry xmlns='http://www.w3.org/2005/Atom'/>`, 'b1', undefined, SVC)), 'forbidden');
    const aff = await pubsubIq(a, 'set', `<affiliations node='news'><affiliation jid='bob@localhost' affiliation='publisher'/></affiliations>`, SVC, OWNER);
    assert.equal(aff.attr('type'), 'result', aff.toString());
    assert.equal((await publish(b, 'news', `<entry xmlns='http://www.w3.org/2005/Atom'><title>Two</title></entry>`, 'b1', undefined, SVC)).attr('type'), 'result');
    await takeEvent(b, 'news', 'items', SVC);
    const affs = (await pubsubIq(a, 'get', `<affiliations node='news'/>`, SVC, OWNER)).getChild('pubsub', OWNER)!.getChild('affiliations', OWNER)!.getChildren('affiliation').map((x) => `${x.attr('jid')}=${x.attr('affiliation')}`).sort();
    assert.deepEqual(affs, ['alice@localhost=owner', 'bob@localhost=publisher']);
    const subs = (await pubsubIq(a, 'get', `<subscriptions node='news'/>`, SVC, OWNER)).getChild('pubsub', OWNER)!.getChild('subscriptions', OWNER)!.getChildren('subscription').map((x) => x.attr('jid')).sort();
    assert.deepEqual(subs, ['bob@localhost/life', 'carol@localhost']);
    assert.equal(errorCondition(await pubsubIq(b, 'get', `<subscriptions node='news'/>`, SVC, OWNER)), 'forbidden');
    const mine = (await pubsubIq(b, 'get', `<subscriptions/>`, SVC)).getChild('pubsub', PUBSUB)!.getChild('subscriptions', PUBSUB)!.getChildren('subscription');
    assert.deepEqual(mine.map((s) => s.attr('node')), ['news']);

    // Discovery of the nodes, one node and its items.
    const nodes = (await iq(c, 'get', `<query xmlns='${ITEMS}'/>`, SVC)).getChild('query', ITEMS)!.getChildren('item');
    assert.ok(nodes.some((n) => n.attr('node') === 'news' && n.attr('name') === 'News'));
    const meta = (await iq(c, 'get', `<query xmlns='${INFO}' node='news'/>`, SVC)).getChild('query', INFO)!;
    assert.ok(meta.getChildren('identity').some((i) => i.attr('type') === 'leaf'));
    const nodeItems = (await iq(c, 'get', `<query xmlns='${ITEMS}' node='news'/>`, SVC)).getChild('query', ITEMS)!.getChildren('item').map((i) => i.attr('name'));
    assert.deepEqual(nodeItems, ['n1', 'b1']);
    assert.deepEqual(ids(await pubsubIq(c, 'get', `<items node='news'/>`, SVC)), ['n1', 'b1']);

    assert.equal((await pubsubIq(a, 'set', `<retract node='news' notify='1'><item id='n1'/></retract>`, SVC)).attr('type'), 'result');
    assert.equal((await takeEvent(b, 'news', 'items', SVC)).getChild('event', EVENT)!.getChild('items')!.getChild('retract')?.attr('id'), 'n1');
    assert.equal((await pubsubIq(c, 'set', `<unsubscribe node='news' jid='carol@localhost'/>`, SVC)).attr('type'), 'result');
    assert.equal(errorCondition(await pubsubIq(c, 'set', `<unsubscribe node='news' jid='carol@localhost'/>`, SVC)), 'unexpected-request');
    assert.equal((await pubsubIq(a, 'set', `<purge node='news'/>`, SVC, OWNER)).attr('type'), 'result');
    await takeEvent(b, 'news', 'purge', SVC);
    assert.deepEqual(ids(await pubsubIq(c, 'get', `<items node='news'/>`, SVC)), []);
    assert.equal(errorCondition(await pubsubIq(b, 'set', `<delete node='news'/>`, SVC, OWNER)), 'forbidden');
    assert.equal((await pubsubIq(a, 'set', `<delete node='news'/>`, SVC, OWNER)).attr('type'), 'result');
    await takeEvent(b, 'news', 'delete', SVC);
    assert.equal(errorCondition(await pubsubIq(c, 'get', `<items node='news'/>`, SVC)), 'item-not-found');
  });

  it('refuses what it does not offer and stray stanzas', async () => {
    const a = await on('alice', 'bad');
    // Default subscription options (§6.4) are not offered.
    assert.equal(errorCondition(await pubsubIq(a, 'get', `<default node='x'/>`, SVC)), 'feature-not-implemented');
    assert.equal(errorCondition(await pubsubIq(a, 'set', `<create node='x'/>${configure({ 'pubsub#max_items': 'lots' })}`, SVC)), 'not-acceptable');
    assert.equal(errorCondition(await iq(a, 'get', `<query xmlns='jabber:iq:version'/>`, SVC)), 'service-unavailable');
    assert.equal(errorCondition(await pubsubIq(a, 'get', `<items node='x'/>`, `someone@${SVC}`)), 'service-unavailable');
  });
});

/** Publish on PEP and on the service, restart on the same data, and find both again. */
async function restartScenario(overrides: Record<string, unknown>): Promise<void> {
  let ts = await startTestServer(overrides);
  const dir = ts.dir;
  try {
    await ts.addUser('alice', 'pw');
    let a = await login(ts, 'alice', 'one');
    assert.equal((await publish(a, 'urn:test:keep', `<x xmlns='urn:test'>kept</x>`, 'k', { 'pubsub#max_items': '10' })).attr('type'), 'result');
    assert.equal((await publish(a, 'urn:test:gone', `<x xmlns='urn:test'/>`, 'g', { 'pubsub#persist_items': 'false' })).attr('type'), 'result');
    assert.equal((await pubsubIq(a, 'set', `<create node='board'/>`, SVC)).attr('type'), 'result');
    assert.equal((await pubsubIq(a, 'set', `<subscribe node='board' jid='alice@localhost'/>`, SVC)).attr('type'), 'result');
    assert.equal((await publish(a, 'board', `<note xmlns='urn:test'>hi</note>`, 'b1', undefined, SVC)).attr('type'), 'result');
    a.destroy();
    await ts.stop(true);
    ts = await startTestServer({ ...overrides, dataDir: dir }, { dir });
    a = await login(ts, 'alice', 'two');
    const kept = (await pubsubIq(a, 'get', `<items node='urn:test:keep'/>`)).getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChildren('item', PUBSUB);
    assert.equal(kept[0]?.getChildText('x', 'urn:test'), 'kept');
    // The node and its configuration survive; its unpersisted items do not.
    assert.deepEqual(ids(await pubsubIq(a, 'get', `<items node='urn:test:gone'/>`)), []);
    assert.deepEqual(ids(await pubsubIq(a, 'get', `<items node='board'/>`, SVC)), ['b1']);
    const subs = (await pubsubIq(a, 'get', `<subscriptions node='board'/>`, SVC, OWNER)).getChild('pubsub', OWNER)!.getChild('subscriptions', OWNER)!.getChildren('subscription').map((s) => s.attr('jid'));
    assert.deepEqual(subs, ['alice@localhost']);
    a.destroy();
  } finally { await ts.stop(); }
}

describe('PubSub persistence', () => {
  it('PEP and service nodes, items and subscriptions survive a restart (SQLite)', async () => {
    await restartScenario({});
  });
  it('the same on PostgreSQL', async (t) => {
    const url = await pgTestUrl();
    if (!url) return skipOrFail(t, 'PostgreSQL is not reachable on 127.0.0.1:5432');
    const schema = 'magpie_pubsub_' + Math.random().toString(36).slice(2, 10);
    try { await restartScenario({ storage: { type: 'postgres', url, schema } }); } finally {
      const client = new pg.Client({ connectionString: url });
      await client.connect(); await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await client.end();
    }
  });
});
