// Avatars: PEP avatars (XEP-0084) reach subscribed contacts and are converted to the vCard
// PHOTO and back (XEP-0398 §3), and the vCard-based hash goes into presence (XEP-0153 via
// XEP-0398 §4).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { befriend, errorCondition, iq, login, take, presenceSync } from '../im/roster-helpers.js';
import { EVENT, PUBSUB, online, publish, pubsubIq, takeEvent } from './pubsub-helpers.js';

const DATA = 'urn:xmpp:avatar:data';
const META = 'urn:xmpp:avatar:metadata';
const VCARD = 'vcard-temp';
const UPDATE = 'vcard-temp:x:update';
// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const OPEN = { 'pubsub#access_model': 'open' };

describe('avatars', () => {
  let ts: TestServer;
  const clients: RawClient[] = [];
  before(async () => {
    ts = await startTestServer();
    for (const u of ['alice', 'bob', 'carol']) await ts.addUser(u, 'pw');
    await befriend(ts, 'alice', 'bob');
  });
  after(async () => { for (const c of clients) c.destroy(); await ts.stop(); });

  it('a PEP avatar reaches the contact, becomes the vCard PHOTO and its hash goes into presence', async () => {
    const b = await online(ts, 'bob', 'b', [META]); clients.push(b);
    const a = await login(ts, 'alice', 'a'); clients.push(a);
    const id = sha1(PNG);
    assert.equal((await publish(a, DATA, `<data xmlns='${DATA}'>${PNG.toString('base64')}</data>`, id, OPEN)).attr('type'), 'result');
    const r = await publish(a, META, `<metadata xmlns='${META}'><info id='${id}' bytes='${PNG.length}' type='image/png' width='1' height='1'/></metadata>`, id, OPEN);
    assert.equal(r.attr('type'), 'result', r.toString());
    const ev = await takeEvent(b, META, 'items', 'alice@localhost');
    assert.equal(ev.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attr('id'), id);
    // XEP-0398 §3.1: the vCard PHOTO (read by the contact).
    const v = (await iq(b, 'get', `<vCard xmlns='${VCARD}'/>`, 'alice@localhost')).getChild('vCard', VCARD)!;
    assert.equal(v.getChild('PHOTO', VCARD)?.getChildText('TYPE', VCARD), 'image/png');
    assert.equal(v.getChild('PHOTO', VCARD)?.getChildText('BINVAL', VCARD), PNG.toString('base64'));
    // §4: alice's presence carries the hash; an empty <photo/> is left as the client sent it.
    a.send(`<presence/>`);
    const p = await take(b, (e) => e.name === 'presence' && e.attr('from') === 'alice@localhost/a' && !e.attr('type'), 'alice presence');
    assert.equal(p.getChild('x', UPDATE)?.getChildText('photo', UPDATE), id);
    a.send(`<presence><show>away</show><x xmlns='${UPDATE}'><photo/></x></presence>`);
    const p2 = await take(b, (e) => e.name === 'presence' && e.attr('from') === 'alice@localhost/a' && e.getChildText('show') === 'away', 'away presence');
    assert.equal(p2.getChild('x', UPDATE)?.getChildText('photo', UPDATE), '');
  });

  it('a vCard PHOTO becomes a PEP avatar (data, then metadata)', async () => {
    const c = await online(ts, 'carol', 'c', [META]); clients.push(c);
    const set = await iq(c, 'set', `<vCard xmlns='${VCARD}'><FN>Carol</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>${PNG.toString('base64')}</BINVAL></PHOTO></vCard>`);
    assert.equal(set.attr('type'), 'result', set.toString());
    const ev = await takeEvent(c, META);
    const info = ev.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.getChild('metadata', META)!.getChild('info', META)!;
    assert.equal(info.attr('id'), sha1(PNG));
    assert.equal(info.attr('bytes'), String(PNG.length));
    assert.equal(info.attr('type'), 'image/png');
    const data = (await pubsubIq(c, 'get', `<items node='${DATA}'/>`, 'carol@localhost')).getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChild('item', PUBSUB)!;
    assert.equal(data.attr('id'), sha1(PNG));
    assert.equal(Buffer.from(data.getChildText('data', DATA)!, 'base64').equals(PNG), true);
    // The conversion's echo (metadata → vCard) did not publish twice.
    await presenceSync(c, '<presence/>');
    assert.equal(c.elements.filter((e) => e.getChild('event', EVENT)?.getChild('items', EVENT)?.attr('node') === META).length, 1);
  });

  it('does not copy an avatar from a data node that is not open, nor one whose data does not match its id', async () => {
    await ts.addUser('dave', 'pw');
    const d = await login(ts, 'dave', 'd'); clients.push(d);
    const id = sha1(PNG);
    await publish(d, DATA, `<data xmlns='${DATA}'>${PNG.toString('base64')}</data>`, id);
    await publish(d, META, `<metadata xmlns='${META}'><info id='${id}' bytes='${PNG.length}' type='image/png'/></metadata>`, id);
    assert.equal((await iq(d, 'get', `<vCard xmlns='${VCARD}'/>`)).getChild('vCard', VCARD)!.getChild('PHOTO', VCARD), undefined);
    await ts.addUser('erin', 'pw');
    const e = await login(ts, 'erin', 'e'); clients.push(e);
    await publish(e, DATA, `<data xmlns='${DATA}'>${PNG.toString('base64')}</data>`, 'f'.repeat(40), OPEN);
    await publish(e, META, `<metadata xmlns='${META}'><info id='${'f'.repeat(40)}' bytes='${PNG.length}' type='image/png'/></metadata>`, 'f'.repeat(40), OPEN);
    assert.equal((await iq(e, 'get', `<vCard xmlns='${VCARD}'/>`)).getChild('vCard', VCARD)!.getChild('PHOTO', VCARD), undefined);
    // A contact cannot read a presence-model avatar without a subscription.
    const b = await login(ts, 'bob', 'peek'); clients.push(b);
    assert.equal(errorCondition(await pubsubIq(b, 'get', `<items node='${DATA}'/>`, 'dave@localhost')), 'not-authorized');
  });
});
