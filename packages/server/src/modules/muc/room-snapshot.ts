// A room's live state as one JSON document (issue #8, MUC in a cluster): what the owning node
// mirrors to Redis after each change so that another node can continue the room when the owner
// dies: configuration, affiliations, subject, lock, the occupant-id secret (XEP-0421 ids stay
// the same), and the occupants (XEP-0045 §7.2: nick, real full JIDs with their last presence,
// role). Discussion history (§7.2.15) is not in it: it changes with every groupchat message, so
// the owner appends it to a capped log beside the snapshot instead (room-ownership.ts,
// history.ts encodeHistory), read back with the snapshot on a takeover or handover (the room
// archive, XEP-0313, is in storage).

import { serialize } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { JID } from '@magpie/core/jid/jid';
import { Room, type AffiliationRecord, type Occupant, type Subject } from './room.js';
import { defaultConfig, type ConfigLimits, type RoomConfig, type Role } from './config.js';

interface SnapshotOccupant { nick: string; bare: string; role: Role; sessions: [string, string][] }

interface RoomSnapshot {
  v: 1;
  config: RoomConfig;
  affiliations: [string, AffiliationRecord][];
  subject: Subject;
  locked: boolean;
  secret: string;
  createdAt: number;
  occupants: SnapshotOccupant[];
}

export function snapshotRoom(room: Room): string {
  const doc: RoomSnapshot = {
    v: 1, config: room.config, affiliations: [...room.affiliations], subject: room.subject, locked: room.locked,
    secret: room.secret, createdAt: room.createdAt,
    occupants: [...room.occupants.values()].map((o) => ({ nick: o.nick, bare: o.bare, role: o.role, sessions: [...o.sessions].map(([real, p]) => [real, serialize(p)] as [string, string]) })),
  };
  return JSON.stringify(doc);
}

/** The room a snapshot describes, occupants included; undefined when it is unreadable. */
export function restoreRoom(json: string, domain: string, node: string, limits: ConfigLimits, index: Room['index']): Room | undefined {
  let doc: RoomSnapshot;
  try { doc = JSON.parse(json) as RoomSnapshot; } catch { return undefined; }
  const jid = JID.tryParse(`${node}@${domain}`);
  if (!jid || doc?.v !== 1) return undefined;
  const config: RoomConfig = { ...defaultConfig(limits, node), ...doc.config };
  const room = new Room(jid, config, { secret: doc.secret, createdAt: doc.createdAt });
  for (const [j, rec] of doc.affiliations) room.affiliations.set(j, rec);
  room.subject = doc.subject;
  room.locked = doc.locked;
  room.index = index;
  for (const so of doc.occupants) {
    const occ: Occupant = { nick: so.nick, bare: so.bare, role: so.role, sessions: new Map(), id: room.occupantId(so.bare) };
    for (const [real, p] of so.sessions) {
      try { room.addSession(occ, real, parseFragment(p)); } catch { /* one unreadable presence: that session is not restored */ }
    }
  }
  return room;
}
