// MUC service limits (modules.options.muc): who may create rooms, rooms per service and per
// user, history and occupant caps on the configuration form, nickname length; and the errors
// for stanzas to rooms that do not exist or to the service itself.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SERVICE, configure, createRoom, errorCondition, groupchat, iq, isGroupchat, join, joinError, roomJid, startMuc, take, users } from './muc-helpers.js';

test('createRooms "admins": only listed admins create; service admins own every room', async () => {
  const ts = await startMuc({ createRooms: 'admins', admins: ['alice@localhost', 'carol@localhost'] });
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    assert.equal(await joinError(b!, 'nope', 'Bob'), 'not-allowed');
    await createRoom(c!, 'yes', 'Carol');
    await join(b!, 'yes', 'Bob');
    const form = await iq(a!, 'get', `<query xmlns='http://jabber.org/protocol/muc#owner'/>`, roomJid('yes'));
    assert.equal(form.attr('type'), 'result', 'alice, a service admin, configures a room she did not create');
    assert.equal(errorCondition(await iq(b!, 'get', `<query xmlns='http://jabber.org/protocol/muc#owner'/>`, roomJid('yes'))), 'forbidden');
  } finally { await ts.stop(); }
});

test('maxRooms, maxRoomsPerUser, maxNickLength', async () => {
  const ts = await startMuc({ maxRooms: 3, maxRoomsPerUser: 2, maxNickLength: 8 });
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    await createRoom(a!, 'r1', 'Alice');
    await createRoom(a!, 'r2', 'Alice');
    assert.equal(await joinError(a!, 'r3', 'Alice'), 'resource-constraint', 'per user');
    await createRoom(b!, 'r3', 'Bob');
    assert.equal(await joinError(c!, 'r4', 'Carol'), 'resource-constraint', 'per service');
    assert.equal(await joinError(c!, 'r1', 'TooLongNick'), 'not-acceptable');
    await join(c!, 'r1', 'Carol');
  } finally { await ts.stop(); }
});

test('configuration caps: maxusers above the limit is refused, historylength is clamped', async () => {
  const ts = await startMuc({ maxUsersLimit: 50, maxHistory: 2 });
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'c', 'Alice', { 'muc#roomconfig_historylength': '100' });
    assert.equal(errorCondition(await configure(a!, 'c', { 'muc#roomconfig_maxusers': '51' })), 'not-acceptable');
    for (const n of [1, 2, 3]) { a!.send(groupchat('c', `h${n}`)); await take(a!, isGroupchat('c', `h${n}`), 'echo'); }
    await join(b!, 'c', 'Bob');
    await take(b!, (e) => e.name === 'message' && e.getChild('subject') !== undefined, 'subject');
    assert.deepEqual(b!.elements.filter((e) => e.name === 'message' && e.getChild('body')).map((e) => e.getChildText('body')), ['h2', 'h3']);
  } finally { await ts.stop(); }
});

test('errors: unknown room, the service itself, unknown payloads, a bad configuration value', async () => {
  const ts = await startMuc();
  try {
    const [a] = await users(ts, ['alice']);
    a!.send(groupchat('ghosttown', 'hi', 'u1'));
    assert.equal(errorCondition(await take(a!, (e) => e.attr('id') === 'u1', 'error')), 'item-not-found');
    a!.send(`<message to='${SERVICE}' id='u2'><body>hi</body></message>`);
    assert.equal(errorCondition(await take(a!, (e) => e.attr('id') === 'u2', 'error')), 'service-unavailable');
    assert.equal(errorCondition(await iq(a!, 'get', `<query xmlns='jabber:iq:version'/>`, SERVICE)), 'service-unavailable');
    assert.equal((await iq(a!, 'get', `<ping xmlns='urn:xmpp:ping'/>`, SERVICE)).attr('type'), 'result');
    await createRoom(a!, 'e', 'Alice');
    assert.equal(errorCondition(await iq(a!, 'get', `<query xmlns='jabber:iq:version'/>`, roomJid('e'))), 'service-unavailable');
    assert.equal(errorCondition(await configure(a!, 'e', { 'muc#roomconfig_whois': 'everyone' })), 'not-acceptable');
    assert.equal(errorCondition(await configure(a!, 'e', { 'muc#roomconfig_passwordprotectedroom': '1' })), 'not-acceptable', 'no secret');
    a!.send(`<message to='${roomJid('e')}' type='normal' id='u3'><body>not groupchat</body></message>`);
    assert.equal(errorCondition(await take(a!, (e) => e.attr('id') === 'u3', 'error')), 'bad-request');
  } finally { await ts.stop(); }
});
