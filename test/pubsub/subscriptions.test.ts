// Pending subscriptions and subscription options on the generic PubSub service (XEP-0060 1.26):
// the 'authorize' access model (§6.1.4) with the owners' authorization form (§8.6), approved,
// denied or cancelled, and through subscription management (§8.8) and affiliations (§8.7 note);
// pending subscribers get no items; the limit of pending requests per node; requests and options
// surviving a restart; subscription options (§6.3) got, set, given with subscribe (§6.3.7), with
// their errors (§6.3.4); pubsub#deliver=false; pubsub#show-values against the resources' presence.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { errorCondition, iq, login, none, presenceSync, take } from '../im/roster-helpers.js';
import { EVENT, OWNER, PUBSUB, appCondition, publish, pubsubIq, takeEvent, isEvent } from './pubsub-helpers.js';

const SVC = 'pubsub.localhost';
const INFO = 'http://jabber.org/protocol/disco#info';
const DATA = 'jabber:x:data';
const AUTH = `${PUBSUB}#subscribe_authorization`;
const SUBOPT = `${PUBSUB}#subscribe_options`;
const ATOM = `<entry xmlns='http://www.w3.org/2005/Atom'/>`;

const form = (formType: string, fields: Record<string, string | string[]>, type = 'submit') => `<x xmlns='${DATA}' type='${type}'><field var='FORM_TYPE' type='hidden'><value>${formType}</value></field>${
  Object.entries(fields).map(([k, v]) => `<field var='${k}'>${(Array.isArray(v) ? v : [v]).map((x) => `<value>${x}</value>`).join('')}</field>`).join('')}</x>`;
const configure = (fields: Record<string, string>) => `<configure>${form(`${PUBSUB}#node_config`, fields)}</configure>`;
const subscriptionOf = (r: Element) => r.getChild('pubsub', PUBSUB)?.getChild('subscription', PUBSUB);
const itemIds = (r: Element) => r.getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChildren('item', PUBSUB).map((i) => i.attr('id'));
const fieldsOf = (x: Element | undefined): Record<string, string[]> =>
  Object.fromEntries((x?.getChildren('field', DATA) ?? []).map((f) => [f.attr('var')!, f.getChildren('value', DATA).map((v) => v.text())]));
/** The owner's view of a node's subscriptions: "jid=state". */
async function ownerList(c: RawClient, node: string): Promise<string[]> {
  const r = await pubsubIq(c, 'get', `<subscriptions node='${node}'/>`, SVC, OWNER);
  assert.equal(r.attr('type'), 'result', r.toString());
  return r.getChild('pubsub', OWNER)!.getChild('subscriptions', OWNER)!.getChildren('subscription').map((s) => `${s.attr('jid')}=${s.attr('subscription')}`).sort();
}
const isAuthRequest = (subscriber: string) => (e: Element): boolean => {
  const x = e.name === 'message' ? e.getChild('x', DATA) : undefined;
  return !!x && fieldsOf(x).FORM_TYPE?.[0] === AUTH && fieldsOf(x)['pubsub#subscriber_jid']?.[0] === subscriber;
};
const isSubscriptionEvent = (node: string, state: string) => (e: Element): boolean => {
  const s = e.name === 'message' ? e.getChild('event', EVENT)?.getChild('subscription', EVENT) : undefined;
  return !!s && s.attr('node') === node && s.attr('subscription') === state;
};
/** The owner's answer: the received form submitted back with pubsub#allow set. */
function answer(owner: RawClient, request: Element, allow: boolean | 'cancel'): void {
  const f = fieldsOf(request.getChild('x', DATA));
  const body = allow === 'cancel' ? form(AUTH, {}, 'cancel')
    : form(AUTH, { 'pubsub#subid': f['pubsub#subid']![0]!, 'pubsub#node': f['pubsub#node']![0]!, 'pubsub#subscriber_jid': f['pubsub#subscriber_jid']![0]!, 'pubsub#allow': allow ? 'true' : 'false' });
  owner.send(`<message to='${SVC}' id='${request.attr('id')}'>${body}</message>`);
}

describe('PubSub authorize access model (pending subscriptions)', () => {
  let ts: TestServer;
  let alice: RawClient;
  // One available resource per user, so that messages to a bare JID have one place to go.
  const clients = new Map<string, RawClient>();
  const on = async (u: string) => {
    let c = clients.get(u);
    if (!c) { c = await login(ts, u, 'r'); clients.set(u, c); await presenceSync(c, '<presence/>'); }
    return c;
  };
  before(async () => {
    ts = await startTestServer({ modules: { options: { pubsub: { service: { creators: ['alice@localhost'], maxPendingPerNode: 2 } } } } });
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) await ts.addUser(u, 'pw');
    alice = await on('alice');
  });
  after(async () => { for (const c of clients.values()) c.destroy(); await ts.stop(); });

  it('advertises authorize, subscription options and subscription management', async () => {
    const features = (await iq(alice, 'get', `<query xmlns='${INFO}'/>`, SVC)).getChild('query', INFO)!.getChildren('feature').map((f) => f.attr('var'));
    for (const f of ['access-authorize', 'subscription-options', 'manage-subscriptions']) assert.ok(features.includes(`${PUBSUB}#${f}`), f);
    assert.ok(!features.includes(`${PUBSUB}#get-pending`), 'get-pending is not implemented');
    // PEP does not offer 'authorize' (its owner would approve through its own bare JID).
    const pep = (await iq(alice, 'get', `<query xmlns='${INFO}'/>`, 'alice@localhost')).getChild('query', INFO)!.getChildren('feature').map((f) => f.attr('var'));
    assert.ok(pep.includes(`${PUBSUB}#subscription-options`) && !pep.includes(`${PUBSUB}#access-authorize`));
  });

  it('a request is pending until the owner approves it through the authorization form', async () => {
    const bob = await on('bob');
    assert.equal((await pubsubIq(alice, 'set', `<create node='club'/>${configure({ 'pubsub#access_model': 'authorize' })}`, SVC)).attr('type'), 'result');
    assert.equal((await publish(alice, 'club', ATOM, 'i1', undefined, SVC)).attr('type'), 'result');
    // The node is discoverable (one must find it to ask), its items are not.
    const meta = (await iq(bob, 'get', `<query xmlns='${INFO}' node='club'/>`, SVC)).getChild('query', INFO)!;
    assert.equal(fieldsOf(meta.getChild('x', DATA))['pubsub#access_model']?.[0], 'authorize');

    const sub = subscriptionOf(await pubsubIq(bob, 'set', `<subscribe node='club' jid='bob@localhost'/>`, SVC))!;
    assert.equal(sub.attr('subscription'), 'pending');
    const request = await take(alice, isAuthRequest('bob@localhost'), 'authorization request');
    assert.equal(request.attr('from'), SVC);
    const f = fieldsOf(request.getChild('x', DATA));
    assert.equal(request.getChild('x', DATA)!.attr('type'), 'form');
    assert.deepEqual([f['pubsub#node'], f['pubsub#subid'], f['pubsub#allow']], [['club'], [sub.attr('subid')], ['false']]);

    // §6.1.3.7: one request at a time; §6.5.9.3: pending is not subscribed.
    const again = await pubsubIq(bob, 'set', `<subscribe node='club' jid='bob@localhost'/>`, SVC);
    assert.equal(errorCondition(again), 'not-authorized');
    assert.equal(appCondition(again), 'pending-subscription');
    const items = await pubsubIq(bob, 'get', `<items node='club'/>`, SVC);
    assert.equal(errorCondition(items), 'not-authorized');
    assert.equal(appCondition(items), 'not-subscribed');
    const mine = (await pubsubIq(bob, 'get', `<subscriptions/>`, SVC)).getChild('pubsub', PUBSUB)!.getChild('subscriptions', PUBSUB)!.getChildren('subscription');
    assert.deepEqual(mine.map((s) => `${s.attr('node')}=${s.attr('subscription')}`), ['club=pending']);
    assert.deepEqual(await ownerList(alice, 'club'), ['bob@localhost=pending']);
    // Nothing published meanwhile reaches a pending subscriber.
    assert.equal((await publish(alice, 'club', ATOM, 'i2', undefined, SVC)).attr('type'), 'result');
    await none(bob, isEvent('club'), 'event to a pending subscriber');

    answer(alice, request, true);
    const approved = await take(bob, isSubscriptionEvent('club', 'subscribed'), 'approval notification');
    assert.equal(approved.attr('from'), SVC);
    assert.equal(approved.getChild('event', EVENT)!.getChild('subscription', EVENT)!.attr('jid'), 'bob@localhost');
    // The last item on approval (send_last_published_item=on_sub), then items and events.
    assert.equal((await takeEvent(bob, 'club', 'items', SVC)).getChild('event', EVENT)!.getChild('items', EVENT)!.getChild('item', EVENT)!.attr('id'), 'i2');
    assert.deepEqual(itemIds(await pubsubIq(bob, 'get', `<items node='club'/>`, SVC)), ['i1', 'i2']);
    assert.deepEqual(await ownerList(alice, 'club'), ['bob@localhost=subscribed']);
    assert.equal((await publish(alice, 'club', ATOM, 'i3', undefined, SVC)).attr('type'), 'result');
    await takeEvent(bob, 'club', 'items', SVC);
    // An answer to a request already decided is refused.
    answer(alice, request, true);
    const err = await take(alice, (e) => e.name === 'message' && e.attr('type') === 'error' && e.attr('from') === SVC, 'error for a stale answer');
    assert.equal(errorCondition(err), 'item-not-found');
  });

  it('a cancelled form leaves the request pending; a denial ends it; only owners decide', async () => {
    const carol = await on('carol');
    const dave = await on('dave');
    assert.equal(subscriptionOf(await pubsubIq(carol, 'set', `<subscribe node='club' jid='carol@localhost/r'/>`, SVC))!.attr('subscription'), 'pending');
    const request = await take(alice, isAuthRequest('carol@localhost/r'), 'authorization request');
    answer(alice, request, 'cancel');
    // Not an owner: forbidden, and the request stays.
    answer(dave, request, true);
    const err = await take(dave, (e) => e.name === 'message' && e.attr('type') === 'error', 'error to a non-owner');
    assert.equal(errorCondition(err), 'forbidden');
    assert.deepEqual(await ownerList(alice, 'club'), ['bob@localhost=subscribed', 'carol@localhost/r=pending']);
    await none(carol, isSubscriptionEvent('club', 'subscribed'), 'approval');

    answer(alice, request, false);
    const denied = await take(carol, isSubscriptionEvent('club', 'none'), 'denial notification');
    assert.equal(denied.attr('to'), 'carol@localhost/r');
    assert.deepEqual(await ownerList(alice, 'club'), ['bob@localhost=subscribed']);
    assert.equal(errorCondition(await pubsubIq(carol, 'get', `<items node='club'/>`, SVC)), 'not-authorized');
    // Withdrawing one's own request (§6.2) works too.
    assert.equal(subscriptionOf(await pubsubIq(carol, 'set', `<subscribe node='club' jid='carol@localhost'/>`, SVC))!.attr('subscription'), 'pending');
    await take(alice, isAuthRequest('carol@localhost'), 'authorization request');
    assert.equal((await pubsubIq(carol, 'set', `<unsubscribe node='club' jid='carol@localhost'/>`, SVC)).attr('type'), 'result');
    assert.deepEqual(await ownerList(alice, 'club'), ['bob@localhost=subscribed']);
  });

  it('limits pending requests per node; the owner decides through subscription management and affiliations', async () => {
    const dave = await on('dave');
    const erin = await on('erin');
    const frank = await on('frank');
    for (const [c, u] of [[dave, 'dave'], [erin, 'erin']] as const) {
      assert.equal(subscriptionOf(await pubsubIq(c, 'set', `<subscribe node='club' jid='${u}@localhost'/>`, SVC))!.attr('subscription'), 'pending');
    }
    // maxPendingPerNode: 2 — §6.1.3.9 policy-violation + too-many-subscriptions.
    const full = await pubsubIq(frank, 'set', `<subscribe node='club' jid='frank@localhost'/>`, SVC);
    assert.equal(errorCondition(full), 'policy-violation');
    assert.equal(appCondition(full), 'too-many-subscriptions');
    assert.equal(full.getChild('error')!.attr('type'), 'wait');

    const set = await pubsubIq(alice, 'set', `<subscriptions node='club'><subscription jid='dave@localhost' subscription='subscribed'/></subscriptions>`, SVC, OWNER);
    assert.equal(set.attr('type'), 'result', set.toString());
    await take(dave, isSubscriptionEvent('club', 'subscribed'), 'approval notification');
    // One place free again.
    assert.equal(subscriptionOf(await pubsubIq(frank, 'set', `<subscribe node='club' jid='frank@localhost'/>`, SVC))!.attr('subscription'), 'pending');
    assert.deepEqual(await ownerList(alice, 'club'), ['bob@localhost=subscribed', 'dave@localhost=subscribed', 'erin@localhost=pending', 'frank@localhost=pending']);
    assert.equal(errorCondition(await pubsubIq(alice, 'set', `<subscriptions node='club'><subscription jid='erin@localhost' subscription='pending'/></subscriptions>`, SVC, OWNER)), 'not-acceptable');
    assert.equal(errorCondition(await pubsubIq(dave, 'get', `<subscriptions node='club'/>`, SVC, OWNER)), 'forbidden');
    // A new member's request is approved (§8.7 note), a new outcast's denied.
    assert.equal((await pubsubIq(alice, 'set', `<affiliations node='club'><affiliation jid='erin@localhost' affiliation='member'/><affiliation jid='frank@localhost' affiliation='outcast'/></affiliations>`, SVC, OWNER)).attr('type'), 'result');
    await take(erin, isSubscriptionEvent('club', 'subscribed'), 'approval of a new member');
    await take(frank, isSubscriptionEvent('club', 'none'), 'denial of a new outcast');
    assert.deepEqual(await ownerList(alice, 'club'), ['bob@localhost=subscribed', 'dave@localhost=subscribed', 'erin@localhost=subscribed']);
    // An owner removing a subscription tells the subscriber (§8.8.4).
    assert.equal((await pubsubIq(alice, 'set', `<subscriptions node='club'><subscription jid='dave@localhost' subscription='none'/></subscriptions>`, SVC, OWNER)).attr('type'), 'result');
    await take(dave, isSubscriptionEvent('club', 'none'), 'removal notification');
    // Members subscribe without approval.
    assert.equal((await pubsubIq(alice, 'set', `<affiliations node='club'><affiliation jid='dave@localhost' affiliation='member'/></affiliations>`, SVC, OWNER)).attr('type'), 'result');
    assert.equal(subscriptionOf(await pubsubIq(dave, 'set', `<subscribe node='club' jid='dave@localhost'/>`, SVC))!.attr('subscription'), 'subscribed');
  });
});

const optionsOf = (r: Element) => r.getChild('pubsub', PUBSUB)?.getChild('options', PUBSUB);
const setOptions = (c: RawClient, node: string, jid: string, fields: Record<string, string | string[]>, extra = '') =>
  pubsubIq(c, 'set', `<options node='${node}' jid='${jid}'${extra}>${form(SUBOPT, fields)}</options>`, SVC);

describe('PubSub subscription options', () => {
  let ts: TestServer;
  let alice: RawClient;
  const clients: RawClient[] = [];
  const on = async (u: string, r = 'r', presence = '<presence/>') => { const c = await login(ts, u, r); clients.push(c); await presenceSync(c, presence); return c; };
  before(async () => {
    ts = await startTestServer({ modules: { options: { pubsub: { service: { creators: ['alice@localhost'] } } } } });
    for (const u of ['alice', 'bob', 'carol', 'erin']) await ts.addUser(u, 'pw');
    alice = await on('alice');
    assert.equal((await pubsubIq(alice, 'set', `<create node='feed'/>`, SVC)).attr('type'), 'result');
  });
  after(async () => { for (const c of clients) c.destroy(); await ts.stop(); });

  it('gets and sets the options form, with the errors of §6.3.4; deliver=false silences the subscription', async () => {
    const bob = await on('bob');
    const carol = await on('carol');
    const subid = subscriptionOf(await pubsubIq(bob, 'set', `<subscribe node='feed' jid='bob@localhost'/>`, SVC))!.attr('subid');
    assert.equal((await pubsubIq(carol, 'set', `<subscribe node='feed' jid='carol@localhost'/>`, SVC)).attr('type'), 'result');

    const got = optionsOf(await pubsubIq(bob, 'get', `<options node='feed' jid='bob@localhost'/>`, SVC))!;
    assert.deepEqual([got.attr('node'), got.attr('jid'), got.attr('subid')], ['feed', 'bob@localhost', subid]);
    const x = got.getChild('x', DATA)!;
    assert.equal(x.attr('type'), 'form');
    assert.deepEqual(fieldsOf(x), { FORM_TYPE: [SUBOPT], 'pubsub#deliver': ['1'], 'pubsub#show-values': [] });
    const show = x.getChildren('field', DATA).find((f) => f.attr('var') === 'pubsub#show-values')!;
    assert.equal(show.attr('type'), 'list-multi');
    assert.deepEqual(show.getChildren('option', DATA).map((o) => o.getChildText('value', DATA)), ['away', 'chat', 'dnd', 'online', 'xa']);

    // §6.3.4 errors.
    assert.equal(errorCondition(await pubsubIq(bob, 'get', `<options node='feed' jid='carol@localhost'/>`, SVC)), 'forbidden');
    const notSub = await pubsubIq(alice, 'get', `<options node='feed' jid='alice@localhost'/>`, SVC);
    assert.deepEqual([errorCondition(notSub), appCondition(notSub)], ['unexpected-request', 'not-subscribed']);
    const noJid = await pubsubIq(bob, 'get', `<options node='feed'/>`, SVC);
    assert.deepEqual([errorCondition(noJid), appCondition(noJid)], ['bad-request', 'jid-required']);
    const badSubid = await pubsubIq(bob, 'get', `<options node='feed' jid='bob@localhost' subid='nope'/>`, SVC);
    assert.deepEqual([errorCondition(badSubid), appCondition(badSubid)], ['not-acceptable', 'invalid-subid']);
    assert.equal(errorCondition(await pubsubIq(bob, 'get', `<options node='nowhere' jid='bob@localhost'/>`, SVC)), 'item-not-found');
    // §6.3.6.2: an invalid group of options changes nothing.
    const bads: Record<string, string>[] = [{ 'pubsub#deliver': '0', 'pubsub#digest': '1' }, { 'pubsub#deliver': 'maybe' }, { 'pubsub#show-values': 'sleeping' }];
    for (const bad of bads) {
      const r = await setOptions(bob, 'feed', 'bob@localhost', bad);
      assert.deepEqual([errorCondition(r), appCondition(r)], ['bad-request', 'invalid-options'], JSON.stringify(bad));
    }
    const wrongType = await pubsubIq(bob, 'set', `<options node='feed' jid='bob@localhost'>${form(`${PUBSUB}#node_config`, { 'pubsub#deliver': '0' })}</options>`, SVC);
    assert.equal(appCondition(wrongType), 'invalid-options');
    // A get does not change anything, so a form submitted in one is refused rather than lost.
    assert.equal(errorCondition(await pubsubIq(bob, 'get', `<options node='feed' jid='bob@localhost'>${form(SUBOPT, { 'pubsub#deliver': '0' })}</options>`, SVC)), 'bad-request');
    assert.deepEqual(fieldsOf(optionsOf(await pubsubIq(bob, 'get', `<options node='feed' jid='bob@localhost'/>`, SVC))!.getChild('x', DATA))['pubsub#deliver'], ['1']);

    const set = await setOptions(bob, 'feed', 'bob@localhost', { 'pubsub#deliver': 'false' }, ` subid='${subid}'`);
    assert.equal(set.attr('type'), 'result', set.toString());
    assert.deepEqual(fieldsOf(optionsOf(await pubsubIq(bob, 'get', `<options node='feed' jid='bob@localhost'/>`, SVC))!.getChild('x', DATA))['pubsub#deliver'], ['0']);
    assert.equal((await publish(alice, 'feed', ATOM, 'quiet', undefined, SVC)).attr('type'), 'result');
    await takeEvent(carol, 'feed', 'items', SVC);
    await none(bob, isEvent('feed'), 'event with deliver=false');
    assert.equal((await setOptions(bob, 'feed', 'bob@localhost', { 'pubsub#deliver': '1' })).attr('type'), 'result');
    assert.equal((await publish(alice, 'feed', ATOM, 'loud', undefined, SVC)).attr('type'), 'result');
    await takeEvent(bob, 'feed', 'items', SVC);
  });

  it('takes options with the subscription (§6.3.7) and refuses bad ones without subscribing', async () => {
    const carol = await on('carol', 'with');
    const sub = await pubsubIq(carol, 'set', `<subscribe node='feed' jid='carol@localhost/with'/><options>${form(SUBOPT, { 'pubsub#deliver': '0' })}</options>`, SVC);
    assert.equal(subscriptionOf(sub)!.attr('subscription'), 'subscribed', sub.toString());
    const x = optionsOf(sub)!.getChild('x', DATA)!;
    assert.equal(x.attr('type'), 'result');
    assert.deepEqual(fieldsOf(x)['pubsub#deliver'], ['0']);
    // Not even the last item (send_last_published_item=on_sub) with deliver=false.
    await none(carol, isEvent('feed'), 'last item with deliver=false');

    const bad = await pubsubIq(carol, 'set', `<subscribe node='feed' jid='carol@localhost/other'/><options>${form(SUBOPT, { 'pubsub#include_body': '1' })}</options>`, SVC);
    assert.deepEqual([errorCondition(bad), appCondition(bad)], ['bad-request', 'invalid-options']);
    const named = await pubsubIq(carol, 'set', `<subscribe node='feed' jid='carol@localhost/other'/><options node='feed'>${form(SUBOPT, { 'pubsub#deliver': '1' })}</options>`, SVC);
    assert.equal(errorCondition(named), 'bad-request');
    const mine = (await pubsubIq(carol, 'get', `<subscriptions node='feed'/>`, SVC)).getChild('pubsub', PUBSUB)!.getChild('subscriptions', PUBSUB)!.getChildren('subscription').map((s) => s.attr('jid'));
    assert.ok(!mine.includes('carol@localhost/other'), mine.join());
  });

  it('delivers with show-values only to the resources whose presence is selected', async () => {
    const dnd = await on('erin', 'dnd', '<presence><show>dnd</show></presence>');
    const plain = await on('erin', 'plain');
    const sub = await pubsubIq(plain, 'set', `<subscribe node='feed' jid='erin@localhost'/><options>${form(SUBOPT, { 'pubsub#show-values': ['online', 'chat'] })}</options>`, SVC);
    assert.deepEqual(fieldsOf(optionsOf(sub)!.getChild('x', DATA))['pubsub#show-values'], ['chat', 'online']);
    await takeEvent(plain, 'feed', 'items', SVC); // the last item, to the 'online' resource only
    await none(dnd, isEvent('feed'), 'last item to a dnd resource');

    assert.equal((await publish(alice, 'feed', ATOM, 's1', undefined, SVC)).attr('type'), 'result');
    assert.equal((await takeEvent(plain, 'feed', 'items', SVC)).attr('to'), 'erin@localhost/plain');
    await none(dnd, isEvent('feed'), 'event to a dnd resource');

    await presenceSync(dnd, '<presence><show>chat</show></presence>');
    await presenceSync(plain, '<presence><show>xa</show></presence>');
    assert.equal((await publish(alice, 'feed', ATOM, 's2', undefined, SVC)).attr('type'), 'result');
    assert.equal((await takeEvent(dnd, 'feed', 'items', SVC)).attr('to'), 'erin@localhost/dnd');
    await none(plain, isEvent('feed'), 'event to an xa resource');

    // Cleared (no value selected): whatever the presence again, to the subscribed bare JID.
    assert.equal((await setOptions(plain, 'feed', 'erin@localhost', { 'pubsub#show-values': [] })).attr('type'), 'result');
    assert.equal((await publish(alice, 'feed', ATOM, 's3', undefined, SVC)).attr('type'), 'result');
    assert.equal((await takeEvent(plain, 'feed', 'items', SVC)).attr('to'), 'erin@localhost');
  });
});

describe('PubSub pending requests and subscription options survive a restart', () => {
  it('keeps both in the node record', async () => {
    const overrides = { modules: { options: { pubsub: { service: { creators: ['alice@localhost'] } } } } };
    let ts = await startTestServer(overrides);
    const dir = ts.dir;
    try {
      await ts.addUser('alice', 'pw');
      await ts.addUser('bob', 'pw');
      let a = await login(ts, 'alice', 'r');
      let b = await login(ts, 'bob', 'r');
      assert.equal((await pubsubIq(a, 'set', `<create node='club'/>${configure({ 'pubsub#access_model': 'authorize' })}`, SVC)).attr('type'), 'result');
      const sub = await pubsubIq(b, 'set', `<subscribe node='club' jid='bob@localhost'/><options>${form(SUBOPT, { 'pubsub#deliver': '0' })}</options>`, SVC);
      assert.equal(subscriptionOf(sub)!.attr('subscription'), 'pending');
      a.destroy(); b.destroy();
      await ts.stop(true);
      ts = await startTestServer({ ...overrides, dataDir: dir }, { dir });
      a = await login(ts, 'alice', 'r2');
      b = await login(ts, 'bob', 'r2');
      await presenceSync(b, '<presence/>');
      assert.deepEqual(await ownerList(a, 'club'), ['bob@localhost=pending']);
      assert.deepEqual(fieldsOf(optionsOf(await pubsubIq(b, 'get', `<options node='club' jid='bob@localhost'/>`, SVC))!.getChild('x', DATA))['pubsub#deliver'], ['0']);
      assert.equal((await pubsubIq(a, 'set', `<subscriptions node='club'><subscription jid='bob@localhost' subscription='subscribed'/></subscriptions>`, SVC, OWNER)).attr('type'), 'result');
      await take(b, isSubscriptionEvent('club', 'subscribed'), 'approval after the restart');
      assert.deepEqual(await ownerList(a, 'club'), ['bob@localhost=subscribed']);
      a.destroy(); b.destroy();
    } finally { await ts.stop(); }
  });
});
