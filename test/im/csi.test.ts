// Client State Indication (XEP-0352) end to end: romeo goes inactive while his contact juliet
// changes presence and types; what is held, what goes at once, and in which order.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { login, take, iq, chat, byId, befriend, presenceSync, sleep } from './roster-helpers.js';

const CSI = 'urn:xmpp:csi:0';
const CHATSTATES = 'http://jabber.org/protocol/chatstates';
const ROMEO = 'romeo@localhost/phone';
const JULIET = 'juliet@localhost/balcony';

const composing = (id: string) => `<message to='${ROMEO}' type='chat' id='${id}'><composing xmlns='${CHATSTATES}'/></message>`;
const status = (text: string) => `<presence><show>away</show><status>${text}</status></presence>`;
const isStatus = (text: string) => (e: Element) => e.name === 'presence' && e.attr('from') === JULIET && e.getChildText('status') === text;
const ping = (c: RawClient) => iq(c, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
/** Stanzas received since `mark` that juliet caused (presence from her, messages and iqs from her). */
const fromJuliet = (c: RawClient, mark: number) => c.elements.slice(mark).filter((e) => e.attr('from') === JULIET);

describe('client state indication (XEP-0352)', () => {
  let ts: TestServer;
  let romeo: RawClient, juliet: RawClient;
  const metric = (n: string) => ts.server.metrics.values.get(`csi.${n}`) ?? 0;

  before(async () => {
    ts = await startTestServer({ modules: { options: { csi: { maxHeld: 5 } } } });
    for (const u of ['romeo', 'juliet', 'tybalt']) await ts.addUser(u, 'pw');
    await befriend(ts, 'romeo', 'juliet');
    romeo = await login(ts, 'romeo', 'phone');
    juliet = await login(ts, 'juliet', 'balcony');
    await presenceSync(romeo, '<presence/>');
    await presenceSync(juliet, '<presence/>');
    await take(romeo, (e) => e.name === 'presence' && e.attr('from') === JULIET, 'juliet available');
  });
  after(async () => { romeo?.destroy(); juliet?.destroy(); await ts.stop(); });

  it('advertises <csi/> after authentication only', async () => {
    const c = await RawClient.connect(ts.port);
    try {
      await c.login('tybalt', 'pw', { resource: 'x' });
      const features = c.elements.filter((e) => e.name === 'features');
      assert.equal(features.length, 2);
      assert.equal(features[0]!.getChild('csi', CSI), undefined, 'not before authentication');
      assert.ok(features[1]!.getChild('csi', CSI), features[1]!.toString());
    } finally { c.destroy(); }
  });

  it('while inactive: presence is held and collapsed, chat states held, a body message flushes them first', async () => {
    romeo.send(`<inactive xmlns='${CSI}'/>`);
    await ping(romeo); // the nonza is processed before the ping (§5)
    const mark = romeo.elements.length;
    const held0 = metric('held');
    await presenceSync(juliet, status('one'));
    await presenceSync(juliet, status('two'));
    juliet.send(composing('cs1'));
    await presenceSync(juliet, status('three'));
    await sleep(300);
    assert.deepEqual(fromJuliet(romeo, mark), [], 'nothing from juliet while inactive');
    assert.equal(metric('held') - held0, 4);
    assert.ok(metric('collapsed') >= 2);
    juliet.send(chat(ROMEO, 'body1', 'wake up'));
    await take(romeo, byId('body1'), 'the body message at once');
    const got = fromJuliet(romeo, mark);
    assert.deepEqual(got.map((e) => e.attr('id') ?? e.getChildText('status')), ['cs1', 'three', 'body1'],
      'held stanzas first, in order, presence collapsed to the latest');
  });

  it('iq and subscription requests go at once; <active/> flushes the rest before what follows it', async () => {
    // Still inactive from the previous test.
    const mark = romeo.elements.length;
    await presenceSync(juliet, status('four'));
    juliet.send(`<iq type='get' id='v1' to='${ROMEO}'><query xmlns='jabber:iq:version'/></iq>`);
    await take(romeo, byId('v1'), 'iq at once');
    assert.deepEqual(fromJuliet(romeo, mark).map((e) => e.name), ['presence', 'iq'], 'held presence flushed before the iq');
    const tybalt = await login(ts, 'tybalt', 'street');
    try {
      tybalt.send(`<presence to='romeo@localhost' type='subscribe'/>`);
      await take(romeo, (e) => e.name === 'presence' && e.attr('type') === 'subscribe', 'subscription request at once');
    } finally { tybalt.destroy(); }
    const mark2 = romeo.elements.length;
    await presenceSync(juliet, status('five'));
    juliet.send(composing('cs2'));
    await ping(juliet);
    await sleep(200);
    assert.deepEqual(fromJuliet(romeo, mark2), []);
    romeo.send(`<active xmlns='${CSI}'/>`);
    const pong = await ping(romeo);
    const i = romeo.elements.indexOf(pong);
    const flushedNow = romeo.elements.slice(mark2, i).filter((e) => e.attr('from') === JULIET);
    assert.deepEqual(flushedNow.map((e) => e.attr('id') ?? e.getChildText('status')), ['five', 'cs2'], 'held stanzas before the pong');
    // Active again: stanzas flow at once.
    juliet.send(composing('cs3'));
    await take(romeo, byId('cs3'), 'chat state while active');
  });

  it('reaching maxHeld flushes what is held', async () => {
    romeo.send(`<inactive xmlns='${CSI}'/>`);
    await ping(romeo);
    const mark = romeo.elements.length;
    const flushed0 = metric('flushed');
    for (let n = 1; n <= 4; n++) juliet.send(composing(`lim${n}`));
    await ping(juliet);
    await sleep(200);
    assert.deepEqual(fromJuliet(romeo, mark), [], 'four held (limit 5)');
    juliet.send(composing('lim5'));
    await take(romeo, byId('lim5'), 'the fifth fills the queue and flushes it');
    assert.deepEqual(fromJuliet(romeo, mark).map((e) => e.attr('id')), ['lim1', 'lim2', 'lim3', 'lim4', 'lim5']);
    assert.equal(metric('flushed') - flushed0, 5);
    romeo.send(`<active xmlns='${CSI}'/>`);
    await ping(romeo);
  });

  it('a message with a body to an inactive client goes at once even with nothing held', async () => {
    romeo.send(`<inactive xmlns='${CSI}'/>`);
    await ping(romeo);
    const t0 = Date.now();
    juliet.send(chat(ROMEO, 'body2'));
    await take(romeo, byId('body2'), 'body at once', 3000);
    assert.ok(Date.now() - t0 < 3000);
    romeo.send(`<active xmlns='${CSI}'/>`);
    await ping(romeo);
  });
});
