// Building and fanning out what occupants see (XEP-0045 §7.2.3–§7.2.4 presence with muc#user
// items and status codes §15.4.2, XEP-0421 occupant ids): one stanza per receiving session,
// built once per variant (with or without the real JID, self-presence) and copied with a `to`.

import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import type { MucContext } from './context.js';
import { affiliationOf } from './context.js';
import type { Occupant, Room } from './room.js';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0';

/** Copy `el` addressed to `to`, sharing the (never mutated) children. */
export function addressed(el: Element, to: string): Element {
  const out = new Element(el.name, el.xmlns, { ...el.attrs, to });
  out.children = [...el.children];
  return out;
}

export function send(ctx: MucContext, el: Element): Promise<void> { return ctx.api.send(el); }

/** Send `el` to every session of every occupant (groupchat fan-out, §7.4). */
export async function toAll(ctx: MucContext, room: Room, el: Element): Promise<void> {
  const sends: Promise<void>[] = [];
  for (const [real] of room.sessions()) sends.push(ctx.api.send(addressed(el, real)));
  await Promise.all(sends);
}

export async function toOccupant(ctx: MucContext, o: Occupant, el: Element): Promise<void> {
  await Promise.all([...o.sessions.keys()].map((real) => ctx.api.send(addressed(el, real))));
}

/** Strip what a client may not assert itself: muc x elements and occupant ids (XEP-0421 §4). */
export function cleanPayload(stanza: Element): Node[] {
  return stanza.children.filter((c) => typeof c === 'string'
    || !((c.xmlns === NS_MUC || c.xmlns === NS_MUC_USER || c.xmlns === NS_OCCUPANT_ID)));
}
type Node = Element | string;

export const occupantIdEl = (room: Room, o: Occupant): Element => xml('occupant-id', NS_OCCUPANT_ID, { id: room.occupantId(o.bare) });

export interface PresenceOpts {
  unavailable?: boolean;
  /** Status codes for everybody (e.g. 303, 307, 301, 321, 332). */
  codes?: number[];
  /** Extra codes only the occupant itself gets (100, 170, 201, 210). */
  selfCodes?: number[];
  /** New nick (303), actor nick and reason (kick/ban, §8.2, §9.1). */
  nick?: string;
  actor?: string;
  reason?: string;
  /** Room destruction (§10.9). */
  destroy?: Element;
  /** Whose status text to carry on an unavailable presence. */
  status?: string;
}

function item(ctx: MucContext, room: Room, o: Occupant, withJid: boolean, opts: PresenceOpts): Element {
  const aff = affiliationOf(ctx, room, o.bare);
  const real = o.sessions.keys().next().value as string | undefined;
  const it = xml('item', NS_MUC_USER, {
    affiliation: aff, role: opts.unavailable ? 'none' : o.role,
    jid: withJid ? (real ?? o.bare) : undefined, nick: opts.nick,
  });
  if (opts.actor !== undefined) it.append(xml('actor', NS_MUC_USER, { nick: opts.actor }));
  if (opts.reason) it.append(xml('reason', NS_MUC_USER, {}, opts.reason));
  return it;
}

/** The presence of `o` as one receiver sees it. */
export function occupantPresence(ctx: MucContext, room: Room, o: Occupant, withJid: boolean, self: boolean, opts: PresenceOpts): Element {
  const x = xml('x', NS_MUC_USER, {}, item(ctx, room, o, withJid, opts));
  const codes = [...(self ? [110, ...(opts.selfCodes ?? [])] : []), ...(opts.codes ?? [])];
  for (const c of [...new Set(codes)].sort((a, b) => a - b)) x.append(xml('status', NS_MUC_USER, { code: c }));
  if (opts.destroy) x.append(opts.destroy);
  const p = new Element('presence', NS.CLIENT, { from: room.occupantJid(o.nick), type: opts.unavailable ? 'unavailable' : undefined });
  if (opts.unavailable) { if (opts.status) p.append(xml('status', NS.CLIENT, {}, opts.status)); } else {
    const last = room.presenceOf(o);
    if (last) p.children.push(...cleanPayload(last));
  }
  p.append(x, occupantIdEl(room, o));
  return p;
}

/**
 * §7.2.3 and after: `o`'s presence to every occupant. The real JID goes to moderators, and to
 * everybody in a non-anonymous room; `o`'s own sessions (`selfSessions` when already removed)
 * get the self-presence with 110.
 */
export async function broadcastPresence(ctx: MucContext, room: Room, o: Occupant, opts: PresenceOpts, selfSessions?: string[]): Promise<void> {
  const open = room.config.whois === 'anyone';
  const variants = new Map<string, Element>();
  const get = (k: 'jid' | 'anon' | 'self'): Element => {
    let v = variants.get(k);
    if (!v) { v = occupantPresence(ctx, room, o, k !== 'anon', k === 'self', opts); variants.set(k, v); }
    return v;
  };
  const sends: Promise<void>[] = [];
  const selfSet = new Set(selfSessions ?? o.sessions.keys());
  for (const [real, other] of room.sessions()) {
    if (selfSet.has(real)) continue;
    sends.push(ctx.api.send(addressed(get(open || other.role === 'moderator' ? 'jid' : 'anon'), real)));
  }
  for (const real of selfSet) sends.push(ctx.api.send(addressed(get('self'), real)));
  await Promise.all(sends);
}

/** Remove an occupant entirely and tell everybody, itself included (kick, ban, ghost, …). */
export async function removeOccupant(ctx: MucContext, room: Room, o: Occupant, opts: Omit<PresenceOpts, 'unavailable'>): Promise<void> {
  const selfSessions = [...o.sessions.keys()];
  // Build the presence while the occupant still has its sessions (item jid), then remove it.
  const presenceOpts = { ...opts, unavailable: true };
  const open = room.config.whois === 'anyone';
  const self = occupantPresence(ctx, room, o, true, true, presenceOpts);
  const withJid = occupantPresence(ctx, room, o, true, false, presenceOpts);
  const anon = occupantPresence(ctx, room, o, false, false, presenceOpts);
  room.removeOccupant(o);
  const sends: Promise<void>[] = [];
  for (const [real, other] of room.sessions()) sends.push(ctx.api.send(addressed(open || other.role === 'moderator' ? withJid : anon, real)));
  for (const real of selfSessions) sends.push(ctx.api.send(addressed(self, real)));
  await Promise.all(sends);
}
