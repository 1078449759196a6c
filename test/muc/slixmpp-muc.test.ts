// The end-to-end scenario with a third-party client: slixmpp's xep_0045 plugin and two
// raw clients share a room that a raw client created and configured; they chat; slixmpp, made
// admin, kicks and bans; subjects change both ways; the persistent room survives a restart
// (a fresh slixmpp joins it and gets its subject), and the owner destroys it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skipOrFail } from '../support/server.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { MUC_OWNER, adminSet, codes, createRoom, groupchat, iq, isGroupchat, join, joinError, presenceFrom, roomJid, startMuc, take, users, login } from './muc-helpers.js';

test('slixmpp (xep_0045) with raw clients: chat, kick, ban, subject, restart, destroy', async (t) => {
  if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
  let ts = await startMuc();
  const room = roomJid('e2e');
  let slix: SlixClient | undefined;
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'e2e', 'Alice', { 'muc#roomconfig_persistentroom': '1', 'muc#roomconfig_roomname': 'End to end' });
    await join(b!, 'e2e', 'Bob');
    slix = new SlixClient({ jid: 'carol@localhost', password: 'pw', port: ts.port }, 'slix_muc.py');
    await slix.waitFor((e) => e.event === 'session_start');
    slix.command({ cmd: 'join', room, nick: 'Carol' });
    const joined = await slix.waitFor((e) => e.event === 'joined' || e.event === 'error');
    assert.equal(joined.event, 'joined', JSON.stringify(joined));
    assert.equal(joined.role, 'participant');
    assert.deepEqual((joined.occupants as string[]).filter((n) => n !== 'Carol').sort(), ['Alice', 'Bob']);
    await take(a!, presenceFrom(roomJid('e2e', 'Carol')), 'carol arrives');

    // Chat both ways.
    slix.command({ cmd: 'say', room, body: 'hello from slixmpp' });
    await take(a!, isGroupchat('e2e', 'hello from slixmpp'), 'alice hears carol');
    await take(b!, isGroupchat('e2e', 'hello from slixmpp'), 'bob hears carol');
    b!.send(groupchat('e2e', 'hi carol'));
    const heard = await slix.waitFor((e) => e.event === 'groupchat' && e.body === 'hi carol');
    assert.equal(heard.nick, 'Bob');

    // Alice changes the subject; slixmpp sees it.
    a!.send(`<message to='${room}' type='groupchat'><subject>Agenda</subject></message>`);
    await slix.waitFor((e) => e.event === 'subject' && e.subject === 'Agenda');

    // Carol becomes admin, kicks Bob, then bans him.
    assert.equal((await adminSet(a!, 'e2e', `<item affiliation='admin' jid='carol@localhost'/>`)).attr('type'), 'result');
    await slix.waitFor((e) => e.event === 'muc_presence' && e.nick === 'Carol' && e.affiliation === 'admin' && e.role === 'moderator');
    slix.command({ cmd: 'kick', room, nick: 'Bob', reason: 'test kick' });
    assert.equal((await slix.waitFor((e) => e.event === 'result' && e.cmd === 'kick')).ok, true);
    const kicked = await take(b!, presenceFrom(roomJid('e2e', 'Bob'), 'unavailable'), 'kicked');
    assert.ok(codes(kicked).includes(307));
    await slix.waitFor((e) => e.event === 'muc_presence' && e.nick === 'Bob' && e.type === 'unavailable' && (e.codes as number[]).includes(307));
    await join(b!, 'e2e', 'Bob');
    slix.command({ cmd: 'ban', room, jid: 'bob@localhost', reason: 'test ban' });
    assert.equal((await slix.waitFor((e) => e.event === 'result' && e.cmd === 'ban')).ok, true);
    const banned = await take(b!, (e) => presenceFrom(roomJid('e2e', 'Bob'), 'unavailable')(e) && codes(e).includes(301), 'banned');
    assert.ok(banned);
    assert.equal(await joinError(b!, 'e2e', 'Bob'), 'forbidden');

    // slixmpp changes the subject; the raw clients see it.
    slix.command({ cmd: 'subject', room, subject: 'Set by slixmpp' });
    await take(a!, (e) => e.name === 'message' && e.getChildText('subject') === 'Set by slixmpp' && e.attr('from') === roomJid('e2e', 'Carol'), 'subject from slixmpp');
    await slix.quit();
    slix = undefined;
  } finally { await ts.stop(true); }

  ts = await startMuc({}, ts.dir);
  try {
    slix = new SlixClient({ jid: 'carol@localhost', password: 'pw', port: ts.port }, 'slix_muc.py');
    await slix.waitFor((e) => e.event === 'session_start');
    slix.command({ cmd: 'join', room, nick: 'Carol' });
    const joined = await slix.waitFor((e) => e.event === 'joined' || e.event === 'error');
    assert.equal(joined.event, 'joined', JSON.stringify(joined));
    assert.equal(joined.subject, 'Set by slixmpp', 'the subject of the persistent room survived');
    assert.equal(joined.affiliation, 'admin');
    const a = await login(ts, 'alice', 'r1');
    await join(a, 'e2e', 'Alice');
    // The owner destroys the room; slixmpp sees the destruction.
    const r = await iq(a, 'set', `<query xmlns='${MUC_OWNER}'><destroy jid='elsewhere@conference.localhost'><reason>done</reason></destroy></query>`, room);
    assert.equal(r.attr('type'), 'result');
    const d = await slix.waitFor((e) => e.event === 'muc_presence' && e.nick === 'Carol' && e.type === 'unavailable');
    assert.equal(d.destroy, 'elsewhere@conference.localhost');
  } finally {
    await slix?.quit();
    await ts.stop();
  }
});
