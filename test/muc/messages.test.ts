// XEP-0045 §7.4 groupchat fan-out with occupant ids, §8.1 subject changes (changesubject),
// §7.5 private messages (allowpm), §7.8.2 mediated invitations and declines (members-only adds
// the invitee as member), §7.13 voice requests and their approval, size limit, non-occupants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codes, createRoom, errorCondition, groupchat, isGroupchat, itemOf, join, none, presenceFrom, roomJid, startMuc, take, users, MUC_USER } from './muc-helpers.js';

test('groupchat reaches every occupant, the sender included, with its occupant id; outsiders are refused', async () => {
  const ts = await startMuc({ maxMessageBytes: 1024 });
  try {
    const [a, b, c, d] = await users(ts, ['alice', 'bob', 'carol', 'dave']);
    await createRoom(a!, 'g', 'Alice');
    await join(b!, 'g', 'Bob');
    await join(c!, 'g', 'Carol');
    b!.send(`<message to='${roomJid('g')}' type='groupchat' id='x1'><body>hello all</body><occupant-id xmlns='urn:xmpp:occupant-id:0' id='forged'/></message>`);
    const got = await Promise.all([a, b, c].map((x) => take(x!, isGroupchat('g', 'hello all'), 'groupchat')));
    for (const m of got) {
      assert.equal(m.attr('from'), roomJid('g', 'Bob'));
      assert.equal(m.attr('id'), 'x1');
      const ids = m.getChildren('occupant-id', 'urn:xmpp:occupant-id:0');
      assert.equal(ids.length, 1);
      assert.notEqual(ids[0]!.attr('id'), 'forged');
    }
    d!.send(groupchat('g', 'intruder', 'i1'));
    const err = await take(d!, (e) => e.attr('id') === 'i1', 'error');
    assert.equal(errorCondition(err), 'not-acceptable');
    b!.send(groupchat('g', 'x'.repeat(2000), 'big'));
    assert.equal(errorCondition(await take(b!, (e) => e.attr('id') === 'big' && e.attr('type') === 'error', 'too big')), 'not-acceptable');
  } finally { await ts.stop(); }
});

test('subject: only moderators unless changesubject; everyone sees the change', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 's', 'Alice');
    await join(b!, 's', 'Bob');
    b!.send(`<message to='${roomJid('s')}' type='groupchat' id='s1'><subject>mine</subject></message>`);
    assert.equal(errorCondition(await take(b!, (e) => e.attr('id') === 's1', 'refused')), 'forbidden');
    a!.send(`<message to='${roomJid('s')}' type='groupchat' id='s2'><subject>New topic</subject></message>`);
    const m = await take(b!, (e) => e.name === 'message' && e.getChildText('subject') === 'New topic', 'subject');
    assert.equal(m.attr('from'), roomJid('s', 'Alice'));
  } finally { await ts.stop(); }
});

test('private messages between occupants; allowpm none refuses; groupchat type to an occupant is bad-request', async () => {
  const ts = await startMuc();
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    await createRoom(a!, 'p', 'Alice');
    await join(b!, 'p', 'Bob');
    b!.send(`<message to='${roomJid('p', 'Alice')}' type='chat' id='pm1'><body>psst</body></message>`);
    const pm = await take(a!, (e) => e.attr('id') === 'pm1', 'pm');
    assert.equal(pm.attr('from'), roomJid('p', 'Bob'));
    assert.ok(pm.getChild('x', MUC_USER));
    b!.send(`<message to='${roomJid('p', 'Nobody')}' type='chat' id='pm2'><body>?</body></message>`);
    assert.equal(errorCondition(await take(b!, (e) => e.attr('id') === 'pm2', 'err')), 'item-not-found');
    b!.send(`<message to='${roomJid('p', 'Alice')}' type='groupchat' id='pm3'><body>?</body></message>`);
    assert.equal(errorCondition(await take(b!, (e) => e.attr('id') === 'pm3', 'err')), 'bad-request');
    c!.send(`<message to='${roomJid('p', 'Alice')}' type='chat' id='pm4'><body>?</body></message>`);
    assert.equal(errorCondition(await take(c!, (e) => e.attr('id') === 'pm4', 'err')), 'not-acceptable');
    await createRoom(a!, 'nopm', 'Alice', { 'muc#roomconfig_allowpm': 'none' });
    await join(b!, 'nopm', 'Bob');
    b!.send(`<message to='${roomJid('nopm', 'Alice')}' type='chat' id='pm5'><body>?</body></message>`);
    assert.equal(errorCondition(await take(b!, (e) => e.attr('id') === 'pm5', 'err')), 'not-allowed');
  } finally { await ts.stop(); }
});

test('mediated invitation to a members-only room makes the invitee a member; a decline goes back', async () => {
  const ts = await startMuc();
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    await createRoom(a!, 'club', 'Alice', { 'muc#roomconfig_membersonly': '1', 'muc#roomconfig_passwordprotectedroom': '1', 'muc#roomconfig_roomsecret': 'pw1' });
    b!.send('<presence/>'); // an available resource takes the (normal) invitation message
    await take(b!, (e) => e.name === 'presence' && e.attr('from')?.startsWith('bob@localhost') === true, 'own presence');
    a!.send(`<message to='${roomJid('club')}' id='inv1'><x xmlns='${MUC_USER}'><invite to='bob@localhost'><reason>join us</reason></invite></x></message>`);
    const inv = await take(b!, (e) => e.name === 'message' && e.attr('from') === roomJid('club'), 'invitation');
    const i = inv.getChild('x', MUC_USER)!.getChild('invite', MUC_USER)!;
    assert.ok(i.attr('from')!.startsWith('alice@localhost'));
    assert.equal(i.getChildText('reason', MUC_USER), 'join us');
    assert.equal(inv.getChild('x', MUC_USER)!.getChildText('password', MUC_USER), 'pw1');
    const pb = await join(b!, 'club', 'Bob', { password: 'pw1' });
    assert.equal(itemOf(pb)!.attr('affiliation'), 'member');
    // Bob (a member) may not invite: allowinvites is off.
    b!.send(`<message to='${roomJid('club')}' id='inv2'><x xmlns='${MUC_USER}'><invite to='carol@localhost'/></x></message>`);
    assert.equal(errorCondition(await take(b!, (e) => e.attr('id') === 'inv2', 'refused')), 'forbidden');
    a!.send('<presence/>');
    await take(a!, (e) => e.name === 'presence' && e.attr('from')?.startsWith('alice@localhost') === true, 'own presence');
    c!.send(`<message to='${roomJid('club')}' id='dec1'><x xmlns='${MUC_USER}'><decline to='alice@localhost'><reason>busy</reason></decline></x></message>`);
    const dec = await take(a!, (e) => e.name === 'message' && !!e.getChild('x', MUC_USER)?.getChild('decline', MUC_USER), 'decline');
    assert.equal(dec.getChild('x', MUC_USER)!.getChild('decline', MUC_USER)!.attr('from'), 'carol@localhost');
  } finally { await ts.stop(); }
});

test('voice request in a moderated room reaches the moderator; approval makes the visitor a participant', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'mod', 'Alice', { 'muc#roomconfig_moderatedroom': '1' });
    const pb = await join(b!, 'mod', 'Bob');
    assert.equal(itemOf(pb)!.attr('role'), 'visitor');
    b!.send(groupchat('mod', 'can I speak', 'v0'));
    assert.equal(errorCondition(await take(b!, (e) => e.attr('id') === 'v0', 'refused')), 'forbidden');
    const req = `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role' type='list-single'><value>participant</value></field></x>`;
    b!.send(`<message to='${roomJid('mod')}'>${req}</message>`);
    const form = await take(a!, (e) => e.name === 'message' && e.attr('from') === roomJid('mod') && !!e.getChild('x', 'jabber:x:data'), 'voice request');
    assert.ok(form.toString().includes('muc#request_allow'));
    assert.ok(form.toString().includes('<value>Bob</value>'));
    a!.send(`<message to='${roomJid('mod')}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#request</value></field><field var='muc#role'><value>participant</value></field><field var='muc#roomnick'><value>Bob</value></field><field var='muc#request_allow'><value>true</value></field></x></message>`);
    const p = await take(b!, (e) => presenceFrom(roomJid('mod', 'Bob'))(e) && itemOf(e)?.attr('role') === 'participant', 'voice granted');
    assert.ok(codes(p).includes(110));
    b!.send(groupchat('mod', 'thanks'));
    await take(a!, isGroupchat('mod', 'thanks'), 'now heard');
    await none(b!, (e) => e.attr('type') === 'error', 'an error');
  } finally { await ts.stop(); }
});
