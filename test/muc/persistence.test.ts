// Persistent rooms (XEP-0045 §10.2 muc#roomconfig_persistentroom) survive a restart with their
// configuration, affiliations, subject and occupant-id secret, on SQLite and PostgreSQL; a
// temporary room does not; rooms with logging keep their groupchat in the archive store 'muc'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { skipOrFail } from '../support/server.js';
import { pgTestUrl } from '../support/postgres.js';
import { MUC_ADMIN, adminSet, codes, createRoom, errorCondition, groupchat, iq, isGroupchat, join, joinError, roomJid, startMuc, take, users, login } from './muc-helpers.js';

async function scenario(extra: Record<string, unknown>): Promise<void> {
  let ts = await startMuc({}, undefined, extra);
  let idBefore = '';
  try {
    const [a, b] = await users(ts, ['alice', 'bob']);
    await createRoom(a!, 'keep', 'Alice', { 'muc#roomconfig_persistentroom': '1', 'muc#roomconfig_membersonly': '1', 'muc#roomconfig_roomname': 'Kept',
      'muc#roomconfig_enablelogging': '1', 'muc#roomconfig_changesubject': '1' });
    await adminSet(a!, 'keep', `<item affiliation='member' jid='bob@localhost'/>`);
    await adminSet(a!, 'keep', `<item affiliation='outcast' jid='carol@localhost'/>`);
    const pb = await join(b!, 'keep', 'Bob');
    assert.ok(codes(pb).includes(170), 'logging announced with 170');
    idBefore = pb.getChild('occupant-id', 'urn:xmpp:occupant-id:0')!.attr('id')!;
    b!.send(`<message to='${roomJid('keep')}' type='groupchat'><subject>Persisted topic</subject></message>`);
    await take(a!, (e) => e.getChildText('subject') === 'Persisted topic', 'subject');
    b!.send(groupchat('keep', 'logged line'));
    await take(a!, isGroupchat('keep', 'logged line'), 'line');
    await createRoom(a!, 'temp', 'Alice');
    const arch = await ts.server.storage.archive.query('conference.localhost', 'keep', 'muc', {});
    assert.equal(arch.items.length, 1);
    assert.ok(arch.items[0]!.payload.includes('logged line'));
    assert.equal(arch.items[0]!.with, 'bob@localhost');
  } finally { await ts.stop(true); }
  ts = await startMuc({}, ts.dir, extra);
  try {
    const [a, b, c] = await users(ts, ['alice', 'bob', 'carol']);
    const info = await iq(b!, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, roomJid('keep'));
    assert.ok(info.toString().includes('Kept'), info.toString());
    assert.ok(info.toString().includes('muc_membersonly'));
    assert.equal(errorCondition(await iq(b!, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, roomJid('temp'))), 'item-not-found', 'temporary rooms are gone');
    const pb = await join(b!, 'keep', 'Bob');
    assert.equal(pb.getChild('occupant-id', 'urn:xmpp:occupant-id:0')!.attr('id'), idBefore, 'occupant id stable across restarts');
    const subj = await take(b!, (e) => e.name === 'message' && e.getChild('subject') !== undefined, 'subject');
    assert.equal(subj.getChildText('subject'), 'Persisted topic');
    assert.equal(await joinError(c!, 'keep', 'Carol'), 'forbidden', 'still banned');
    const pa = await join(a!, 'keep', 'Alice');
    assert.equal(pa.getChild('x', 'http://jabber.org/protocol/muc#user')!.getChild('item', 'http://jabber.org/protocol/muc#user')!.attr('affiliation'), 'owner');
    assert.ok(!codes(pa).includes(201), 'not created again');
    const members = await iq(a!, 'get', `<query xmlns='${MUC_ADMIN}'><item affiliation='member'/></query>`, roomJid('keep'));
    assert.ok(members.toString().includes('bob@localhost'));
    void login;
  } finally { await ts.stop(); }
}

test('a persistent room survives a restart (SQLite)', async () => { await scenario({}); });

test('a persistent room survives a restart (PostgreSQL)', async (t) => {
  const url = await pgTestUrl();
  if (!url) return skipOrFail(t, 'PostgreSQL is not reachable on 127.0.0.1:5432');
  const schema = 'magpie_muc_' + Math.random().toString(36).slice(2, 10);
  try { await scenario({ storage: { type: 'postgres', url, schema } }); } finally {
    const c = new pg.Client({ connectionString: url });
    await c.connect(); await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await c.end();
  }
});
