// The room archive (XEP-0313 §6 on the room JID, XEP-0359 stanza ids by the room): groupchat of
// a room with logging on is archived, stamped with the archive id, paged with RSM through the
// MAM query engine, and readable only by whom the room's policy allows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startMuc, login, createRoom, join, groupchat, isGroupchat, take, iq, errorCondition, roomJid } from './muc-helpers.js';

const MAM = 'urn:xmpp:mam:2';
const SID = 'urn:xmpp:sid:0';
const results = (c: { elements: Element[] }, queryid: string): Element[] =>
  c.elements.filter((e) => e.name === 'message' && e.getChild('result', MAM)?.attr('queryid') === queryid);
const body = (r: Element): string | undefined => r.getChild('result', MAM)!.getChild('forwarded', 'urn:xmpp:forward:0')!.getChild('message', 'jabber:client')!.getChildText('body');

test('a logged room archives groupchat with stanza ids and pages it with RSM', async () => {
  const ts = await startMuc();
  try {
    const alice = await login(ts, 'alice', 'r');
    const bob = await login(ts, 'bob', 'r');
    await createRoom(alice, 'logged', 'Alice', { 'muc#roomconfig_enablelogging': '1', 'muc#roomconfig_publicroom': '1' });
    await join(bob, 'logged', 'Bob');
    const info = await iq(bob, 'get', "<query xmlns='http://jabber.org/protocol/disco#info'/>", roomJid('logged'));
    const features = info.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').map((f) => f.attr('var'));
    assert.ok(features.includes(MAM) && features.includes(SID), 'the room advertises its archive');

    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) {
      alice.send(groupchat('logged', `line ${i}`));
      const m = await take(bob, isGroupchat('logged', `line ${i}`), `line ${i}`);
      const sid = m.getChild('stanza-id', SID);
      assert.equal(sid?.attr('by'), roomJid('logged'), 'stamped by the room');
      ids.push(sid!.attr('id')!);
    }

    const first = await iq(bob, 'set', `<query xmlns='${MAM}' queryid='q1'><set xmlns='http://jabber.org/protocol/rsm'><max>2</max></set></query>`, roomJid('logged'));
    assert.equal(first.attr('type'), 'result', first.toString());
    assert.deepEqual(results(bob, 'q1').map(body), ['line 1', 'line 2']);
    assert.deepEqual(results(bob, 'q1').map((r) => r.getChild('result', MAM)!.attr('id')), ids.slice(0, 2), 'result ids are the stanza ids');
    assert.equal(results(bob, 'q1')[0]!.attr('from'), roomJid('logged'));
    const fin = first.getChild('fin', MAM)!;
    assert.notEqual(fin.attr('complete'), 'true');
    const last = fin.getChild('set', 'http://jabber.org/protocol/rsm')!.getChildText('last');

    const rest = await iq(bob, 'set', `<query xmlns='${MAM}' queryid='q2'><set xmlns='http://jabber.org/protocol/rsm'><max>10</max><after>${last}</after></set></query>`, roomJid('logged'));
    assert.deepEqual(results(bob, 'q2').map(body), ['line 3', 'line 4', 'line 5']);
    assert.equal(rest.getChild('fin', MAM)!.attr('complete'), 'true');

    // A newcomer's history carries the stanza ids too.
    const carol = await login(ts, 'carol', 'r');
    carol.send(`<presence to='${roomJid('logged', 'Carol')}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    const h = await take(carol, (e) => e.name === 'message' && e.getChildText('body') === 'line 5' && !!e.getChild('delay', 'urn:xmpp:delay'), 'history');
    assert.equal(h.getChild('stanza-id', SID)?.attr('id'), ids[4]);
  } finally { await ts.stop(); }
});

test('who may read a room archive, and rooms without one', async () => {
  const ts = await startMuc();
  try {
    const alice = await login(ts, 'alice', 'r');
    const eve = await login(ts, 'eve', 'r');
    await createRoom(alice, 'private', 'Alice', { 'muc#roomconfig_enablelogging': '1', 'muc#roomconfig_membersonly': '1' });
    alice.send(groupchat('private', 'secret'));
    await take(alice, isGroupchat('private', 'secret'), 'own echo');
    assert.equal(errorCondition(await iq(eve, 'set', `<query xmlns='${MAM}'/>`, roomJid('private'))), 'forbidden', 'an outsider of a members-only room');
    const own = await iq(alice, 'set', `<query xmlns='${MAM}' queryid='a'/>`, roomJid('private'));
    assert.equal(own.attr('type'), 'result');
    assert.deepEqual(results(alice, 'a').map(body), ['secret']);

    await createRoom(alice, 'unlogged', 'Alice', { 'muc#roomconfig_publicroom': '1' });
    assert.equal(errorCondition(await iq(eve, 'set', `<query xmlns='${MAM}'/>`, roomJid('unlogged'))), 'service-unavailable');
    alice.send(groupchat('unlogged', 'not kept'));
    const m = await take(alice, isGroupchat('unlogged', 'not kept'), 'echo');
    assert.equal(m.getChild('stanza-id', SID), undefined, 'no archive, no stanza id');
  } finally { await ts.stop(); }
});
