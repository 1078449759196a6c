// Presence to an occupant JID (XEP-0045 §7.2 entering a room with its checks and their errors,
// §7.3 presence updates, §7.6 nickname changes with 303, §7.14 leaving), room creation on
// first join (§10.1: 201, the room locked until configured), multi-session occupants (one
// nick, several resources of one bare JID) and the ghost removal of sessions that vanished.

import { Element } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { NS } from '@magpie/core/protocol/namespaces';
import type { StanzaEvent } from '../../hooks/events.js';
import { affiliationOf, type MucContext } from './context.js';
import { Room, type Occupant } from './room.js';
import { defaultConfig } from './config.js';
import { defaultRole } from './roles.js';
import { NS_MUC, addressed, broadcastPresence, cleanPayload, occupantPresence, removeOccupant } from './broadcast.js';
import { historyFor, subjectMessage } from './history.js';
import { reservedBy } from './register.js';

/** A room a joiner creates (§10.1.1); may refuse with not-allowed / resource-constraint. */
export function createRoom(ctx: MucContext, ev: StanzaEvent, node: string, instant: boolean): Room {
  const bare = ev.from.bareString();
  const local = !!ev.from.local && ctx.api.isLocalHost(ev.from.domain);
  const mayCreate = ctx.isServiceAdmin(bare) || (ctx.o.createRooms === 'anyone') || (ctx.o.createRooms === 'local' && local);
  if (!mayCreate) throw new StanzaError('not-allowed', 'room creation is restricted');
  if (ctx.rooms.size >= ctx.o.maxRooms) throw new StanzaError('resource-constraint', 'this service holds too many rooms', 'wait');
  let owned = 0;
  for (const r of ctx.rooms.values()) if (r.affiliation(bare) === 'owner') owned++;
  if (owned >= ctx.o.maxRoomsPerUser && !ctx.isServiceAdmin(bare)) throw new StanzaError('resource-constraint', 'you own too many rooms', 'wait');
  // A groupchat 1.0 join (no muc <x/>) creates an instant room: such a client cannot configure it.
  const room = new Room(ev.to.bare, defaultConfig(ctx.limits, node));
  room.index = ctx.joined;
  room.setAffiliation(bare, 'owner');
  room.locked = !instant;
  ctx.rooms.set(node, room);
  return room;
}

function presenceRecord(stanza: Element): Element {
  const p = new Element('presence', NS.CLIENT, {});
  p.children = cleanPayload(stanza);
  return p;
}

export async function handlePresence(ctx: MucContext, ev: StanzaEvent, room: Room, created: boolean): Promise<void> {
  const s = ev.stanza;
  const type = s.attrs.type;
  const real = ev.from.toString();
  const occ = room?.byReal.get(real);
  if (room.destroyed) throw new StanzaError('item-not-found', 'this room was destroyed');
  if (type === 'error') { if (occ) await leave(ctx, room, occ, real, { ghost: true }); return; }
  if (type === 'unavailable') { if (occ) await leave(ctx, room, occ, real, { status: s.getChildText('status') }); return; }
  if (type !== undefined) return; // subscriptions and probes to a room mean nothing (§7.2 uses only availability)
  const nick = ev.to.resource;
  if (occ) {
    if (occ.nick === nick) return update(ctx, room, occ, real, s);
    return changeNick(ctx, ev, room, occ, nick);
  }
  try {
    await join(ctx, ev, room, nick, created);
  } finally {
    if (created && room.occupants.size === 0) await dropIfEmpty(ctx, room);
  }
}

async function join(ctx: MucContext, ev: StanzaEvent, room: Room, nick: string, created: boolean): Promise<void> {
  const s = ev.stanza;
  const mucX = s.getChild('x', NS_MUC);
  const bare = ev.from.bareString();
  const real = ev.from.toString();
  const aff = affiliationOf(ctx, room, bare);
  if (room.locked && aff !== 'owner') throw new StanzaError('item-not-found', 'this room is locked until its owner configures it');
  if (aff === 'outcast') throw new StanzaError('forbidden', 'you are banned from this room');
  if (room.config.membersOnly && aff === 'none') throw new StanzaError('registration-required', 'this room is members-only');
  const same = room.occupants.get(nick);
  if (same && same.bare !== bare) throw new StanzaError('conflict', 'that nickname is in use');
  // §7.2.8 / §7.12: a nickname reserved by another user (§7.10 registration) is refused.
  const holder = reservedBy(room, nick);
  if (holder !== undefined && holder !== bare) throw new StanzaError('conflict', 'that nickname is reserved');
  if (room.config.passwordProtected && aff !== 'owner' && aff !== 'admin') {
    const given = mucX?.getChildText('password', NS_MUC);
    if (given !== room.config.password) throw new StanzaError('not-authorized', 'a password is required to enter this room');
  }
  if (!same && room.occupants.size >= room.config.maxUsers && aff !== 'owner' && aff !== 'admin') {
    throw new StanzaError('service-unavailable', 'this room is full');
  }
  const occ: Occupant = same ?? { nick, bare, sessions: new Map(), role: defaultRole(aff, room.config), id: room.occupantId(bare) };
  const others = [...room.occupants.values()].filter((o) => o !== occ);
  room.addSession(occ, real, presenceRecord(s));
  // §7.2.3: the others' presence first, to the new session only.
  const seesJids = room.config.whois === 'anyone' || occ.role === 'moderator';
  for (const o of others) await ctx.api.send(addressed(occupantPresence(ctx, room, o, seesJids, false, {}), real));
  const selfCodes = [...(room.config.whois === 'anyone' ? [100] : []), ...(room.config.logging ? [170] : []), ...(created ? [201] : [])];
  if (same) {
    // A further session of an occupant (multi-session): only that session learns of the join.
    await ctx.api.send(addressed(occupantPresence(ctx, room, occ, true, true, { selfCodes }), real));
  } else {
    await broadcastPresence(ctx, room, occ, { selfCodes }, [real]);
  }
  if (!created) {
    for (const h of historyFor(room, mucX?.getChild('history', NS_MUC))) await ctx.api.send(addressed(h, real));
  }
  await ctx.api.send(addressed(subjectMessage(room), real));
  ctx.api.log.debug({ room: room.address, nick, created }, 'occupant joined');
}

async function update(ctx: MucContext, room: Room, occ: Occupant, real: string, s: Element): Promise<void> {
  occ.sessions.set(real, presenceRecord(s));
  await broadcastPresence(ctx, room, occ, {});
}

async function changeNick(ctx: MucContext, ev: StanzaEvent, room: Room, occ: Occupant, nick: string): Promise<void> {
  const taken = room.occupants.get(nick);
  if (taken) throw new StanzaError('conflict', 'that nickname is in use');
  const holder = reservedBy(room, nick);
  if (holder !== undefined && holder !== occ.bare) throw new StanzaError('conflict', 'that nickname is reserved');
  const old = occ.nick;
  await broadcastPresence(ctx, room, occ, { unavailable: true, codes: [303], nick });
  room.occupants.delete(old);
  occ.nick = nick;
  room.occupants.set(nick, occ);
  occ.sessions.set(ev.from.toString(), presenceRecord(ev.stanza));
  await broadcastPresence(ctx, room, occ, {});
}

/** A session leaves (§7.14), or vanished (ghost: code 333, "left due to a technical error"). */
export async function leave(ctx: MucContext, room: Room, occ: Occupant, real: string, opts: { ghost?: boolean; status?: string | undefined } = {}): Promise<void> {
  const status = opts.status?.slice(0, 1000);
  if (occ.sessions.size > 1) {
    room.removeSession(occ, real);
    await ctx.api.send(addressed(occupantPresence(ctx, room, occ, true, true, { unavailable: true, ...(status ? { status } : {}) }), real));
    return;
  }
  await removeOccupant(ctx, room, occ, { ...(opts.ghost ? { codes: [333] } : {}), ...(status ? { status } : {}) });
  await dropIfEmpty(ctx, room);
}

/** A temporary room disappears with its last occupant (§10.1.3 note, "destroyed when the last occupant exits"). */
export async function dropIfEmpty(ctx: MucContext, room: Room): Promise<void> {
  if (room.occupants.size > 0 || room.config.persistent) return;
  room.destroyed = true;
  await ctx.forget(room);
}
