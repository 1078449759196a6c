// Ghost occupants (XEP-0045: a room must not keep occupants whose sessions are gone): a local
// session that closes, or that sends unavailable to the server without leaving, or whose address
// returns an error for a groupchat message the room sent, is removed with an unavailable
// presence to the others (status 333 where the removal is the service's decision).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codes, createRoom, groupchat, isGroupchat, join, none, presenceFrom, roomJid, startMuc, take, users, login } from './muc-helpers.js';

test('a closed session leaves every room it was in (333)', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'g1', 'Alice');
    await createRoom(a!, 'g2', 'Alice');
    await join(b!, 'g1', 'Bob');
    await join(b!, 'g2', 'Bob2');
    b!.destroy();
    const p1 = await take(a!, presenceFrom(roomJid('g1', 'Bob'), 'unavailable'), 'ghost out of g1');
    const p2 = await take(a!, presenceFrom(roomJid('g2', 'Bob2'), 'unavailable'), 'ghost out of g2');
    // The presence module's unavailable to directed-presence targets or the MUC's own
    // session/closed handler (333) gets there first; either way the occupant is gone.
    assert.ok(p1 && p2);
    const c = await login(ts, 'carol', 'r1');
    await join(c, 'g1', 'Carol');
    assert.ok(!c.elements.some((e) => e.attr('from') === roomJid('g1', 'Bob')), 'no ghost left');
  } finally { await ts.stop(); }
});

test('unavailable presence to the server (no leave) takes the occupant out', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'u', 'Alice');
    b!.send('<presence/>');
    await join(b!, 'u', 'Bob');
    b!.send(`<presence type='unavailable'/>`);
    await take(a!, presenceFrom(roomJid('u', 'Bob'), 'unavailable'), 'bob gone');
    a!.send(groupchat('u', 'anyone?'));
    await take(a!, isGroupchat('u', 'anyone?'), 'echo');
    await none(b!, isGroupchat('u', 'anyone?'), 'a message to a departed occupant');
  } finally { await ts.stop(); }
});

test('an error returned from an occupant\'s address for a groupchat message removes it (333)', async () => {
  const ts = await startMuc();
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    await createRoom(a!, 'e', 'Alice');
    await join(b!, 'e', 'Bob');
    a!.send(groupchat('e', 'ping', 'gc1'));
    const m = await take(b!, isGroupchat('e', 'ping'), 'message');
    // Bob's side answers with an error (as a server does for a resource that is gone).
    b!.send(`<message type='error' id='${m.attr('id')}' to='${m.attr('from')}'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
    const p = await take(a!, presenceFrom(roomJid('e', 'Bob'), 'unavailable'), 'ghost removed after the error');
    assert.ok(codes(p).includes(333));
    await join(c!, 'e', 'Carol');
    assert.ok(!c!.elements.some((e) => e.attr('from') === roomJid('e', 'Bob')), 'newcomers do not see the ghost');
  } finally { await ts.stop(); }
});

test('without the presence module, the MUC\'s own session/closed handler removes the ghost (333)', async () => {
  const ts = await startMuc({}, undefined, { modules: { disabled: ['presence'], options: {} } });
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'np', 'Alice');
    await join(b!, 'np', 'Bob');
    b!.destroy();
    const p = await take(a!, presenceFrom(roomJid('np', 'Bob'), 'unavailable'), 'ghost out');
    assert.ok(codes(p).includes(333));
  } finally { await ts.stop(); }
});

test('a server shutdown tells occupants with 332 before the streams close', async () => {
  const ts = await startMuc();
  const [a, b] = await users(ts, ['alice', 'bob']);
  try {
    await createRoom(a!, 'sd', 'Alice');
    await join(b!, 'sd', 'Bob');
  } finally { await ts.stop(); }
  const p = await take(b!, (e) => presenceFrom(roomJid('sd', 'Bob'), 'unavailable')(e) && codes(e).includes(332), '332', 1000);
  assert.ok(codes(p).includes(110));
  assert.ok(a!.elements.some((e) => presenceFrom(roomJid('sd', 'Alice'), 'unavailable')(e) && codes(e).includes(332)));
});
