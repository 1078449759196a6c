// PEP (XEP-0163) end to end over raw sockets: notifications only to the owner's and its
// contacts' available resources announcing '<node>+notify' in verified caps (§4), the last item
// on becoming available (§4.3.4), auto-create with publish-options and preconditions (XEP-0060
// §7.1.5), access models (§4.5, errors of §6.5.9), retract/purge/delete notifications, and disco.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { befriend, errorCondition, iq, none, login, presenceSync } from '../im/roster-helpers.js';
import { EVENT, OWNER, PUBSUB, appCondition, isEvent, online, publish, pubsubIq, takeEvent, available } from './pubsub-helpers.js';

const MOOD = 'http://jabber.org/protocol/mood';
const TUNE = 'http://jabber.org/protocol/tune';

describe('PEP', () => {
  let ts: TestServer;
  const clients: RawClient[] = [];
  const track = <T extends RawClient>(c: T): T => { clients.push(c); return c; };
  before(async () => {
    ts = await startTestServer();
    for (const u of ['alice', 'bob', 'carol', 'dave']) await ts.addUser(u, 'pw');
    await befriend(ts, 'alice', 'bob');
    await befriend(ts, 'alice', 'dave');
  });
  after(async () => { for (const c of clients) c.destroy(); await ts.stop(); });

  it('advertises the pep identity and publish-options on the account', async () => {
    const a = track(await login(ts, 'alice', 'disco'));
    const r = await iq(a, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'alice@localhost');
    const q = r.getChild('query', 'http://jabber.org/protocol/disco#info')!;
    assert.ok(q.getChildren('identity').some((i) => i.attr('category') === 'pubsub' && i.attr('type') === 'pep'), r.toString());
    const vars = q.getChildren('feature').map((f) => f.attr('var'));
    for (const f of ['publish-options', 'auto-create', 'filtered-notifications', 'access-whitelist', 'persistent-items']) assert.ok(vars.includes(`${PUBSUB}#${f}`), f);
    a.destroy();
  });

  it('notifies the owner\'s and subscribed contacts\' available resources with +notify, and nobody else', async () => {
    const a1 = track(await online(ts, 'alice', 'a1', [MOOD]));
    const a2 = track(await online(ts, 'alice', 'a2', [TUNE]));       // no interest in mood
    const b1 = track(await online(ts, 'bob', 'b1', [MOOD]));
    const b2 = track(await login(ts, 'bob', 'b2'));                  // connected, never available
    const c1 = track(await online(ts, 'carol', 'c1', [MOOD]));       // no subscription
    const d1 = track(await online(ts, 'dave', 'd1'));                // available, no caps

    const r = await publish(a1, MOOD, `<mood xmlns='${MOOD}'><happy/></mood>`, 'm1');
    assert.equal(r.attr('type'), 'result', r.toString());
    assert.equal(r.getChild('pubsub', PUBSUB)?.getChild('publish')?.getChild('item')?.attr('id'), 'm1');

    for (const c of [a1, b1]) {
      const m = await takeEvent(c, MOOD, 'items', 'alice@localhost');
      assert.equal(m.attr('type'), 'headline');
      const item = m.getChild('event', EVENT)!.getChild('items')!.getChild('item')!;
      assert.equal(item.attr('id'), 'm1');
      assert.ok(item.getChild('mood', MOOD)?.getChild('happy'));
    }
    for (const c of [a2, b2, c1, d1]) await none(c, isEvent(MOOD), 'mood event');
  });

  it('sends the last item to a newly available resource that announces +notify', async () => {
    const b3 = track(await login(ts, 'bob', 'b3'));
    await available(ts, b3, [MOOD]);
    const m = await takeEvent(b3, MOOD);
    assert.equal(m.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attr('id'), 'm1');
    assert.ok(m.getChild('delay', 'urn:xmpp:delay'), 'the last item carries its publication time');
    // The owner's own new resource too (§4.3.4: "including the account owner itself").
    const a3 = track(await login(ts, 'alice', 'a3'));
    await available(ts, a3, [MOOD]);
    await takeEvent(a3, MOOD);
    // A non-contact learns nothing by announcing interest.
    const c2 = track(await login(ts, 'carol', 'c2'));
    await available(ts, c2, [MOOD]);
    await none(c2, isEvent(MOOD), 'mood event for a stranger');
  });

  it('retrieves items under the presence access model and refuses strangers', async () => {
    const b = track(await login(ts, 'bob', 'items'));
    const r = await pubsubIq(b, 'get', `<items node='${MOOD}'/>`, 'alice@localhost');
    assert.equal(r.attr('type'), 'result', r.toString());
    assert.equal(r.getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item').length, 1);
    const c = track(await login(ts, 'carol', 'items'));
    const e = await pubsubIq(c, 'get', `<items node='${MOOD}'/>`, 'alice@localhost');
    assert.equal(errorCondition(e), 'not-authorized');
    assert.equal(appCondition(e), 'presence-subscription-required');
    // Nobody but the owner publishes to a PEP node.
    const p = await publish(b, MOOD, `<mood xmlns='${MOOD}'><sad/></mood>`, 'x', undefined, 'alice@localhost');
    assert.equal(errorCondition(p), 'forbidden');
    const missing = await pubsubIq(b, 'get', `<items node='urn:none'/>`, 'alice@localhost');
    assert.equal(errorCondition(missing), 'item-not-found');
  });

  it('keeps max_items, replaces items by id and honours max_items in retrieval', async () => {
    const a = track(await login(ts, 'alice', 'max'));
    const node = 'urn:test:list';
    for (const id of ['1', '2', '3', '2']) {
      const r = await publish(a, node, `<x xmlns='urn:test'>${id}</x>`, id, { 'pubsub#max_items': '3' });
      assert.equal(r.attr('type'), 'result', r.toString());
    }
    const all = (await pubsubIq(a, 'get', `<items node='${node}'/>`)).getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item').map((i) => i.attr('id'));
    assert.deepEqual(all, ['1', '3', '2']);
    const last = (await pubsubIq(a, 'get', `<items node='${node}' max_items='1'/>`)).getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item').map((i) => i.attr('id'));
    assert.deepEqual(last, ['2']);
    await publish(a, node, `<x xmlns='urn:test'>4</x>`, '4', { 'pubsub#max_items': '3' });
    const after4 = (await pubsubIq(a, 'get', `<items node='${node}'/>`)).getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item').map((i) => i.attr('id'));
    assert.deepEqual(after4, ['3', '2', '4']);
  });

  it('refuses a publish whose publish-options the node does not meet (conflict, precondition-not-met)', async () => {
    const a = track(await login(ts, 'alice', 'pre'));
    const node = 'urn:test:pre';
    assert.equal((await publish(a, node, `<x xmlns='urn:test'/>`, 'a', { 'pubsub#access_model': 'open' })).attr('type'), 'result');
    const bad = await publish(a, node, `<x xmlns='urn:test'/>`, 'b', { 'pubsub#access_model': 'whitelist' });
    assert.equal(errorCondition(bad), 'conflict');
    assert.equal(appCondition(bad), 'precondition-not-met');
    assert.equal(errorCondition(await publish(a, node, `<x xmlns='urn:test'/>`, 'c', { 'pubsub#unknown_option': '1' })), 'conflict');
    assert.equal((await publish(a, node, `<x xmlns='urn:test'/>`, 'd', { 'pubsub#access_model': 'open' })).attr('type'), 'result');
    // The owner reconfigures (what Conversations does after precondition-not-met), then it passes.
    const form = (await pubsubIq(a, 'get', `<configure node='${node}'/>`, undefined, OWNER)).getChild('pubsub', OWNER)!.getChild('configure')!.getChild('x', 'jabber:x:data')!;
    assert.equal(form.getChildren('field').find((f) => f.attr('var') === 'pubsub#access_model')?.getChildText('value'), 'open');
    const set = await pubsubIq(a, 'set', `<configure node='${node}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#node_config</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></configure>`, undefined, OWNER);
    assert.equal(set.attr('type'), 'result', set.toString());
    assert.equal((await publish(a, node, `<x xmlns='urn:test'/>`, 'b', { 'pubsub#access_model': 'whitelist' })).attr('type'), 'result');
    // 'authorize' is not offered.
    assert.equal(errorCondition(await publish(a, 'urn:test:auth', `<x xmlns='urn:test'/>`, 'a', { 'pubsub#access_model': 'authorize' })), 'feature-not-implemented');
  });

  it('applies the open, whitelist and roster access models', async () => {
    const a = track(await login(ts, 'alice', 'access'));
    const b = track(await login(ts, 'bob', 'access'));
    const c = track(await login(ts, 'carol', 'access'));
    await publish(a, 'urn:test:open', `<x xmlns='urn:test'/>`, '1', { 'pubsub#access_model': 'open' });
    assert.equal((await pubsubIq(c, 'get', `<items node='urn:test:open'/>`, 'alice@localhost')).attr('type'), 'result');
    await publish(a, 'urn:test:white', `<x xmlns='urn:test'/>`, '1', { 'pubsub#access_model': 'whitelist' });
    const w = await pubsubIq(b, 'get', `<items node='urn:test:white'/>`, 'alice@localhost');
    assert.equal(errorCondition(w), 'not-allowed');
    assert.equal(appCondition(w), 'closed-node');
    assert.equal((await pubsubIq(a, 'get', `<items node='urn:test:white'/>`)).attr('type'), 'result', 'the owner reads a whitelist node');
    await publish(a, 'urn:test:roster', `<x xmlns='urn:test'/>`, '1', { 'pubsub#access_model': 'roster', 'pubsub#roster_groups_allowed': 'Friends' });
    const rb = await pubsubIq(b, 'get', `<items node='urn:test:roster'/>`, 'alice@localhost');
    assert.equal(errorCondition(rb), 'not-authorized');
    assert.equal(appCondition(rb), 'not-in-roster-group');
    await iq(a, 'set', `<query xmlns='jabber:iq:roster'><item jid='bob@localhost'><group>Friends</group></item></query>`);
    assert.equal((await pubsubIq(b, 'get', `<items node='urn:test:roster'/>`, 'alice@localhost')).attr('type'), 'result');
  });

  it('does not notify contacts of a whitelist node', async () => {
    const a = track(await online(ts, 'alice', 'wl', ['urn:test:secret']));
    const b = track(await online(ts, 'bob', 'wl', ['urn:test:secret']));
    await publish(a, 'urn:test:secret', `<x xmlns='urn:test'/>`, '1', { 'pubsub#access_model': 'whitelist' });
    await takeEvent(a, 'urn:test:secret');
    await none(b, isEvent('urn:test:secret'), 'whitelist event');
  });

  it('notifies retract, purge and delete', async () => {
    const node = 'urn:test:life';
    const a = track(await online(ts, 'alice', 'life', [node]));
    const b = track(await online(ts, 'bob', 'life', [node]));
    await publish(a, node, `<x xmlns='urn:test'>1</x>`, 'one', { 'pubsub#max_items': '10' });
    await publish(a, node, `<x xmlns='urn:test'>2</x>`, 'two', { 'pubsub#max_items': '10' });
    await takeEvent(b, node); await takeEvent(b, node);
    assert.equal((await pubsubIq(a, 'set', `<retract node='${node}' notify='true'><item id='one'/></retract>`)).attr('type'), 'result');
    const rm = await takeEvent(b, node);
    assert.equal(rm.getChild('event', EVENT)!.getChild('items')!.getChild('retract')?.attr('id'), 'one');
    assert.equal(errorCondition(await pubsubIq(b, 'set', `<retract node='${node}'><item id='two'/></retract>`, 'alice@localhost')), 'forbidden');
    assert.equal(errorCondition(await pubsubIq(a, 'set', `<retract node='${node}'><item id='nope'/></retract>`)), 'item-not-found');
    assert.equal((await pubsubIq(a, 'set', `<purge node='${node}'/>`, undefined, OWNER)).attr('type'), 'result');
    await takeEvent(b, node, 'purge');
    assert.equal((await pubsubIq(a, 'get', `<items node='${node}'/>`)).getChild('pubsub', PUBSUB)!.getChild('items')!.getChildren('item').length, 0);
    assert.equal(errorCondition(await pubsubIq(b, 'set', `<delete node='${node}'/>`, 'alice@localhost', OWNER)), 'forbidden');
    assert.equal((await pubsubIq(a, 'set', `<delete node='${node}'/>`, undefined, OWNER)).attr('type'), 'result');
    await takeEvent(b, node, 'delete');
    assert.equal(errorCondition(await pubsubIq(a, 'get', `<items node='${node}'/>`)), 'item-not-found');
  });

  it('lists the nodes a requester may see in the account\'s disco#items and describes them (XEP-0163 §6)', async () => {
    const ITEMS = 'http://jabber.org/protocol/disco#items';
    const INFO = 'http://jabber.org/protocol/disco#info';
    const b = track(await login(ts, 'bob', 'disco'));
    const nodes = (await iq(b, 'get', `<query xmlns='${ITEMS}'/>`, 'alice@localhost')).getChild('query', ITEMS)!.getChildren('item').filter((i) => i.attr('node')).map((i) => i.attr('node'));
    assert.ok(nodes.includes(MOOD) && nodes.includes('urn:test:open'), nodes.join());
    assert.ok(!nodes.includes('urn:test:white'), 'a whitelist node is not listed to a contact');
    const c = track(await login(ts, 'carol', 'disco'));
    const open = await iq(c, 'get', `<query xmlns='${INFO}' node='urn:test:open'/>`, 'alice@localhost');
    assert.ok(open.getChild('query', INFO)!.getChildren('identity').some((i) => i.attr('category') === 'pubsub' && i.attr('type') === 'leaf'), open.toString());
    assert.equal(errorCondition(await iq(c, 'get', `<query xmlns='${INFO}' node='${MOOD}'/>`, 'alice@localhost')), 'item-not-found');
  });

  it('sends nothing to a contact the owner blocks (XEP-0191)', async () => {
    const node = 'urn:test:blocked';
    const a = track(await online(ts, 'alice', 'block', [node]));
    const d = track(await online(ts, 'dave', 'block', [node]));
    await publish(a, node, `<x xmlns='urn:test'>1</x>`, '1');
    await takeEvent(d, node);
    assert.equal((await iq(a, 'set', `<block xmlns='urn:xmpp:blocking'><item jid='dave@localhost'/></block>`)).attr('type'), 'result');
    await publish(a, node, `<x xmlns='urn:test'>2</x>`, '2');
    await takeEvent(a, node); await takeEvent(a, node);
    await none(d, isEvent(node), 'event for a blocked contact');
    await iq(a, 'set', `<unblock xmlns='urn:xmpp:blocking'><item jid='dave@localhost'/></unblock>`);
  });

  it('answers bad requests with their errors', async () => {
    const a = track(await login(ts, 'alice', 'bad'));
    const e1 = await pubsubIq(a, 'set', `<publish/>`);
    assert.equal(errorCondition(e1), 'bad-request');
    assert.equal(appCondition(e1), 'nodeid-required');
    assert.equal(errorCondition(await pubsubIq(a, 'set', `<publish node='n'><item><a xmlns='x'/><b xmlns='x'/></item></publish>`)), 'bad-request');
    assert.equal(errorCondition(await pubsubIq(a, 'get', `<publish node='n'><item/></publish>`)), 'bad-request');
    assert.equal(errorCondition(await pubsubIq(a, 'set', `<frobnicate node='n'/>`)), 'feature-not-implemented');
    assert.equal(errorCondition(await pubsubIq(a, 'get', `<items node='x'/>`, 'nobody@localhost')), 'item-not-found');
    await presenceSync(a, '<presence/>');
  });
});
