// What rides on PEP without server logic of its own: OMEMO device lists and bundles as
// Conversations publishes them (open access, publish-options, a contact and a stranger fetch),
// persistent private data (XEP-0223: whitelist + persist_items) and vCard4 over PEP (XEP-0292).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { befriend, errorCondition, login } from '../im/roster-helpers.js';
import { EVENT, OWNER, PUBSUB, appCondition, online, publish, pubsubIq, takeEvent } from './pubsub-helpers.js';

const AXOLOTL = 'eu.siacs.conversations.axolotl';
const DEVICELIST = `${AXOLOTL}.devicelist`;
const bundleNode = (id: number) => `${AXOLOTL}.bundles:${id}`;
const OPEN = { 'pubsub#access_model': 'open' };
const itemsOf = (r: { getChild: (n: string, ns?: string) => any }) => r.getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChildren('item', PUBSUB) as { attr(n: string): string | undefined; getChild(n: string, ns?: string): any }[];

describe('PEP uses', () => {
  let ts: TestServer;
  const clients: RawClient[] = [];
  before(async () => {
    ts = await startTestServer();
    for (const u of ['alice', 'bob', 'carol']) await ts.addUser(u, 'pw');
    await befriend(ts, 'alice', 'bob');
  });
  after(async () => { for (const c of clients) c.destroy(); await ts.stop(); });

  it('OMEMO: a device list and bundle published like Conversations does reach a contact and are fetched by anyone', async () => {
    const b = await online(ts, 'bob', 'phone', [DEVICELIST]); clients.push(b);
    const a = await login(ts, 'alice', 'conversations'); clients.push(a);
    // Conversations first publishes its bundle, then adds its device id to the list.
    const bundle = `<bundle xmlns='${AXOLOTL}'><signedPreKeyPublic signedPreKeyId='1'>BQ==</signedPreKeyPublic><signedPreKeySignature>c2ln</signedPreKeySignature><identityKey>aWs=</identityKey><prekeys>${
      [1, 2, 3].map((i) => `<preKeyPublic preKeyId='${i}'>cGs${i}</preKeyPublic>`).join('')}</prekeys></bundle>`;
    assert.equal((await publish(a, bundleNode(4711), bundle, 'current', OPEN)).attr('type'), 'result');
    const r = await publish(a, DEVICELIST, `<list xmlns='${AXOLOTL}'><device id='4711'/></list>`, 'current', OPEN);
    assert.equal(r.attr('type'), 'result', r.toString());
    const ev = await takeEvent(b, DEVICELIST, 'items', 'alice@localhost');
    assert.equal(ev.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.getChild('list', AXOLOTL)!.getChild('device')!.attr('id'), '4711');
    // A stranger (no subscription) starting an encrypted chat fetches both.
    const c = await login(ts, 'carol', 'c'); clients.push(c);
    const list = itemsOf(await pubsubIq(c, 'get', `<items node='${DEVICELIST}'/>`, 'alice@localhost'));
    assert.equal(list[0]!.getChild('list', AXOLOTL).getChild('device').attr('id'), '4711');
    const got = itemsOf(await pubsubIq(c, 'get', `<items node='${bundleNode(4711)}' max_items='1'/>`, 'alice@localhost'));
    assert.equal(got[0]!.getChild('bundle', AXOLOTL).getChild('prekeys').getChildren('preKeyPublic').length, 3);
    // A second device adds itself; the singleton list keeps one item.
    await publish(a, DEVICELIST, `<list xmlns='${AXOLOTL}'><device id='4711'/><device id='815'/></list>`, 'current', OPEN);
    const list2 = itemsOf(await pubsubIq(c, 'get', `<items node='${DEVICELIST}'/>`, 'alice@localhost'));
    assert.equal(list2.length, 1);
    assert.equal(list2[0]!.getChild('list', AXOLOTL).getChildren('device').length, 2);
  });

  it('OMEMO: a list made under the presence model is reconfigured after precondition-not-met, as Conversations does', async () => {
    const a = await login(ts, 'alice', 'old'); clients.push(a);
    const node = 'urn:xmpp:omemo:2:devices';
    await publish(a, node, `<devices xmlns='urn:xmpp:omemo:2'><device id='1'/></devices>`, 'current');
    const refused = await publish(a, node, `<devices xmlns='urn:xmpp:omemo:2'><device id='1'/></devices>`, 'current', OPEN);
    assert.equal(errorCondition(refused), 'conflict');
    assert.equal(appCondition(refused), 'precondition-not-met');
    const cfg = await pubsubIq(a, 'set', `<configure node='${node}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#node_config</value></field><field var='pubsub#access_model'><value>open</value></field></x></configure>`, undefined, OWNER);
    assert.equal(cfg.attr('type'), 'result', cfg.toString());
    assert.equal((await publish(a, node, `<devices xmlns='urn:xmpp:omemo:2'><device id='1'/></devices>`, 'current', OPEN)).attr('type'), 'result');
    // OMEMO 2 keeps one bundle item per device in one node: max_items=max.
    for (const id of ['1', '2', '3']) assert.equal((await publish(a, 'urn:xmpp:omemo:2:bundles', `<bundle xmlns='urn:xmpp:omemo:2'/>`, id, { ...OPEN, 'pubsub#max_items': 'max' })).attr('type'), 'result');
    const c = await login(ts, 'carol', 'c2'); clients.push(c);
    assert.deepEqual(itemsOf(await pubsubIq(c, 'get', `<items node='urn:xmpp:omemo:2:bundles'/>`, 'alice@localhost')).map((i) => i.attr('id')), ['1', '2', '3']);
  });

  it('XEP-0223: private data with whitelist + persist_items, readable by the owner only', async () => {
    const a = await login(ts, 'alice', 'private'); clients.push(a);
    const opts = { 'pubsub#persist_items': 'true', 'pubsub#access_model': 'whitelist' };
    assert.equal((await publish(a, 'urn:test:prefs', `<prefs xmlns='urn:test:prefs'><x/></prefs>`, 'current', opts)).attr('type'), 'result');
    assert.equal((await publish(a, 'urn:test:prefs', `<prefs xmlns='urn:test:prefs'><y/></prefs>`, 'current', opts)).attr('type'), 'result');
    const mine = itemsOf(await pubsubIq(a, 'get', `<items node='urn:test:prefs'/>`));
    assert.ok(mine[0]!.getChild('prefs', 'urn:test:prefs').getChild('y'));
    const b = await login(ts, 'bob', 'peek'); clients.push(b);
    assert.equal(errorCondition(await pubsubIq(b, 'get', `<items node='urn:test:prefs'/>`, 'alice@localhost')), 'not-allowed');
  });

  it('XEP-0292: a vCard4 on PEP reaches a contact and is fetched', async () => {
    const V4 = 'urn:ietf:params:xml:ns:vcard-4.0';
    const b = await online(ts, 'bob', 'v4', [V4]); clients.push(b);
    const a = await login(ts, 'alice', 'v4'); clients.push(a);
    const r = await publish(a, V4, `<vcard xmlns='${V4}'><fn><text>Alice</text></fn><nickname><text>Al</text></nickname></vcard>`, 'current');
    assert.equal(r.attr('type'), 'result');
    await takeEvent(b, V4);
    const got = itemsOf(await pubsubIq(b, 'get', `<items node='${V4}'/>`, 'alice@localhost'));
    assert.equal(got[0]!.getChild('vcard', V4).getChild('fn').getChildText('text'), 'Alice');
  });
});
