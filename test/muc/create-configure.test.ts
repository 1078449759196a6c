// XEP-0045 §10.1 room creation (instant and reserved), the lock until configured, §10.2 the
// configuration form and its effects on disco (§6.2–§6.4), §6.3 public rooms in disco#items.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MUC, MUC_OWNER, SERVICE, codes, configure, createRoom, errorCondition, fieldsXml, iq, join, joinError, roomJid, startMuc, take, users, itemOf } from './muc-helpers.js';

const features = (q: any): string[] => q.getChild('query', 'http://jabber.org/protocol/disco#info').getChildren('feature').map((f: any) => f.attr('var'));

test('service discovery: the server lists conference.localhost; the service is conference/text with muc', async () => {
  const ts = await startMuc();
  try {
    const [a] = await users(ts, ['alice']);
    const items = await iq(a!, 'get', `<query xmlns='http://jabber.org/protocol/disco#items'/>`, 'localhost');
    assert.ok(items.toString().includes(`jid="${SERVICE}"`), items.toString());
    const info = await iq(a!, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, SERVICE);
    const id = info.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChild('identity')!;
    assert.equal(id.attr('category'), 'conference');
    assert.equal(id.attr('type'), 'text');
    assert.ok(features(info).includes(MUC));
  } finally { await ts.stop(); }
});

test('instant room: 201 and owner/moderator, locked to others until the empty form is submitted', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    const p = await join(a!, 'lounge', 'Alice');
    assert.deepEqual(codes(p).sort(), [110, 201]);
    assert.equal(itemOf(p)!.attr('affiliation'), 'owner');
    assert.equal(itemOf(p)!.attr('role'), 'moderator');
    assert.equal(await joinError(b!, 'lounge', 'Bob'), 'item-not-found', 'a locked room is not enterable');
    const r = await configure(a!, 'lounge');
    assert.equal(r.attr('type'), 'result');
    const pb = await join(b!, 'lounge', 'Bob');
    assert.equal(itemOf(pb)!.attr('role'), 'participant');
    assert.equal(itemOf(pb)!.attr('affiliation'), 'none');
    // Alice sees Bob arrive; Bob saw Alice first (§7.2.3 order: others, then self).
    await take(a!, (e) => e.name === 'presence' && e.attr('from') === roomJid('lounge', 'Bob'), 'bob arrives');
    const seen = b!.elements.filter((e) => e.name === 'presence' && e.attr('type') === undefined).map((e) => e.attr('from'));
    assert.deepEqual(seen.slice(0, 2), [roomJid('lounge', 'Alice'), roomJid('lounge', 'Bob')]);
  } finally { await ts.stop(); }
});

test('reserved room: the configuration form, then a submitted configuration shows in disco', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await join(a!, 'secret', 'Alice');
    const form = await iq(a!, 'get', `<query xmlns='${MUC_OWNER}'/>`, roomJid('secret'));
    const vars = form.getChild('query', MUC_OWNER)!.getChild('x', 'jabber:x:data')!.getChildren('field').map((f) => f.attr('var'));
    for (const v of ['muc#roomconfig_roomname', 'muc#roomconfig_roomdesc', 'muc#roomconfig_persistentroom', 'muc#roomconfig_publicroom',
      'muc#roomconfig_passwordprotectedroom', 'muc#roomconfig_roomsecret', 'muc#roomconfig_membersonly', 'muc#roomconfig_moderatedroom',
      'muc#roomconfig_whois', 'muc#roomconfig_maxusers', 'muc#roomconfig_changesubject', 'muc#roomconfig_allowinvites',
      'muc#roomconfig_allowpm', 'muc#roomconfig_getmemberlist', 'muc#roomconfig_historylength', 'muc#roomconfig_enablelogging']) {
      assert.ok(vars.includes(v), `form has ${v}`);
    }
    // Bob cannot read it.
    const denied = await iq(b!, 'get', `<query xmlns='${MUC_OWNER}'/>`, roomJid('secret'));
    assert.equal(errorCondition(denied), 'item-not-found', 'a locked room does not exist for others');
    const bad = await configure(a!, 'secret', { 'muc#roomconfig_maxusers': 'lots' });
    assert.equal(errorCondition(bad), 'not-acceptable');
    const r = await configure(a!, 'secret', { 'muc#roomconfig_roomname': 'The Secret', 'muc#roomconfig_publicroom': '0', 'muc#roomconfig_passwordprotectedroom': '1',
      'muc#roomconfig_roomsecret': 'pass', 'muc#roomconfig_whois': 'anyone', 'muc#roomconfig_moderatedroom': '1', 'muc#roomconfig_persistentroom': '1' });
    assert.equal(r.attr('type'), 'result');
    const info = await iq(b!, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, roomJid('secret'));
    const f = features(info);
    for (const v of ['muc_hidden', 'muc_passwordprotected', 'muc_nonanonymous', 'muc_moderated', 'muc_persistent', 'muc_open', 'urn:xmpp:occupant-id:0']) assert.ok(f.includes(v), `feature ${v}: ${f}`);
    assert.ok(info.toString().includes('muc#roominfo'), 'roominfo form');
    assert.ok(info.toString().includes('The Secret'));
    // Hidden: not in the service's items. A public room is.
    await createRoom(a!, 'open', 'Alice');
    const items = (await iq(b!, 'get', `<query xmlns='http://jabber.org/protocol/disco#items'/>`, SERVICE)).toString();
    assert.ok(items.includes(roomJid('open')), items);
    assert.ok(!items.includes(roomJid('secret')), items);
    // Password: not-authorized without, in with it; 100 for a non-anonymous room.
    assert.equal(await joinError(b!, 'secret', 'Bob'), 'not-authorized');
    const pb = await join(b!, 'secret', 'Bob', { password: 'pass' });
    assert.ok(codes(pb).includes(100));
    assert.equal(itemOf(pb)!.attr('role'), 'visitor', 'a moderated room gives visitors');
  } finally { await ts.stop(); }
});

test('cancelling the initial configuration destroys the locked room; non-owners cannot configure', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await join(a!, 'tmp', 'Alice');
    const r = await iq(a!, 'set', `<query xmlns='${MUC_OWNER}'><x xmlns='jabber:x:data' type='cancel'/></query>`, roomJid('tmp'));
    assert.equal(r.attr('type'), 'result');
    await take(a!, (e) => e.name === 'presence' && e.attr('type') === 'unavailable' && e.attr('from') === roomJid('tmp', 'Alice'), 'destroyed');
    const info = await iq(a!, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, roomJid('tmp'));
    assert.equal(errorCondition(info), 'item-not-found');
    await createRoom(a!, 'r2', 'Alice');
    await join(b!, 'r2', 'Bob');
    const denied = await iq(b!, 'set', `<query xmlns='${MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'>${fieldsXml({ 'muc#roomconfig_roomname': 'x' })}</x></query>`, roomJid('r2'));
    assert.equal(errorCondition(denied), 'forbidden');
    // A config change while occupied: 104 to occupants.
    await configure(a!, 'r2', { 'muc#roomconfig_roomname': 'Renamed' });
    const m = await take(b!, (e) => e.name === 'message' && e.attr('from') === roomJid('r2') && codes(e).includes(104), '104');
    assert.ok(m);
  } finally { await ts.stop(); }
});

test('a groupchat 1.0 join (no muc x) creates an unlocked instant room', async () => {
  const ts = await startMuc();
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    const p = await join(a!, 'old', 'Alice', { plain: true });
    assert.ok(codes(p).includes(201));
    await join(b!, 'old', 'Bob');
    void MUC;
  } finally { await ts.stop(); }
});
