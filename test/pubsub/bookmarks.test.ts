// PEP Native Bookmarks (XEP-0402) and their unification with XEP-0048 bookmarks in private XML
// storage (XEP-0049, '#compat') and in the PEP node 'storage:bookmarks' ('#compat-pep'), both
// directions, with notifications to the account's other resources.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { iq, login } from '../im/roster-helpers.js';
import { EVENT, PUBSUB, online, publish, pubsubIq, takeEvent } from './pubsub-helpers.js';

const BM = 'urn:xmpp:bookmarks:1';
const LEGACY = 'storage:bookmarks';
const PRIVATE = 'jabber:iq:private';
const OPTIONS = { 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist' };

const privateGet = async (c: RawClient) => (await iq(c, 'get', `<query xmlns='${PRIVATE}'><storage xmlns='${LEGACY}'/></query>`)).getChild('query', PRIVATE)!.getChild('storage', LEGACY)!;
const nativeItems = async (c: RawClient) => (await pubsubIq(c, 'get', `<items node='${BM}'/>`)).getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChildren('item', PUBSUB);

describe('bookmarks', () => {
  let ts: TestServer;
  const clients: RawClient[] = [];
  before(async () => { ts = await startTestServer(); await ts.addUser('juliet', 'pw'); await ts.addUser('romeo', 'pw'); });
  after(async () => { for (const c of clients) c.destroy(); await ts.stop(); });

  it('advertises #compat and #compat-pep on the account', async () => {
    const c = await login(ts, 'juliet', 'disco'); clients.push(c);
    const vars = (await iq(c, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'juliet@localhost')).getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').map((f) => f.attr('var'));
    assert.ok(vars.includes(`${BM}#compat`));
    assert.ok(vars.includes(`${BM}#compat-pep`));
  });

  it('a XEP-0402 bookmark appears in private XML storage and the legacy PEP node', async () => {
    const modern = await online(ts, 'juliet', 'modern', [BM]); clients.push(modern);
    const r = await publish(modern, BM, `<conference xmlns='${BM}' name='The Play' autojoin='true'><nick>JC</nick><extensions><x xmlns='urn:test:ext'/></extensions></conference>`, 'theplay@conference.localhost', OPTIONS);
    assert.equal(r.attr('type'), 'result', r.toString());
    const ev = await takeEvent(modern, BM);
    assert.equal(ev.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attr('id'), 'theplay@conference.localhost');
    const legacy = await login(ts, 'juliet', 'legacy'); clients.push(legacy);
    const storage = await privateGet(legacy);
    const conf = storage.getChildren('conference', LEGACY);
    assert.equal(conf.length, 1, storage.toString());
    assert.equal(conf[0]!.attr('jid'), 'theplay@conference.localhost');
    assert.equal(conf[0]!.attr('name'), 'The Play');
    assert.equal(conf[0]!.attr('autojoin'), 'true');
    assert.equal(conf[0]!.getChildText('nick', LEGACY), 'JC');
    const pepLegacy = (await pubsubIq(legacy, 'get', `<items node='${LEGACY}'/>`)).getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChild('item', PUBSUB)!;
    assert.equal(pepLegacy.getChild('storage', LEGACY)!.getChildren('conference', LEGACY)[0]!.attr('jid'), 'theplay@conference.localhost');
  });

  it('a private XML write becomes XEP-0402 items (keeping extensions) and notifies', async () => {
    const legacy = await login(ts, 'juliet', 'legacy2'); clients.push(legacy);
    const modern = await online(ts, 'juliet', 'modern2', [BM]); clients.push(modern);
    const set = await iq(legacy, 'set', `<query xmlns='${PRIVATE}'><storage xmlns='${LEGACY}'>
      <conference jid='theplay@conference.localhost' name='The Play' autojoin='true'><nick>JC</nick></conference>
      <conference jid='balcony@conference.localhost' name='Balcony' autojoin='false'><password>s3cret</password></conference>
      <url name='Site' url='https://example.org/'/></storage></query>`);
    assert.equal(set.attr('type'), 'result', set.toString());
    const ev = await takeEvent(modern, BM);
    assert.equal(ev.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attr('id'), 'balcony@conference.localhost');
    const items = await nativeItems(modern);
    assert.deepEqual(items.map((i) => i.attr('id')).sort(), ['balcony@conference.localhost', 'theplay@conference.localhost']);
    const play = items.find((i) => i.attr('id') === 'theplay@conference.localhost')!.getChild('conference', BM)!;
    assert.ok(play.getChild('extensions', BM)?.getChild('x', 'urn:test:ext'), 'unchanged bookmark keeps its extensions');
    const balcony = items.find((i) => i.attr('id') === 'balcony@conference.localhost')!.getChild('conference', BM)!;
    assert.equal(balcony.getChildText('password', BM), 's3cret');
    // The url survives in the legacy view; removing a conference there retracts its item.
    const storage = await privateGet(legacy);
    assert.equal(storage.getChild('url', LEGACY)?.attr('url'), 'https://example.org/');
    await iq(legacy, 'set', `<query xmlns='${PRIVATE}'><storage xmlns='${LEGACY}'><conference jid='balcony@conference.localhost' name='Balcony' autojoin='false'><password>s3cret</password></conference></storage></query>`);
    const retract = await takeEvent(modern, BM);
    assert.equal(retract.getChild('event', EVENT)!.getChild('items')!.getChild('retract')?.attr('id'), 'theplay@conference.localhost');
    assert.deepEqual((await nativeItems(modern)).map((i) => i.attr('id')), ['balcony@conference.localhost']);
  });

  it('a publish to the legacy PEP node becomes XEP-0402 items', async () => {
    const c = await online(ts, 'romeo', 'old', [BM]); clients.push(c);
    const r = await publish(c, LEGACY, `<storage xmlns='${LEGACY}'><conference jid='verona@conference.localhost' autojoin='1' name='Verona'/></storage>`, 'current', { 'pubsub#access_model': 'whitelist', 'pubsub#persist_items': 'true' });
    assert.equal(r.attr('type'), 'result', r.toString());
    const items = await nativeItems(c);
    assert.equal(items.length, 1);
    assert.equal(items[0]!.attr('id'), 'verona@conference.localhost');
    assert.equal(items[0]!.getChild('conference', BM)!.attr('autojoin'), 'true');
    const storage = await privateGet(c);
    assert.equal(storage.getChildren('conference', LEGACY).length, 1);
    // Other users cannot read the whitelist bookmarks node.
    const j = await login(ts, 'juliet', 'peek'); clients.push(j);
    assert.equal((await pubsubIq(j, 'get', `<items node='${BM}'/>`, 'romeo@localhost')).attr('type'), 'error');
  });
});
