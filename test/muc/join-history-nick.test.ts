// XEP-0045 §7.2 entering a room (errors: conflict, registration-required, forbidden,
// service-unavailable, not-acceptable, jid-malformed), history on join with its limits and
// XEP-0203 delays (§7.2.15–§7.2.16), subject on join, §7.6 nick changes (303), §7.14 leaving,
// multi-session occupants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adminSet, codes, configure, createRoom, groupchat, isGroupchat, itemOf, join, joinError, none, presenceFrom, roomJid, sleep, startMuc, take, users, login } from './muc-helpers.js';

test('join errors: nickname conflict, members-only, banned, full room, bad nick, no nick', async () => {
  const ts = await startMuc();
  try {
    const [a, b, c, d] = await users(ts, ['alice', 'bob', 'carol', 'dave']);
    await createRoom(a!, 'r', 'Alice', { 'muc#roomconfig_maxusers': '2' });
    assert.equal(await joinError(b!, 'r', 'Alice'), 'conflict');
    await join(b!, 'r', 'Bob');
    assert.equal(await joinError(c!, 'r', 'Carol'), 'service-unavailable', 'full');
    const ban = await adminSet(a!, 'r', `<item affiliation='outcast' jid='dave@localhost'><reason>spam</reason></item>`);
    assert.equal(ban.attr('type'), 'result');
    assert.equal(await joinError(d!, 'r', 'Dave'), 'forbidden');
    await createRoom(a!, 'club', 'Alice', { 'muc#roomconfig_membersonly': '1' });
    assert.equal(await joinError(c!, 'club', 'Carol'), 'registration-required');
    await adminSet(a!, 'club', `<item affiliation='member' jid='carol@localhost'/>`);
    const pc = await join(c!, 'club', 'Carol');
    assert.equal(itemOf(pc)!.attr('affiliation'), 'member');
    assert.equal(await joinError(c!, 'club', '   '), 'not-acceptable');
    c!.send(`<presence to='${roomJid('club')}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`);
    const e = await take(c!, (x) => x.name === 'presence' && x.attr('type') === 'error' && x.attr('from') === roomJid('club'), 'jid-malformed');
    assert.ok(e.toString().includes('jid-malformed'));
  } finally { await ts.stop(); }
});

test('history on join with maxstanzas/maxchars/seconds, delays from the room, then the subject', async () => {
  const ts = await startMuc();
  try {
    const [a, b, c, d] = await users(ts, ['alice', 'bob', 'carol', 'dave']);
    await createRoom(a!, 'h', 'Alice', { 'muc#roomconfig_historylength': '3', 'muc#roomconfig_changesubject': '1' });
    for (const n of [1, 2, 3, 4]) { a!.send(groupchat('h', `m${n}`)); await take(a!, isGroupchat('h', `m${n}`), `echo m${n}`); }
    a!.send(`<message to='${roomJid('h')}' type='groupchat'><subject>Topic!</subject></message>`);
    await take(a!, (e) => e.name === 'message' && e.getChildText('subject') === 'Topic!', 'subject echo');
    await join(b!, 'h', 'Bob');
    const subj = await take(b!, (e) => e.name === 'message' && e.getChild('subject') !== undefined, 'subject');
    const hist = b!.elements.filter((e) => e.name === 'message' && e.getChild('body'));
    assert.deepEqual(hist.map((e) => e.getChildText('body')), ['m2', 'm3', 'm4'], 'the last historylength messages');
    const delay = hist[0]!.getChild('delay', 'urn:xmpp:delay')!;
    assert.equal(delay.attr('from'), roomJid('h'));
    assert.ok(Date.parse(delay.attr('stamp')!) > Date.now() - 60_000);
    assert.equal(subj.getChildText('subject'), 'Topic!');
    assert.equal(subj.attr('from'), roomJid('h', 'Alice'));
    assert.ok(b!.elements.indexOf(subj) > b!.elements.indexOf(hist[2]!), 'subject after history');
    await join(c!, 'h', 'Carol', { history: `<history maxstanzas='1'/>` });
    await take(c!, (e) => e.name === 'message' && e.getChild('subject') !== undefined, 'subject');
    assert.deepEqual(c!.elements.filter((e) => e.name === 'message' && e.getChild('body')).map((e) => e.getChildText('body')), ['m4']);
    await join(d!, 'h', 'Dave', { history: `<history maxchars='0'/>` });
    await take(d!, (e) => e.name === 'message' && e.getChild('subject') !== undefined, 'subject');
    assert.equal(d!.elements.filter((e) => e.name === 'message' && e.getChild('body')).length, 0);
    const e2 = await login(ts, 'eve', 'r1');
    await sleep(1100);
    await join(e2, 'h', 'Eve', { history: `<history seconds='0'/>` });
    await take(e2, (e) => e.name === 'message' && e.getChild('subject') !== undefined, 'subject');
    assert.equal(e2.elements.filter((e) => e.name === 'message' && e.getChild('body')).length, 0);
  } finally { await ts.stop(); }
});

test('nickname change (303 then the new nick), status update, leave with 110 and status', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'n', 'Alice');
    await join(b!, 'n', 'Bob');
    await take(a!, presenceFrom(roomJid('n', 'Bob')), 'bob in');
    assert.equal(await joinError(b!, 'n', 'Alice'), 'conflict', 'changing to a taken nick');
    b!.send(`<presence to='${roomJid('n', 'Robert')}'/>`);
    const out = await take(a!, presenceFrom(roomJid('n', 'Bob'), 'unavailable'), '303');
    assert.ok(codes(out).includes(303));
    assert.equal(itemOf(out)!.attr('nick'), 'Robert');
    await take(a!, presenceFrom(roomJid('n', 'Robert')), 'new nick');
    const selfOut = await take(b!, presenceFrom(roomJid('n', 'Bob'), 'unavailable'), 'own 303');
    assert.deepEqual(codes(selfOut).sort(), [110, 303]);
    await take(b!, (e) => e.name === 'presence' && e.attr('from') === roomJid('n', 'Robert') && codes(e).includes(110), 'own new nick');
    b!.send(`<presence to='${roomJid('n', 'Robert')}'><show>away</show></presence>`);
    const upd = await take(a!, (e) => presenceFrom(roomJid('n', 'Robert'))(e) && e.getChildText('show') === 'away', 'status update');
    assert.ok(upd.getChild('occupant-id', 'urn:xmpp:occupant-id:0'));
    b!.send(`<presence to='${roomJid('n', 'Robert')}' type='unavailable'><status>bye</status></presence>`);
    const left = await take(a!, presenceFrom(roomJid('n', 'Robert'), 'unavailable'), 'leave');
    assert.equal(left.getChildText('status'), 'bye');
    assert.equal(itemOf(left)!.attr('role'), 'none');
    const selfLeft = await take(b!, presenceFrom(roomJid('n', 'Robert'), 'unavailable'), 'own leave');
    assert.ok(codes(selfLeft).includes(110));
  } finally { await ts.stop(); }
});

test('multi-session: two resources of one account share a nick; one leaving keeps the occupant', async () => {
  const ts = await startMuc();
  try {
    const [a] = await users(ts, ['alice']);
    const b1 = await login(ts, 'bob', 'one');
    const b2 = await login(ts, 'bob', 'two');
    await createRoom(a!, 'm', 'Alice');
    await join(b1, 'm', 'Bob');
    await take(a!, presenceFrom(roomJid('m', 'Bob')), 'bob in');
    await join(b2, 'm', 'Bob');
    await none(a!, presenceFrom(roomJid('m', 'Bob')), 'a second join presence');
    a!.send(groupchat('m', 'both'));
    await take(b1, isGroupchat('m', 'both'), 'b1 gets it');
    await take(b2, isGroupchat('m', 'both'), 'b2 gets it');
    b1.send(`<presence to='${roomJid('m', 'Bob')}' type='unavailable'/>`);
    await take(b1, presenceFrom(roomJid('m', 'Bob'), 'unavailable'), 'b1 out');
    await none(a!, presenceFrom(roomJid('m', 'Bob'), 'unavailable'), 'bob leaving while b2 stays');
    a!.send(groupchat('m', 'still'));
    await take(b2, isGroupchat('m', 'still'), 'b2 still in');
    void configure;
  } finally { await ts.stop(); }
});
