// XEP-0045 §8 moderator use cases (kick 307, voice), §9 admin use cases (ban 301, members,
// moderators, lists), §10 owner use cases (owners/admins lists, the last owner, destroy with an
// alternate venue and reason), members-only removal (321) and permission errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MUC_ADMIN, MUC_OWNER, MUC_USER, adminSet, codes, createRoom, errorCondition, iq, itemOf, join, joinError, presenceFrom, roomJid, startMuc, take, users } from './muc-helpers.js';

test('kick with actor and reason (307); participants may not kick; nobody kicks an owner', async () => {
  const ts = await startMuc();
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    await createRoom(a!, 'k', 'Alice');
    await join(b!, 'k', 'Bob');
    await join(c!, 'k', 'Carol');
    const denied = await adminSet(b!, 'k', `<item nick='Carol' role='none'/>`);
    assert.equal(errorCondition(denied), 'forbidden');
    const r = await adminSet(a!, 'k', `<item nick='Bob' role='none'><reason>behave</reason></item>`);
    assert.equal(r.attr('type'), 'result');
    const self = await take(b!, presenceFrom(roomJid('k', 'Bob'), 'unavailable'), 'kicked');
    assert.deepEqual(codes(self).sort(), [110, 307]);
    assert.equal(itemOf(self)!.getChildText('reason', MUC_USER), 'behave');
    assert.equal(itemOf(self)!.getChild('actor', MUC_USER)!.attr('nick'), 'Alice');
    const other = await take(c!, presenceFrom(roomJid('k', 'Bob'), 'unavailable'), 'sees kick');
    assert.deepEqual(codes(other), [307]);
    // Carol made moderator by the owner cannot kick the owner.
    assert.equal((await adminSet(a!, 'k', `<item nick='Carol' role='moderator'/>`)).attr('type'), 'result');
    await take(c!, (e) => presenceFrom(roomJid('k', 'Carol'))(e) && itemOf(e)?.attr('role') === 'moderator', 'now moderator');
    assert.equal(errorCondition(await adminSet(c!, 'k', `<item nick='Alice' role='none'/>`)), 'not-allowed');
    assert.equal(errorCondition(await adminSet(a!, 'k', `<item nick='Nobody' role='none'/>`)), 'item-not-found');
    assert.equal(errorCondition(await adminSet(a!, 'k', `<item nick='Carol' role='king'/>`)), 'bad-request');
  } finally { await ts.stop(); }
});

test('ban (301) removes and keeps out; outcast list; revoke and grant voice; voice list', async () => {
  const ts = await startMuc();
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    await createRoom(a!, 'b', 'Alice', { 'muc#roomconfig_moderatedroom': '1' });
    await join(b!, 'b', 'Bob');
    await join(c!, 'b', 'Carol');
    assert.equal((await adminSet(a!, 'b', `<item nick='Carol' role='participant'/>`)).attr('type'), 'result');
    await take(c!, (e) => presenceFrom(roomJid('b', 'Carol'))(e) && itemOf(e)?.attr('role') === 'participant', 'voice');
    const voice = await iq(a!, 'get', `<query xmlns='${MUC_ADMIN}'><item role='participant'/></query>`, roomJid('b'));
    assert.deepEqual(voice.getChild('query', MUC_ADMIN)!.getChildren('item').map((i) => i.attr('nick')), ['Carol']);
    assert.equal(errorCondition(await iq(b!, 'get', `<query xmlns='${MUC_ADMIN}'><item role='participant'/></query>`, roomJid('b'))), 'forbidden');
    await adminSet(a!, 'b', `<item nick='Carol' role='visitor'/>`);
    await take(c!, (e) => presenceFrom(roomJid('b', 'Carol'))(e) && itemOf(e)?.attr('role') === 'visitor', 'voice revoked');
    const r = await adminSet(a!, 'b', `<item affiliation='outcast' jid='bob@localhost'><reason>gone</reason></item>`);
    assert.equal(r.attr('type'), 'result');
    const self = await take(b!, presenceFrom(roomJid('b', 'Bob'), 'unavailable'), 'banned');
    assert.deepEqual(codes(self).sort(), [110, 301]);
    assert.equal(itemOf(self)!.attr('affiliation'), 'outcast');
    await take(c!, (e) => presenceFrom(roomJid('b', 'Bob'), 'unavailable')(e) && codes(e).includes(301), 'sees ban');
    assert.equal(await joinError(b!, 'b', 'Bob2'), 'forbidden');
    const list = await iq(a!, 'get', `<query xmlns='${MUC_ADMIN}'><item affiliation='outcast'/></query>`, roomJid('b'));
    const it = list.getChild('query', MUC_ADMIN)!.getChild('item')!;
    assert.equal(it.attr('jid'), 'bob@localhost');
    assert.equal(it.getChildText('reason'), 'gone');
    assert.equal(errorCondition(await iq(c!, 'get', `<query xmlns='${MUC_ADMIN}'><item affiliation='outcast'/></query>`, roomJid('b'))), 'forbidden');
  } finally { await ts.stop(); }
});

test('admins and owners: promotion changes role; admins cannot touch owners; the last owner stays', async () => {
  const ts = await startMuc();
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    await createRoom(a!, 'o', 'Alice');
    await join(b!, 'o', 'Bob');
    await join(c!, 'o', 'Carol');
    await adminSet(a!, 'o', `<item affiliation='admin' jid='bob@localhost'/>`);
    const p = await take(c!, (e) => presenceFrom(roomJid('o', 'Bob'))(e) && itemOf(e)?.attr('affiliation') === 'admin', 'bob admin');
    assert.equal(itemOf(p)!.attr('role'), 'moderator');
    assert.equal(itemOf(p)!.attr('jid'), undefined, 'semi-anonymous: participants do not see real JIDs');
    const forB = await take(b!, (e) => presenceFrom(roomJid('o', 'Bob'))(e) && itemOf(e)?.attr('affiliation') === 'admin', 'bob sees himself');
    assert.ok(forB);
    // Bob as admin: members yes, owners no.
    assert.equal((await adminSet(b!, 'o', `<item affiliation='member' jid='carol@localhost'/>`)).attr('type'), 'result');
    assert.equal(errorCondition(await adminSet(b!, 'o', `<item affiliation='none' jid='alice@localhost'/>`)), 'not-allowed');
    assert.equal(errorCondition(await adminSet(b!, 'o', `<item affiliation='owner' jid='carol@localhost'/>`)), 'forbidden');
    assert.equal(errorCondition(await adminSet(a!, 'o', `<item affiliation='member' jid='alice@localhost'/>`)), 'conflict');
    const members = await iq(c!, 'get', `<query xmlns='${MUC_ADMIN}'><item affiliation='member'/></query>`, roomJid('o'));
    assert.deepEqual(members.getChild('query', MUC_ADMIN)!.getChildren('item').map((i) => i.attr('jid')), ['carol@localhost'], 'getmemberlist allows participants');
    const owners = await iq(a!, 'get', `<query xmlns='${MUC_ADMIN}'><item affiliation='owner'/></query>`, roomJid('o'));
    assert.deepEqual(owners.getChild('query', MUC_ADMIN)!.getChildren('item').map((i) => i.attr('jid')), ['alice@localhost']);
    // Members-only: removing Carol's membership removes her (321).
    await iq(a!, 'set', `<query xmlns='${MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'><field var='muc#roomconfig_membersonly'><value>1</value></field></x></query>`, roomJid('o'));
    await adminSet(a!, 'o', `<item affiliation='none' jid='carol@localhost'/>`);
    const out = await take(c!, presenceFrom(roomJid('o', 'Carol'), 'unavailable'), '321');
    assert.ok(codes(out).includes(321));
  } finally { await ts.stop(); }
});

test('destroy with alternate venue and reason; only owners destroy', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'd', 'Alice', { 'muc#roomconfig_persistentroom': '1' });
    await join(b!, 'd', 'Bob');
    assert.equal(errorCondition(await iq(b!, 'set', `<query xmlns='${MUC_OWNER}'><destroy/></query>`, roomJid('d'))), 'forbidden');
    const r = await iq(a!, 'set', `<query xmlns='${MUC_OWNER}'><destroy jid='new@conference.localhost'><reason>moved</reason></destroy></query>`, roomJid('d'));
    assert.equal(r.attr('type'), 'result');
    const p = await take(b!, presenceFrom(roomJid('d', 'Bob'), 'unavailable'), 'destroyed');
    const d = p.getChild('x', MUC_USER)!.getChild('destroy', MUC_USER)!;
    assert.equal(d.attr('jid'), 'new@conference.localhost');
    assert.equal(d.getChildText('reason', MUC_USER), 'moved');
    const info = await iq(b!, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, roomJid('d'));
    assert.equal(errorCondition(info), 'item-not-found');
  } finally { await ts.stop(); }
});
