// Registering with a room (XEP-0045 §7.10 over XEP-0077) and reserved-nick discovery (§7.12,
// disco#info node x-roomuser-item), over real sockets: the form, registering, the <registered/>
// answer, conflicts with another user's reservation (registering and entering), changing and
// cancelling the registration, Magpie's policy for members-only and moderated rooms, outcasts,
// the limits (maxRegistrationsPerRoom, maxNickLength, registration off), and a persistent room
// keeping its registrations across a restart; and slixmpp (xep_0077 to the room, xep_0030 for
// x-roomuser-item: its xep_0045 plugin has no registration helpers) registering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import type { RawClient } from '../support/raw-client.js';
import pg from 'pg';
import { skipOrFail } from '../support/server.js';
import { pgTestUrl } from '../support/postgres.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { MUC_ADMIN, MUC_OWNER, adminSet, codes, configure, createRoom, errorCondition, iq, itemOf, join, joinError, login, presenceFrom, roomJid, startMuc, take, users } from './muc-helpers.js';

const REG = 'jabber:iq:register';
const MUC_REG = 'http://jabber.org/protocol/muc#register';
const DISCO = 'http://jabber.org/protocol/disco#info';
const FIELD = 'x-magpie#roomconfig_registration';

const regGet = (c: RawClient, room: string): Promise<Element> => iq(c, 'get', `<query xmlns='${REG}'/>`, roomJid(room));
const regForm = (nick?: string, formType = MUC_REG): string =>
  `<query xmlns='${REG}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>${formType}</value></field>` +
  `${nick !== undefined ? `<field var='muc#register_roomnick'><value>${nick}</value></field>` : ''}</x></query>`;
const register = (c: RawClient, room: string, nick?: string): Promise<Element> => iq(c, 'set', regForm(nick), roomJid(room));
const unregister = (c: RawClient, room: string): Promise<Element> => iq(c, 'set', `<query xmlns='${REG}'><remove/></query>`, roomJid(room));

/** §7.12: the requester's reserved nick (the identity's name), or undefined for an empty query. */
async function reservedNick(c: RawClient, room: string): Promise<string | undefined> {
  const r = await iq(c, 'get', `<query xmlns='${DISCO}' node='x-roomuser-item'/>`, roomJid(room));
  assert.equal(r.attr('type'), 'result', r.toString());
  const q = r.getChild('query', DISCO)!;
  assert.equal(q.attr('node'), 'x-roomuser-item');
  const ids = q.getChildren('identity', DISCO);
  assert.ok(ids.length <= 1, r.toString());
  if (ids[0]) { assert.equal(ids[0].attr('category'), 'conference'); assert.equal(ids[0].attr('type'), 'text'); }
  return ids[0]?.attr('name');
}

const ok = (r: Element): void => assert.equal(r.attr('type'), 'result', r.toString());

test('§7.10: form, register, <registered/>, conflicts, reserved nick on entering, change, cancel', async () => {
  const ts = await startMuc();
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    await createRoom(a!, 'reg', 'Alice');
    const info = await iq(b!, 'get', `<query xmlns='${DISCO}'/>`, roomJid('reg'));
    const features = info.getChild('query', DISCO)!.getChildren('feature', DISCO).map((f) => f.attr('var'));
    assert.ok(features.includes(REG) && features.includes(MUC_REG), 'the room advertises registration: ' + info.toString());

    // The form: FORM_TYPE muc#register, the roomnick required.
    const form = await regGet(b!, 'reg');
    ok(form);
    const x = form.getChild('query', REG)!.getChild('x', 'jabber:x:data')!;
    assert.equal(x.attr('type'), 'form');
    const fields = x.getChildren('field', 'jabber:x:data');
    assert.equal(fields.find((f) => f.attr('var') === 'FORM_TYPE')?.getChildText('value', 'jabber:x:data'), MUC_REG);
    const nickField = fields.find((f) => f.attr('var') === 'muc#register_roomnick');
    assert.ok(nickField?.getChild('required', 'jabber:x:data'), 'roomnick is required: ' + form.toString());
    assert.equal(form.getChild('query', REG)!.getChild('registered', REG), undefined);
    assert.equal(await reservedNick(b!, 'reg'), undefined, 'no reserved nick yet: an empty query');

    // Bad submissions.
    assert.equal(errorCondition(await register(b!, 'reg')), 'not-acceptable', 'no roomnick');
    assert.equal(errorCondition(await register(b!, 'reg', '')), 'not-acceptable', 'empty roomnick');
    assert.equal(errorCondition(await iq(b!, 'set', regForm('Bobby', 'urn:other'), roomJid('reg'))), 'bad-request', 'another FORM_TYPE');
    assert.equal(errorCondition(await iq(b!, 'set', `<query xmlns='${REG}'/>`, roomJid('reg'))), 'bad-request', 'no form');
    assert.equal(errorCondition(await regGet(b!, 'nosuchroom')), 'item-not-found');

    // Bob, in the room as Bob, registers Bobby: the room sees his new affiliation (§7.10).
    await join(b!, 'reg', 'Bob');
    await take(a!, presenceFrom(roomJid('reg', 'Bob')), 'bob arrives');
    ok(await register(b!, 'reg', 'Bobby'));
    const memberNow = await take(a!, presenceFrom(roomJid('reg', 'Bob')), 'bob\'s affiliation change');
    assert.equal(itemOf(memberNow)?.attr('affiliation'), 'member');
    const again = await regGet(b!, 'reg');
    ok(again);
    assert.ok(again.getChild('query', REG)!.getChild('registered', REG), again.toString());
    assert.equal(again.getChild('query', REG)!.getChildText('username', REG), 'Bobby');
    const filled = again.getChild('query', REG)!.getChild('x', 'jabber:x:data')!.getChildren('field', 'jabber:x:data').find((f) => f.attr('var') === 'muc#register_roomnick');
    assert.equal(filled?.getChildText('value', 'jabber:x:data'), 'Bobby', 'the form on file, to change it');
    assert.equal(await reservedNick(b!, 'reg'), 'Bobby');
    assert.equal(await reservedNick(c!, 'reg'), undefined, 'carol has none');
    ok(await register(b!, 'reg', 'Bobby')); // the same nick again changes nothing
    const members = await iq(a!, 'get', `<query xmlns='${MUC_ADMIN}'><item affiliation='member'/></query>`, roomJid('reg'));
    const item = members.getChild('query', MUC_ADMIN)!.getChildren('item', MUC_ADMIN).find((i) => i.attr('jid') === 'bob@localhost');
    assert.equal(item?.attr('nick'), 'Bobby', 'the member list shows the reserved nick: ' + members.toString());

    // Another user may neither register nor use the reserved nick, nor one an occupant holds.
    assert.equal(errorCondition(await register(c!, 'reg', 'Bobby')), 'conflict');
    assert.equal(errorCondition(await register(c!, 'reg', 'Bob')), 'conflict', 'Bob is in use by an occupant');
    assert.equal(await joinError(c!, 'reg', 'Bobby'), 'conflict', '§7.2.8 reserved by another user');
    await join(c!, 'reg', 'Carol');
    c!.send(`<presence to='${roomJid('reg', 'Bobby')}'/>`);
    const nickErr = await take(c!, (e) => e.name === 'presence' && e.attr('type') === 'error' && e.attr('from') === roomJid('reg', 'Bobby'), 'nick change refused');
    assert.equal(errorCondition(nickErr), 'conflict');

    // No lockdown: Bob is in the room as Bob; his other resource enters as Bobby.
    const b2 = await login(ts, 'bob', 'r2');
    const self2 = await join(b2, 'reg', 'Bobby');
    assert.ok(codes(self2).includes(110));

    // Changing the reservation frees the old nick.
    ok(await register(b!, 'reg', 'Robert'));
    assert.equal(await reservedNick(b!, 'reg'), 'Robert');
    b2.send(`<presence to='${roomJid('reg', 'Bobby')}' type='unavailable'/>`);
    await take(b2, presenceFrom(roomJid('reg', 'Bobby'), 'unavailable'), 'b2 leaves');
    ok(await register(c!, 'reg', 'Bobby'));
    assert.equal(await reservedNick(c!, 'reg'), 'Bobby');

    // Cancelling (XEP-0077 §3.2): the reservation and the membership it gave go.
    assert.equal(errorCondition(await iq(b!, 'set', `<query xmlns='${REG}'><remove/><username>x</username></query>`, roomJid('reg'))), 'bad-request');
    ok(await unregister(b!, 'reg'));
    const noneNow = await take(a!, (e) => presenceFrom(roomJid('reg', 'Bob'))(e) && itemOf(e)?.attr('affiliation') === 'none', 'bob back to none');
    assert.ok(noneNow);
    assert.equal(await reservedNick(b!, 'reg'), undefined);
    const blank = await regGet(b!, 'reg');
    assert.equal(blank.getChild('query', REG)!.getChild('registered', REG), undefined, 'the blank form again: ' + blank.toString());
    assert.equal(errorCondition(await unregister(b!, 'reg')), 'registration-required', 'not registered any more');
    // Robert is free again.
    ok(await register(a!, 'reg', 'Robert'));
    const owners = await iq(a!, 'get', `<query xmlns='${MUC_ADMIN}'><item affiliation='owner'/></query>`, roomJid('reg'));
    assert.ok(owners.toString().includes('alice@localhost'), 'an owner registering stays owner: ' + owners.toString());
    ok(await unregister(a!, 'reg'));
    const owners2 = await iq(a!, 'get', `<query xmlns='${MUC_ADMIN}'><item affiliation='owner'/></query>`, roomJid('reg'));
    assert.ok(owners2.toString().includes('alice@localhost'), 'and stays owner after cancelling');
  } finally { await ts.stop(); }
});

test('§7.10 policy: members-only and moderated rooms only when the owner allows it; outcasts; limits', async () => {
  const ts = await startMuc({ maxRegistrationsPerRoom: 2, maxNickLength: 8 });
  try {
    const [a, b, c, d] = await users(ts, ['alice', 'bob', 'carol', 'dave']);
    await createRoom(a!, 'club', 'Alice', { 'muc#roomconfig_membersonly': '1' });
    assert.equal(errorCondition(await regGet(b!, 'club')), 'not-allowed');
    assert.equal(errorCondition(await register(b!, 'club', 'Bob')), 'not-allowed');
    assert.equal(await joinError(b!, 'club', 'Bob'), 'registration-required');
    const cfg = await iq(a!, 'get', `<query xmlns='${MUC_OWNER}'/>`, roomJid('club'));
    assert.ok(cfg.toString().includes(FIELD), 'the owner sees the registration switch');
    ok(await configure(a!, 'club', { [FIELD]: '1' }));
    await take(a!, (e) => e.name === 'message' && codes(e).includes(104), '104');
    ok(await register(b!, 'club', 'Bob'));
    const pb = await join(b!, 'club', 'Bob');
    assert.equal(itemOf(pb)?.attr('affiliation'), 'member', 'registration made bob a member');

    // Outcasts may not register.
    ok(await adminSet(a!, 'club', `<item affiliation='outcast' jid='carol@localhost'/>`));
    assert.equal(errorCondition(await regGet(c!, 'club')), 'forbidden');
    assert.equal(errorCondition(await register(c!, 'club', 'Carol')), 'forbidden');

    // Limits: nick length, registrations per room (an owner's reservation counts).
    assert.equal(errorCondition(await register(a!, 'club', 'TooLongNick')), 'not-acceptable');
    ok(await register(a!, 'club', 'Alice'));
    assert.equal(errorCondition(await register(d!, 'club', 'Dave')), 'resource-constraint');
    ok(await register(b!, 'club', 'Bobo')); // changing one's nick is no new registration

    // Cancelling in a members-only room: the membership goes, so Bob leaves with 321.
    ok(await unregister(b!, 'club'));
    const out = await take(b!, (e) => presenceFrom(roomJid('club', 'Bob'), 'unavailable')(e) && codes(e).includes(321), '321');
    assert.ok(out);
    ok(await register(d!, 'club', 'Dave'));

    // A moderated open room: the same switch governs registration by unaffiliated users.
    await createRoom(a!, 'mod', 'Alice', { 'muc#roomconfig_moderatedroom': '1' });
    assert.equal(errorCondition(await register(b!, 'mod', 'Bob')), 'not-allowed');
    // An open unmoderated room: anyone not banned registers.
    await createRoom(a!, 'open', 'Alice');
    ok(await register(b!, 'open', 'Bob'));
  } finally { await ts.stop(); }
});

test('registration off (modules.options.muc.registration: false): service-unavailable, nothing advertised', async () => {
  const ts = await startMuc({ registration: false });
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'plain', 'Alice');
    assert.equal(errorCondition(await regGet(b!, 'plain')), 'service-unavailable');
    assert.equal(errorCondition(await register(b!, 'plain', 'Bob')), 'service-unavailable');
    const info = await iq(b!, 'get', `<query xmlns='${DISCO}'/>`, roomJid('plain'));
    assert.ok(!info.toString().includes(REG) && !info.toString().includes(MUC_REG), info.toString());
    const cfg = await iq(a!, 'get', `<query xmlns='${MUC_OWNER}'/>`, roomJid('plain'));
    assert.ok(!cfg.toString().includes(FIELD));
    assert.equal(await reservedNick(b!, 'plain'), undefined, 'x-roomuser-item still answers');
  } finally { await ts.stop(); }
});

async function persistence(extra: Record<string, unknown>): Promise<void> {
  let ts = await startMuc({}, undefined, extra);
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'kept', 'Alice', { 'muc#roomconfig_persistentroom': '1' });
    ok(await register(b!, 'kept', 'Bobby'));
  } finally { await ts.stop(true); }
  ts = await startMuc({}, ts.dir, extra);
  try {
    const [b, c] = await users(ts, ['bob', 'carol']);
    const r = await regGet(b!, 'kept');
    assert.equal(r.getChild('query', REG)?.getChildText('username', REG), 'Bobby', r.toString());
    assert.equal(await reservedNick(b!, 'kept'), 'Bobby');
    assert.equal(await joinError(c!, 'kept', 'Bobby'), 'conflict');
    assert.equal(errorCondition(await register(c!, 'kept', 'Bobby')), 'conflict');
    const pb = await join(b!, 'kept', 'Bobby');
    assert.equal(itemOf(pb)?.attr('affiliation'), 'member');
  } finally { await ts.stop(); }
}

test('a persistent room keeps its registrations across a restart (SQLite)', async () => { await persistence({}); });

test('a persistent room keeps its registrations across a restart (PostgreSQL)', async (t) => {
  const url = await pgTestUrl();
  if (!url) return skipOrFail(t, 'PostgreSQL is not reachable on 127.0.0.1:5432');
  const schema = 'magpie_mucreg_' + Math.random().toString(36).slice(2, 10);
  try { await persistence({ storage: { type: 'postgres', url, schema } }); } finally {
    const c = new pg.Client({ connectionString: url });
    await c.connect(); await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await c.end();
  }
});

test('slixmpp registers with a room (xep_0077), discovers its reserved nick (xep_0030), cancels', async (t) => {
  if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
  const ts = await startMuc();
  const room = roomJid('interop');
  let slix: SlixClient | undefined;
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'interop', 'Alice');
    slix = new SlixClient({ jid: 'carol@localhost', password: 'pw', port: ts.port }, 'slix_muc.py');
    await slix.waitFor((e) => e.event === 'session_start');
    let m = slix.mark();
    slix.command({ cmd: 'register_get', room });
    const form = await slix.waitFor((e) => e.event === 'registration' || e.event === 'error' || e.event === 'result', 15000, m);
    assert.equal(form.event, 'registration', JSON.stringify(form));
    assert.equal(form.registered, false);
    assert.deepEqual(form.fields, ['FORM_TYPE', 'muc#register_roomnick']);
    assert.deepEqual(form.required, ['muc#register_roomnick']);
    m = slix.mark();
    slix.command({ cmd: 'register', room, nick: 'Witch' });
    const done = await slix.waitFor((e) => (e.event === 'result' && e.cmd === 'register') || e.event === 'error', 15000, m);
    assert.equal(done.ok, true, JSON.stringify(done));
    m = slix.mark();
    slix.command({ cmd: 'register_get', room });
    const reg = await slix.waitFor((e) => e.event === 'registration' || e.event === 'error', 15000, m);
    assert.equal(reg.registered, true, JSON.stringify(reg));
    assert.equal(reg.username, 'Witch');
    m = slix.mark();
    slix.command({ cmd: 'reserved_nick', room });
    assert.equal((await slix.waitFor((e) => e.event === 'reserved_nick' || e.event === 'error', 15000, m)).nick, 'Witch');
    assert.equal(await joinError(b!, 'interop', 'Witch'), 'conflict', 'the nick is reserved for carol');
    m = slix.mark();
    slix.command({ cmd: 'register', room: roomJid('interop'), nick: 'Alice' });
    const clash = await slix.waitFor((e) => (e.event === 'result' && e.cmd === 'register') || e.event === 'error', 15000, m);
    assert.equal(clash.error, 'conflict', 'Alice is an occupant: ' + JSON.stringify(clash));
    m = slix.mark();
    slix.command({ cmd: 'unregister', room });
    assert.equal((await slix.waitFor((e) => (e.event === 'result' && e.cmd === 'unregister') || e.event === 'error', 15000, m)).ok, true);
    m = slix.mark();
    slix.command({ cmd: 'reserved_nick', room });
    assert.equal((await slix.waitFor((e) => e.event === 'reserved_nick' || e.event === 'error', 15000, m)).nick, null);
    await join(b!, 'interop', 'Witch');
  } finally { await slix?.quit(); await ts.stop(); }
});
