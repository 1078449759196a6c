// The muc#admin protocol (XEP-0045 §8 moderator use cases: kick §8.2, voice §8.3–§8.5;
// §9 admin use cases: ban §9.1, members §9.3–§9.5, moderators §9.6–§9.8; §10.3–§10.8 owners
// and admins lists): item lists by role or affiliation and batched changes, with the effects
// on occupants (307 kick, 301 ban, 321 affiliation change, 322 members-only removal).

import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import type { StanzaEvent } from '../../hooks/events.js';
import { affiliationOf, type MucContext } from './context.js';
import type { Occupant, Room } from './room.js';
import type { Role } from './config.js';
import { NS_MUC_ADMIN, broadcastPresence, removeOccupant } from './broadcast.js';
import { canListAffiliation, canListRole, canSetAffiliation, canSetRole, defaultRole, isAffiliation, isRole, type Affiliation } from './roles.js';
import { dropIfEmpty } from './presence.js';

function actorOf(ctx: MucContext, room: Room, ev: StanzaEvent): { aff: Affiliation; role: Role; occ: Occupant | undefined; bare: string } {
  const bare = ev.from.bareString();
  const occ = room.byReal.get(ev.from.toString());
  const aff = affiliationOf(ctx, room, bare);
  // Owners and admins moderate from outside the room too (they would be moderators inside).
  const role: Role = occ?.role ?? (aff === 'owner' || aff === 'admin' ? 'moderator' : 'none');
  return { aff, role, occ, bare };
}

export async function handleAdminIq(ctx: MucContext, ev: StanzaEvent, room: Room, q: Element): Promise<Element | undefined> {
  const actor = actorOf(ctx, room, ev);
  const items = q.getChildren('item', NS_MUC_ADMIN);
  if (items.length === 0) throw new StanzaError('bad-request', 'no item');
  if (ev.stanza.attrs.type === 'get') return list(ctx, room, actor, items[0]!);
  if (items.length > 100) throw new StanzaError('policy-violation', 'at most 100 items per request');
  // Validate every item before applying any (a batch is all or nothing, §9.5 "as a whole").
  const plan: (() => Promise<void>)[] = [];
  const newAffs = new Map<string, Affiliation>();
  for (const it of items) {
    const reason = it.getChildText('reason', NS_MUC_ADMIN)?.slice(0, 1000);
    if (it.attrs.role !== undefined) {
      if (!isRole(it.attrs.role)) throw new StanzaError('bad-request', 'unknown role');
      const nick = it.attrs.nick;
      const target = nick !== undefined ? room.occupants.get(nick) : undefined;
      if (!target) throw new StanzaError('item-not-found', 'no occupant with that nick');
      const newRole = it.attrs.role;
      const verdict = canSetRole(actor.aff, actor.role, affiliationOf(ctx, room, target.bare), target.role, newRole);
      if (verdict !== 'ok') throw new StanzaError(verdict, 'you may not change that occupant\'s role');
      plan.push(() => (newRole === 'none' ? kick(ctx, room, actor.occ, target, reason) : setRole(ctx, room, actor.occ, target, newRole, reason)));
    } else if (it.attrs.affiliation !== undefined) {
      if (!isAffiliation(it.attrs.affiliation)) throw new StanzaError('bad-request', 'unknown affiliation');
      const jid = JID.tryParse(it.attrs.jid);
      if (!jid) throw new StanzaError('bad-request', 'an affiliation change names a jid');
      const bare = jid.bareString();
      const newAff = it.attrs.affiliation;
      const verdict = canSetAffiliation(actor.aff, room.affiliation(bare), newAff);
      if (verdict !== 'ok') throw new StanzaError(verdict, 'you may not change that affiliation');
      newAffs.set(bare, newAff);
      plan.push(() => setAffiliation(ctx, room, actor.occ, bare, newAff, reason));
    } else throw new StanzaError('bad-request', 'an item needs a role or an affiliation');
  }
  // §10.7: a room always keeps an owner.
  const owners = room.owners().filter((j) => (newAffs.get(j) ?? 'owner') === 'owner');
  for (const [j, a] of newAffs) if (a === 'owner' && !owners.includes(j)) owners.push(j);
  if (owners.length === 0) throw new StanzaError('conflict', 'a room needs at least one owner');
  for (const step of plan) await step();
  await ctx.save(room);
  return undefined;
}

function list(ctx: MucContext, room: Room, actor: { aff: Affiliation; role: Role }, it: Element): Element {
  const q = xml('query', NS_MUC_ADMIN);
  if (it.attrs.affiliation !== undefined) {
    const a = it.attrs.affiliation;
    if (!isAffiliation(a) || a === 'none') throw new StanzaError('bad-request', 'unknown affiliation list');
    if (!canListAffiliation(a, actor.aff, actor.role, room.config)) throw new StanzaError('forbidden', 'you may not see that list');
    for (const [jid, rec] of room.affiliations) {
      if (rec.affiliation !== a) continue;
      q.append(xml('item', NS_MUC_ADMIN, { affiliation: a, jid, nick: rec.nick }, rec.reason ? xml('reason', NS_MUC_ADMIN, {}, rec.reason) : undefined));
    }
    return q;
  }
  if (it.attrs.role !== undefined) {
    const r = it.attrs.role;
    if (!isRole(r) || r === 'none') throw new StanzaError('bad-request', 'unknown role list');
    if (!canListRole(actor.role)) throw new StanzaError('forbidden', 'only moderators see role lists');
    for (const o of room.occupants.values()) {
      if (o.role !== r) continue;
      q.append(xml('item', NS_MUC_ADMIN, { role: r, nick: o.nick, affiliation: affiliationOf(ctx, room, o.bare), jid: [...o.sessions.keys()][0] }));
    }
    return q;
  }
  throw new StanzaError('bad-request', 'a list request names a role or an affiliation');
}

/** §8.2: kick with 307, actor and reason. */
async function kick(ctx: MucContext, room: Room, actor: Occupant | undefined, target: Occupant, reason?: string): Promise<void> {
  await removeOccupant(ctx, room, target, { codes: [307], ...(actor ? { actor: actor.nick } : {}), ...(reason ? { reason } : {}) });
  await dropIfEmpty(ctx, room);
}

export async function setRole(ctx: MucContext, room: Room, actor: Occupant | undefined, target: Occupant, role: Role, reason?: string): Promise<void> {
  if (target.role === role) return;
  target.role = role;
  await broadcastPresence(ctx, room, target, { ...(actor ? { actor: actor.nick } : {}), ...(reason ? { reason } : {}) });
}

/** §9.1 ban (301), §9.4 and §9.8 membership and admin changes, §9.? members-only removal (321/322). */
export async function setAffiliation(ctx: MucContext, room: Room, actor: Occupant | undefined, bare: string, aff: Affiliation, reason?: string): Promise<void> {
  room.setAffiliation(bare, aff, aff === 'outcast' ? reason : undefined);
  const actorOpt = actor ? { actor: actor.nick } : {};
  const reasonOpt = reason ? { reason } : {};
  for (const o of room.occupantsOf(bare)) {
    if (aff === 'outcast') { await removeOccupant(ctx, room, o, { codes: [301], ...actorOpt, ...reasonOpt }); continue; }
    if (room.config.membersOnly && aff === 'none') { await removeOccupant(ctx, room, o, { codes: [321], ...actorOpt, ...reasonOpt }); continue; }
    o.role = defaultRole(affiliationOf(ctx, room, bare), room.config);
    await broadcastPresence(ctx, room, o, { ...actorOpt, ...reasonOpt });
  }
  await dropIfEmpty(ctx, room);
}

/** §9.? when a room becomes members-only, occupants without affiliation leave with 322. */
export async function enforceMembersOnly(ctx: MucContext, room: Room): Promise<void> {
  if (!room.config.membersOnly) return;
  for (const o of [...room.occupants.values()]) {
    if (affiliationOf(ctx, room, o.bare) === 'none') await removeOccupant(ctx, room, o, { codes: [322] });
  }
}
