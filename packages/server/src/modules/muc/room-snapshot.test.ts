// Unit test of the room snapshot a cluster owner mirrors to Redis (issue #8): a room restored
// from it has the same configuration, affiliations, subject, lock, occupants (nick, role, real
// sessions with their presence) and XEP-0421 occupant ids, and is indexed for ghost removal.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { JID } from '@magpie/core/jid/jid';
import { parseFragment } from '@magpie/core/xml/parser';
import { defaultConfig, type ConfigLimits } from './config.js';
import { Room } from './room.js';
import { restoreRoom, snapshotRoom } from './room-snapshot.js';

const L: ConfigLimits = { defaultMaxUsers: 200, maxUsersLimit: 500, defaultHistory: 20, maxHistory: 50, allowLogging: true, registration: true };

it('snapshot: a restored room is the room that was mirrored (history aside)', () => {
  const room = new Room(JID.parse('r@conference.localhost'), { ...defaultConfig(L, 'r'), name: 'Room', moderated: true });
  room.setAffiliation('alice@localhost', 'owner');
  room.setAffiliation('eve@localhost', 'outcast', 'spam');
  room.affiliations.set('carol@localhost', { affiliation: 'member', nick: 'Carol' }); // a §7.10 registration
  room.subject = { text: 'topic', by: 'Alice', when: 5 };
  room.locked = true;
  const alice = { nick: 'Alice', bare: 'alice@localhost', sessions: new Map(), role: 'moderator' as const, id: room.occupantId('alice@localhost') };
  room.addSession(alice, 'alice@localhost/a', parseFragment(`<presence xmlns='jabber:client'><show>away</show></presence>`));
  room.addSession(alice, 'alice@localhost/b', parseFragment(`<presence xmlns='jabber:client'/>`));
  const bob = { nick: 'Bob', bare: 'bob@localhost', sessions: new Map(), role: 'visitor' as const, id: room.occupantId('bob@localhost') };
  room.addSession(bob, 'bob@localhost/x', parseFragment(`<presence xmlns='jabber:client'/>`));
  room.history.push({ stanza: parseFragment(`<message xmlns='jabber:client'/>`), when: 1, chars: 1 });

  const index = new Map<string, Set<Room>>();
  const back = restoreRoom(snapshotRoom(room), 'conference.localhost', 'r', L, index)!;
  assert.ok(back);
  assert.deepEqual(back.config, room.config);
  assert.deepEqual([...back.affiliations], [...room.affiliations]);
  assert.equal(back.affiliations.get('carol@localhost')?.nick, 'Carol', 'reserved nicknames survive a takeover');
  assert.deepEqual(back.subject, room.subject);
  assert.equal(back.locked, true);
  assert.equal(back.secret, room.secret);
  assert.equal(back.occupantId('bob@localhost'), room.occupantId('bob@localhost'));
  assert.deepEqual([...back.occupants.keys()], ['Alice', 'Bob']);
  assert.equal(back.occupants.get('Bob')!.role, 'visitor');
  assert.deepEqual([...back.occupants.get('Alice')!.sessions.keys()], ['alice@localhost/a', 'alice@localhost/b']);
  assert.equal(back.occupants.get('Alice')!.sessions.get('alice@localhost/a')!.getChildText('show'), 'away');
  assert.equal(back.byReal.get('bob@localhost/x')?.nick, 'Bob');
  assert.ok(index.get('alice@localhost/b')?.has(back), 'indexed for ghost removal');
  assert.equal(back.history.length, 0, 'history is not mirrored');
  assert.equal(restoreRoom('{nope', 'conference.localhost', 'r', L, index), undefined);
});
