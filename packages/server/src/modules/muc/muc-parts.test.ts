// Unit tests of the MUC parts that need no server: the role/affiliation rules (XEP-0045 §5),
// the configuration form round trip (§10.2), history selection on join (§7.2.16), the history
// log lines a cluster owner keeps in Redis, and occupant-id derivation (XEP-0421).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { JID } from '@magpie/core/jid/jid';
import { parseFragment } from '@magpie/core/xml/parser';
import { xml } from '@magpie/core/xml/element';
import { canSetAffiliation, canSetRole, defaultRole } from './roles.js';
import { applyConfigForm, configForm, defaultConfig, type ConfigLimits } from './config.js';
import { Room } from './room.js';
import { decodeHistory, encodeHistory, historyFor, remember } from './history.js';

const L: ConfigLimits = { defaultMaxUsers: 200, maxUsersLimit: 500, defaultHistory: 20, maxHistory: 50, allowLogging: true, registration: true };

it('roles: defaults per affiliation, and who may change whose role', () => {
  const c = defaultConfig(L, 'r');
  assert.equal(defaultRole('owner', c), 'moderator');
  assert.equal(defaultRole('none', c), 'participant');
  assert.equal(defaultRole('none', { ...c, moderated: true }), 'visitor');
  assert.equal(defaultRole('member', { ...c, moderated: true }), 'participant');
  assert.equal(canSetRole('none', 'moderator', 'none', 'participant', 'none'), 'ok', 'a moderator kicks a participant');
  assert.equal(canSetRole('none', 'participant', 'none', 'participant', 'none'), 'forbidden');
  assert.equal(canSetRole('none', 'moderator', 'owner', 'moderator', 'none'), 'not-allowed', 'nobody kicks an owner');
  assert.equal(canSetRole('none', 'moderator', 'none', 'participant', 'moderator'), 'forbidden', 'only admins grant moderator');
  assert.equal(canSetRole('admin', 'moderator', 'none', 'participant', 'moderator'), 'ok');
  assert.equal(canSetAffiliation('admin', 'member', 'outcast'), 'ok');
  assert.equal(canSetAffiliation('admin', 'owner', 'none'), 'not-allowed');
  assert.equal(canSetAffiliation('admin', 'none', 'admin'), 'forbidden');
  assert.equal(canSetAffiliation('member', 'none', 'member'), 'forbidden');
});

it('configuration form: every field round-trips; bad values are not-acceptable; caps apply', () => {
  const c = defaultConfig(L, 'r');
  const f = configForm(c, L);
  const submit = parseFragment(f.toString().replace("type=\"form\"", "type=\"submit\""));
  assert.deepEqual(applyConfigForm(c, submit, L), c, 'submitting the form unchanged changes nothing');
  const x = (fields: Record<string, string>) => xml('x', 'jabber:x:data', { type: 'submit' },
    ...Object.entries(fields).map(([k, v]) => xml('field', 'jabber:x:data', { var: k }, xml('value', 'jabber:x:data', {}, v))));
  const n = applyConfigForm(c, x({ 'muc#roomconfig_historylength': '1000', 'muc#roomconfig_persistentroom': 'true', 'muc#roomconfig_allowpm': 'moderators' }), L);
  assert.equal(n.historyLength, 50);
  assert.equal(n.persistent, true);
  assert.equal(n.allowPm, 'moderators');
  assert.throws(() => applyConfigForm(c, x({ 'muc#roomconfig_maxusers': '501' }), L), /not-acceptable/);
  assert.throws(() => applyConfigForm(c, x({ 'muc#roomconfig_membersonly': 'maybe' }), L), /not-acceptable/);
  assert.throws(() => applyConfigForm(c, x({ FORM_TYPE: 'urn:other' }), L), /bad-request/);
});

it('history: maxstanzas, maxchars (whole stanzas), seconds, since; delays from the room', () => {
  const room = new Room(JID.parse('r@conference.localhost'), { ...defaultConfig(L, 'r'), historyLength: 3 });
  const now = Date.now();
  for (let i = 1; i <= 5; i++) remember(room, xml('message', 'jabber:client', { type: 'groupchat' }, xml('body', 'jabber:client', {}, `m${i}`)), now - (6 - i) * 10_000);
  const bodies = (req?: string): string[] => historyFor(room, req ? parseFragment(req) : undefined, now).map((m) => m.getChildText('body')!);
  assert.deepEqual(bodies(), ['m3', 'm4', 'm5']);
  assert.deepEqual(bodies(`<history maxstanzas='2'/>`), ['m4', 'm5']);
  assert.deepEqual(bodies(`<history seconds='15'/>`), ['m5']);
  assert.deepEqual(bodies(`<history since='${new Date(now - 25_000).toISOString()}'/>`), ['m4', 'm5']);
  const one = room.history[2]!.chars;
  assert.deepEqual(bodies(`<history maxchars='${one + 1}'/>`), ['m5']);
  assert.equal(historyFor(room, undefined, now)[0]!.getChild('delay', 'urn:xmpp:delay')!.attr('from'), 'r@conference.localhost');
});

it('history log lines: round trip with the original times, last `max` kept, unreadable lines skipped', () => {
  const room = new Room(JID.parse('r@conference.localhost'), { ...defaultConfig(L, 'r'), historyLength: 5 });
  const t0 = Date.parse('2024-03-01T10:00:00.000Z');
  for (let i = 1; i <= 4; i++) {
    remember(room, xml('message', 'jabber:client', { type: 'groupchat', from: `r@conference.localhost/N${i}`, id: `i${i}`, 'xml:lang': 'en' },
      xml('body', 'jabber:client', {}, `m${i} <&> "q"`), xml('occupant-id', 'urn:xmpp:occupant-id:0', { id: 'x' })), t0 + i * 1000);
  }
  const lines = room.history.map((h) => encodeHistory(h.stanza, h.when));
  const back = decodeHistory(['garbage', `12 <message xmlns='jabber:client'`, `7 <presence xmlns='jabber:client'/>`, ...lines], 10);
  assert.deepEqual(back.map((h) => h.when), room.history.map((h) => h.when));
  assert.deepEqual(back.map((h) => h.stanza.toString()), room.history.map((h) => h.stanza.toString()));
  assert.deepEqual(back.map((h) => h.chars), room.history.map((h) => h.chars));
  assert.equal(back[0]!.stanza.attr('xml:lang'), 'en');
  assert.equal(back[0]!.stanza.getChild('occupant-id', 'urn:xmpp:occupant-id:0')?.attr('id'), 'x');
  assert.deepEqual(decodeHistory(lines, 2).map((h) => h.stanza.getChildText('body')), ['m3 <&> "q"', 'm4 <&> "q"'], 'the last `max`');
  assert.deepEqual(decodeHistory(lines, 0), []);
  // Restored into a room, it is served with the original stamps.
  const again = new Room(JID.parse('r@conference.localhost'), { ...defaultConfig(L, 'r'), historyLength: 5 });
  again.history = decodeHistory(lines, again.config.historyLength);
  const sent = historyFor(again, undefined, t0 + 60_000);
  assert.deepEqual(sent.map((m) => m.getChild('delay', 'urn:xmpp:delay')!.attr('stamp')), [1, 2, 3, 4].map((i) => new Date(t0 + i * 1000).toISOString()));
});

it('occupant ids: the same for a bare JID, different per room and per JID', () => {
  const a = new Room(JID.parse('a@conference.localhost'), defaultConfig(L, 'a'));
  const b = new Room(JID.parse('b@conference.localhost'), defaultConfig(L, 'b'));
  assert.equal(a.occupantId('x@localhost'), a.occupantId('x@localhost'));
  assert.notEqual(a.occupantId('x@localhost'), a.occupantId('y@localhost'));
  assert.notEqual(a.occupantId('x@localhost'), b.occupantId('x@localhost'));
  const again = new Room(JID.parse('a@conference.localhost'), defaultConfig(L, 'a'), { secret: a.secret });
  assert.equal(again.occupantId('x@localhost'), a.occupantId('x@localhost'), 'the stored secret gives the same ids');
});
