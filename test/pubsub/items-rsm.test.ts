// Paging through a node's items with Result Set Management (XEP-0060 §6.5.4, XEP-0059) on the
// generic service and on PEP: forwards, backwards from the newest, index jumps, max_items then
// RSM, the <set/> of each page, errors for unknown anchors; and slixmpp's own XEP-0059 iterator
// (get_items(iterator=True)) walking a node page by page.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import type { RawClient } from '../support/raw-client.js';
import { errorCondition, iq, login } from '../im/roster-helpers.js';
import { PUBSUB, publish, pubsubIq } from './pubsub-helpers.js';

const SVC = 'pubsub.localhost';
const RSM = 'http://jabber.org/protocol/rsm';
const INFO = 'http://jabber.org/protocol/disco#info';
const set = (inner: string) => `<set xmlns='${RSM}'>${inner}</set>`;
const itemIds = (r: Element): string[] => r.getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChildren('item', PUBSUB).map((i) => i.attr('id')!);
const rsmOf = (r: Element) => {
  const s = r.getChild('pubsub', PUBSUB)!.getChild('set', RSM);
  if (!s) return undefined;
  const first = s.getChild('first');
  return { first: first?.text(), index: first?.attr('index'), last: s.getChildText('last'), count: s.getChildText('count') };
};

describe('PubSub item retrieval with RSM', () => {
  let ts: TestServer;
  const clients: RawClient[] = [];
  const on = async (u: string, r: string) => { const c = await login(ts, u, r); clients.push(c); return c; };
  before(async () => {
    ts = await startTestServer({ modules: { options: { pubsub: { service: { creators: ['alice@localhost'] }, pep: { defaultMaxItems: 50 } } } } });
    for (const u of ['alice', 'bob', 'py']) await ts.addUser(u, 'pw');
  });
  after(async () => { for (const c of clients) c.destroy(); await ts.stop(); });

  it('pages forwards, backwards and by index on the service; advertises pubsub#rsm', async () => {
    const a = await on('alice', 'r'), b = await on('bob', 'r');
    const disco = await iq(a, 'get', `<query xmlns='${INFO}'/>`, SVC);
    assert.ok(disco.getChild('query', INFO)!.getChildren('feature').some((f) => f.attr('var') === `${PUBSUB}#rsm`));
    assert.equal((await pubsubIq(a, 'set', `<create node='log'/><configure><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#node_config</value></field><field var='pubsub#max_items'><value>100</value></field></x></configure>`, SVC)).attr('type'), 'result');
    for (let i = 0; i < 23; i++) assert.equal((await publish(a, 'log', `<entry xmlns='urn:test'>${i}</entry>`, `e${i}`, undefined, SVC)).attr('type'), 'result');

    // Without RSM: everything, no <set/>.
    const whole = await pubsubIq(b, 'get', `<items node='log'/>`, SVC);
    assert.equal(itemIds(whole).length, 23);
    assert.equal(rsmOf(whole), undefined);

    // Forwards, page after page, until an empty page.
    const seen: string[] = [];
    let r = await pubsubIq(b, 'get', `<items node='log'/>${set('<max>10</max>')}`, SVC);
    assert.deepEqual(rsmOf(r), { first: 'e0', index: '0', last: 'e9', count: '23' });
    for (;;) {
      const ids = itemIds(r);
      if (ids.length === 0) break;
      seen.push(...ids);
      r = await pubsubIq(b, 'get', `<items node='log'/>${set(`<max>10</max><after>${rsmOf(r)!.last}</after>`)}`, SVC);
    }
    assert.deepEqual(seen, Array.from({ length: 23 }, (_, i) => `e${i}`));
    assert.deepEqual(rsmOf(r), { first: undefined, index: undefined, last: undefined, count: '23' });

    // Backwards from the newest; the <set/> may come before <items/>.
    const newest = await pubsubIq(b, 'get', `${set('<max>5</max><before/>')}<items node='log'/>`, SVC);
    assert.deepEqual(itemIds(newest), ['e18', 'e19', 'e20', 'e21', 'e22']);
    assert.equal(rsmOf(newest)!.index, '18');
    assert.deepEqual(itemIds(await pubsubIq(b, 'get', `<items node='log'/>${set('<max>5</max><before>e18</before>')}`, SVC)), ['e13', 'e14', 'e15', 'e16', 'e17']);

    // Index jump; max_items narrows the set RSM pages through.
    const jump = await pubsubIq(b, 'get', `<items node='log'/>${set('<max>3</max><index>7</index>')}`, SVC);
    assert.deepEqual([itemIds(jump), rsmOf(jump)!.index], [['e7', 'e8', 'e9'], '7']);
    const narrowed = await pubsubIq(b, 'get', `<items node='log' max_items='6'/>${set('<max>4</max>')}`, SVC);
    assert.deepEqual([itemIds(narrowed), rsmOf(narrowed)!.count], [['e17', 'e18', 'e19', 'e20'], '6']);

    // Errors: an unknown anchor, a malformed set, an index with an anchor.
    assert.equal(errorCondition(await pubsubIq(b, 'get', `<items node='log'/>${set('<max>3</max><after>nope</after>')}`, SVC)), 'item-not-found');
    assert.equal(errorCondition(await pubsubIq(b, 'get', `<items node='log'/>${set('<max>lots</max>')}`, SVC)), 'bad-request');
    assert.equal(errorCondition(await pubsubIq(b, 'get', `<items node='log'/>${set('<index>2</index><after>e1</after>')}`, SVC)), 'bad-request');
  });

  it('pages a PEP node the same way', async () => {
    const a = await on('alice', 'pep');
    for (let i = 0; i < 7; i++) assert.equal((await publish(a, 'urn:test:notes', `<note xmlns='urn:test'>${i}</note>`, `n${i}`)).attr('type'), 'result');
    const last = await pubsubIq(a, 'get', `<items node='urn:test:notes'/>${set('<max>2</max><before/>')}`);
    assert.deepEqual([itemIds(last), rsmOf(last)], [['n5', 'n6'], { first: 'n5', index: '5', last: 'n6', count: '7' }]);
  });

  it("slixmpp's XEP-0059 iterator walks a node page by page", async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const s = new SlixClient({ jid: 'py@localhost/slix', password: 'pw', port: ts.port }, 'slix_pubsub.py');
    try {
      await s.waitFor((e) => e.event === 'session_start');
      s.command({ cmd: 'item_pages', service: SVC, node: 'log', amount: 8 });
      const got = await s.waitFor((e) => e.event === 'item_pages' || e.event === 'error');
      assert.equal(got.event, 'item_pages', JSON.stringify(got));
      const pages = got.pages as string[][];
      assert.deepEqual(pages.map((p) => p.length), [8, 8, 7]);
      assert.deepEqual(pages.flat(), Array.from({ length: 23 }, (_, i) => `e${i}`));
    } finally { await s.quit(); }
  });
});
