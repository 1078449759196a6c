// Registering with a room (XEP-0045 §7.10, over XEP-0077 jabber:iq:register with the
// muc#register form of §16.5.1): the form (with <registered/> when registered) on a get, a submitted form reserves
// the sender's bare JID a nickname (kept on its affiliation record, so the room's persistence
// and cluster snapshots carry it), <remove/> cancels it (XEP-0077 §3.2). The reserved nick is
// what §7.2.8 and §7.12 (x-roomuser-item) read; both already look at the affiliation record.
//
// Policy (the XEP leaves it to the service):
// - Approval: immediate, no admin approval step (§9.9 approval is a MAY). Registration makes
//   an unaffiliated user a member ("as a result, the user will become a member", §7.10).
// - Who: owners, admins and members may always reserve a nick (their affiliation is unchanged).
//   An unaffiliated user may register with a room that is neither members-only nor moderated
//   (membership grants nothing there beyond the reservation); with a members-only or moderated
//   room (where membership means entry or voice) only when its owner turned the room's
//   x-magpie#roomconfig_registration on: otherwise not-allowed (§7.10 "privilege restricted").
//   Outcasts get forbidden, as on entering (§7.2.7).
// - A registered user re-submitting the form changes its reserved nick (XEP-0077 lets a
//   registered entity update its registration); conflict only when another user holds the nick
//   (reserved, or an occupant of the room right now).
// - Cancelling clears the reservation; a member loses the membership registration gave it
//   (XEP-0077 §3.2: the registration is gone), owners and admins keep theirs.
// - No nickname lockdown: a registered user may enter with another nick (§7.12 SHOULD).
// - Only muc#register_roomnick is asked: Magpie has no approval step that would read the
//   optional fields (first/last/url/email/faqentry), so it asks for no personal data; submitted
//   extra fields are ignored.

import { xml, type Element } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import { affiliationOf, type MucContext } from './context.js';
import type { Room } from './room.js';
import type { Affiliation } from './roles.js';
import { NS_DATA, form, formValues } from './forms.js';
import { setAffiliation } from './admin.js';

export const NS_REGISTER = 'jabber:iq:register';
export const NS_MUC_REGISTER = 'http://jabber.org/protocol/muc#register';
const FIELD_NICK = 'muc#register_roomnick';

/** The nickname rules of entering (service.ts): bounded length, not blank. */
export function acceptableNick(ctx: MucContext, nick: string): boolean {
  return [...nick].length <= ctx.o.maxNickLength && nick.trim() !== '';
}

/** The bare JID holding `nick` as its reserved nickname in `room`, if any. */
export function reservedBy(room: Room, nick: string): string | undefined {
  for (const [jid, rec] of room.affiliations) if (rec.nick === nick) return jid;
  return undefined;
}

export async function handleRegisterIq(ctx: MucContext, ev: StanzaEvent, room: Room, q: Element): Promise<Element | undefined> {
  if (!ctx.o.registration) throw new StanzaError('service-unavailable', 'registration with rooms is not offered');
  const bare = ev.from.bareString();
  const aff = affiliationOf(ctx, room, bare);
  if (aff === 'outcast') throw new StanzaError('forbidden', 'you are banned from this room');
  const current = room.affiliations.get(bare)?.nick;
  if (ev.stanza.attrs.type === 'get') {
    // XEP-0077 §3.1: a registered user gets <registered/>, its nick as <username/> (§7.10), and
    // the form filled in with what is on file, so that a client can change its reservation.
    if (current === undefined) mayRegister(room, aff);
    return xml('query', NS_REGISTER, {},
      current !== undefined ? xml('registered', NS_REGISTER) : undefined,
      current !== undefined ? xml('username', NS_REGISTER, {}, current) : undefined,
      xml('instructions', NS_REGISTER, {}, current !== undefined ? 'You are registered; submit another nickname to change it.' : 'Choose the nickname to reserve in this room.'),
      form('form', NS_MUC_REGISTER, [{ var: FIELD_NICK, type: 'text-single', label: 'Desired Nickname', required: true, ...(current !== undefined ? { values: [current] } : {}) }],
        `Registration with ${room.config.name || room.node}`));
  }

  const children = q.elements();
  if (q.getChild('remove', NS_REGISTER)) {
    if (children.length !== 1) throw new StanzaError('bad-request', '<remove/> must be the only child');
    if (current === undefined) throw new StanzaError('registration-required', 'you are not registered with this room');
    await unregister(ctx, room, bare);
    return undefined;
  }
  const x = q.getChild('x', NS_DATA);
  if (!x) throw new StanzaError('bad-request', 'expected a muc#register data form or <remove/>');
  if (x.attrs.type === 'cancel') return undefined; // XEP-0004 §3.1: the user gave up; nothing changes
  const v = formValues(x);
  // Like the configuration form (config.ts), a submission without FORM_TYPE is taken as ours.
  const ft = v.get('FORM_TYPE')?.[0];
  if (x.attrs.type !== 'submit' || (ft !== undefined && ft !== NS_MUC_REGISTER)) throw new StanzaError('bad-request', 'expected a submitted muc#register form');
  const raw = v.get(FIELD_NICK)?.[0];
  if (raw === undefined || raw === '') throw new StanzaError('not-acceptable', 'muc#register_roomnick is required');
  // The nick as entering would see it: resourceprep'd as the resource of the occupant JID.
  let nick: string;
  try { nick = room.jid.withResource(raw).resource; } catch { throw new StanzaError('not-acceptable', 'unacceptable nickname'); }
  if (!acceptableNick(ctx, nick)) throw new StanzaError('not-acceptable', 'unacceptable nickname');
  if (current === nick) return undefined;
  if (current === undefined) mayRegister(room, aff);
  const holder = reservedBy(room, nick);
  if (holder !== undefined && holder !== bare) throw new StanzaError('conflict', 'that nickname is reserved');
  const occupant = room.occupants.get(nick);
  if (occupant && occupant.bare !== bare) throw new StanzaError('conflict', 'that nickname is in use');
  if (current === undefined && registrations(room) >= ctx.o.maxRegistrationsPerRoom) {
    throw new StanzaError('resource-constraint', 'this room holds too many registrations', 'wait');
  }
  // §7.10: the new member's presence shows the affiliation change to the room, if it is in it.
  if (room.affiliation(bare) === 'none') await setAffiliation(ctx, room, undefined, bare, 'member');
  const rec = room.affiliations.get(bare);
  if (!rec) throw new Error('registration: no affiliation record after granting membership');
  rec.nick = nick;
  await ctx.save(room);
  ctx.api.log.debug({ room: room.address, nick }, 'registered with room');
  return undefined;
}

/** Throws not-allowed when this affiliation may not register with this room (see the header). */
function mayRegister(room: Room, aff: Affiliation): void {
  if (aff !== 'none') return;
  if ((room.config.membersOnly || room.config.moderated) && !room.config.registration) {
    throw new StanzaError('not-allowed', 'only members may register with this room');
  }
}

function registrations(room: Room): number {
  let n = 0;
  for (const rec of room.affiliations.values()) if (rec.nick !== undefined) n++;
  return n;
}

async function unregister(ctx: MucContext, room: Room, bare: string): Promise<void> {
  const rec = room.affiliations.get(bare);
  if (!rec) return;
  delete rec.nick;
  // A member's membership goes with its registration (a members-only room then removes it, 321).
  if (rec.affiliation === 'member') await setAffiliation(ctx, room, undefined, bare, 'none');
  await ctx.save(room);
  ctx.api.log.debug({ room: room.address }, 'registration with room cancelled');
}
