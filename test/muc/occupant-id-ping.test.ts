// XEP-0421 occupant ids (stable per real bare JID per room, different across rooms, the same
// for two resources) and XEP-0410 self-ping (result when joined, not-acceptable when not);
// iq to another occupant is forwarded and its answer comes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRoom, errorCondition, iq, join, login, roomJid, startMuc, take, users } from './muc-helpers.js';

const oid = (p: any): string => p.getChild('occupant-id', 'urn:xmpp:occupant-id:0').attr('id');

test('occupant ids: stable per bare JID in a room, not linkable across rooms', async () => {
  const ts = await startMuc();
  try {
    const [a] = await users(ts, ['alice']);
    const b1 = await login(ts, 'bob', 'one');
    const b2 = await login(ts, 'bob', 'two');
    await createRoom(a!, 'r1', 'Alice');
    await createRoom(a!, 'r2', 'Alice');
    const p1 = await join(b1, 'r1', 'Bob');
    b1.send(`<presence to='${roomJid('r1', 'Bob')}' type='unavailable'/>`);
    await take(b1, (e) => e.attr('type') === 'unavailable', 'left');
    const p2 = await join(b2, 'r1', 'Robert');
    assert.equal(oid(p1), oid(p2), 'same bare JID, same room, same id (even under another nick)');
    const p3 = await join(b2, 'r2', 'Bob');
    assert.notEqual(oid(p3), oid(p1));
    const pa = await take(a!, (e) => e.name === 'presence' && e.attr('from') === roomJid('r1', 'Robert'), 'alice sees the id');
    assert.equal(oid(pa), oid(p2));
  } finally { await ts.stop(); }
});

test('self-ping: result when joined, not-acceptable when not; pings to others are forwarded', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'sp', 'Alice');
    const ok = await iq(a!, 'get', `<ping xmlns='urn:xmpp:ping'/>`, roomJid('sp', 'Alice'));
    assert.equal(ok.attr('type'), 'result');
    assert.equal(ok.attr('from'), roomJid('sp', 'Alice'));
    const no = await iq(b!, 'get', `<ping xmlns='urn:xmpp:ping'/>`, roomJid('sp', 'Alice'));
    assert.equal(errorCondition(no), 'not-acceptable');
    await join(b!, 'sp', 'Bob');
    // Bob pings Alice: the room forwards; Alice answers; Bob gets the answer from Alice's occupant JID.
    b!.send(`<iq type='get' id='fw1' to='${roomJid('sp', 'Alice')}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    const fwd = await take(a!, (e) => e.name === 'iq' && e.attr('type') === 'get' && e.attr('from') === roomJid('sp', 'Bob'), 'forwarded ping');
    a!.send(`<iq type='result' id='${fwd.attr('id')}' to='${roomJid('sp', 'Bob')}'/>`);
    const back = await take(b!, (e) => e.name === 'iq' && e.attr('id') === 'fw1', 'answer');
    assert.equal(back.attr('type'), 'result');
    assert.equal(back.attr('from'), roomJid('sp', 'Alice'));
    b!.send(`<presence to='${roomJid('sp', 'Bob')}' type='unavailable'/>`);
    await take(b!, (e) => e.attr('type') === 'unavailable', 'left');
    assert.equal(errorCondition(await iq(b!, 'get', `<ping xmlns='urn:xmpp:ping'/>`, roomJid('sp', 'Bob'))), 'not-acceptable');
  } finally { await ts.stop(); }
});
