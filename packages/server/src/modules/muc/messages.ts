// Messages in a room (XEP-0045): groupchat fan-out to every occupant (§7.4) with occupant ids
// (XEP-0421) and history, subject changes (§8.1, muc#roomconfig_changesubject), private
// messages between occupants (§7.5, muc#roomconfig_allowpm), mediated invitations and declines
// (§7.8.2, §7.8.2.1; members-only rooms make the invitee a member), voice requests (§7.13) and
// their approval by a moderator (§8.6), and error bounces from occupants (ghosts, §7.2 notes).

import { stanzaIdEl } from './room-archive.js';
import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { NS } from '@magpie/core/protocol/namespaces';
import { JID } from '@magpie/core/jid/jid';
import type { StanzaEvent } from '../../hooks/events.js';
import { affiliationOf, type MucContext } from './context.js';
import type { Occupant, Room } from './room.js';
import { NS_MUC_USER, cleanPayload, occupantIdEl, toAll, toOccupant } from './broadcast.js';
import { remember } from './history.js';
import { leave } from './presence.js';
import { form, formType, formValues, parseBool, NS_DATA } from './forms.js';
import { setRole } from './admin.js';

const NS_REQUEST = 'http://jabber.org/protocol/muc#request';

function sender(room: Room, ev: StanzaEvent): Occupant {
  const o = room.byReal.get(ev.from.toString());
  if (!o) throw new StanzaError('not-acceptable', 'you are not an occupant of this room');
  return o;
}

function checkSize(ctx: MucContext, s: Element): void {
  if (s.toString().length > ctx.o.maxMessageBytes) throw new StanzaError('not-acceptable', `messages are limited to ${ctx.o.maxMessageBytes} bytes`);
}

/** A message to the room's bare JID. */
export async function handleRoomMessage(ctx: MucContext, ev: StanzaEvent, room: Room): Promise<void> {
  const s = ev.stanza;
  const type = s.attrs.type ?? 'normal';
  if (type === 'error') return ghost(ctx, ev, room);
  if (type === 'groupchat') return groupchat(ctx, ev, room);
  const ux = s.getChild('x', NS_MUC_USER);
  if (ux?.getChild('invite', NS_MUC_USER)) return invite(ctx, ev, room, ux);
  if (ux?.getChild('decline', NS_MUC_USER)) return decline(ctx, ev, room, ux);
  const x = s.getChild('x', NS_DATA);
  if (x && formType(x) === NS_REQUEST) return voiceRequest(ctx, ev, room, x);
  throw new StanzaError('bad-request', 'messages to a room must be groupchat, an invitation, a decline or a voice request');
}

async function groupchat(ctx: MucContext, ev: StanzaEvent, room: Room): Promise<void> {
  const s = ev.stanza;
  const o = sender(room, ev);
  checkSize(ctx, s);
  if (o.role === 'visitor' || o.role === 'none') throw new StanzaError('forbidden', 'visitors may not speak in a moderated room');
  const subject = s.getChild('subject');
  const hasBody = !!s.getChild('body');
  if (subject && !hasBody) {
    if (!room.config.changeSubject && o.role !== 'moderator') throw new StanzaError('forbidden', 'only moderators may change the subject');
    room.subject = { text: subject.text().slice(0, 2000), by: o.nick, when: Date.now() };
    await ctx.save(room);
  }
  const out = new Element('message', NS.CLIENT, { type: 'groupchat', from: room.occupantJid(o.nick), id: s.attrs.id, 'xml:lang': s.attrs['xml:lang'] });
  out.children = cleanPayload(s).filter((c) => typeof c !== 'string');
  out.append(occupantIdEl(room, o));
  const when = Date.now();
  if (hasBody) {
    // Archived first, so the copy every occupant gets (and the history) carries the archive id
    // as its stanza-id (XEP-0313 §6, XEP-0359).
    const id = await ctx.archive(room, out, when, o.bare);
    if (id !== undefined) out.append(stanzaIdEl(room, id));
    remember(room, out, when);
    ctx.remembered?.(room, out, when); // not awaited: the fan-out never waits for Redis
  }
  await toAll(ctx, room, out);
}

/** §7.5: a private message to an occupant JID. */
export async function handleOccupantMessage(ctx: MucContext, ev: StanzaEvent, room: Room): Promise<void> {
  const s = ev.stanza;
  if (s.attrs.type === 'error') return ghost(ctx, ev, room);
  if (s.attrs.type === 'groupchat') throw new StanzaError('bad-request', 'a private message cannot be of type groupchat');
  const o = sender(room, ev);
  checkSize(ctx, s);
  const target = room.occupants.get(ev.to.resource);
  if (!target) throw new StanzaError('item-not-found', 'no such occupant');
  const pm = room.config.allowPm;
  const allowed = pm === 'anyone' ? o.role !== 'none' : pm === 'participants' ? o.role === 'participant' || o.role === 'moderator' : pm === 'moderators' ? o.role === 'moderator' : false;
  if (!allowed) throw new StanzaError('not-allowed', 'private messages are not allowed in this room');
  const out = new Element('message', NS.CLIENT, { ...s.attrs, from: room.occupantJid(o.nick) });
  delete out.attrs.to;
  out.children = cleanPayload(s).filter((c) => typeof c !== 'string');
  out.append(xml('x', NS_MUC_USER), occupantIdEl(room, o));
  await toOccupant(ctx, target, out);
}

/** An error an occupant's address returned for something the room sent: the session is gone. */
async function ghost(ctx: MucContext, ev: StanzaEvent, room: Room): Promise<void> {
  const o = room.byReal.get(ev.from.toString());
  if (!o) return;
  const cond = StanzaError.fromElement(ev.stanza)?.condition;
  // Only errors that say the address cannot take stanzas (XEP-0045 §18.1 "the service SHOULD remove").
  const gone = ['service-unavailable', 'recipient-unavailable', 'item-not-found', 'remote-server-not-found', 'remote-server-timeout', 'gone', 'redirect'];
  if (cond && !gone.includes(cond)) return;
  ctx.api.log.debug({ room: room.address, real: ev.from.toString(), cond }, 'removing a ghost occupant');
  await leave(ctx, room, o, ev.from.toString(), { ghost: true });
}

async function invite(ctx: MucContext, ev: StanzaEvent, room: Room, ux: Element): Promise<void> {
  const o = sender(room, ev);
  const aff = affiliationOf(ctx, room, o.bare);
  const privileged = aff === 'owner' || aff === 'admin';
  if (room.config.membersOnly && !room.config.allowInvites && !privileged) throw new StanzaError('forbidden', 'only admins may invite to this room');
  const invites = ux.getChildren('invite', NS_MUC_USER).slice(0, 20);
  for (const inv of invites) {
    const to = JID.tryParse(inv.attrs.to);
    if (!to) throw new StanzaError('jid-malformed', 'invalid invitee');
    if (room.config.membersOnly && room.affiliation(to.bareString()) === 'none') {
      room.setAffiliation(to.bareString(), 'member');
      await ctx.save(room);
    }
    const reason = inv.getChildText('reason', NS_MUC_USER);
    const x = xml('x', NS_MUC_USER, {},
      xml('invite', NS_MUC_USER, { from: ev.from.toString() }, reason !== undefined ? xml('reason', NS_MUC_USER, {}, reason.slice(0, 1000)) : undefined),
      room.config.passwordProtected ? xml('password', NS_MUC_USER, {}, room.config.password) : undefined);
    const body = `${ev.from.bareString()} invites you to the room ${room.address}${reason ? ` (${reason.slice(0, 1000)})` : ''}`;
    await ctx.api.send(xml('message', NS.CLIENT, { from: room.address, to: to.toString(), id: ev.stanza.attrs.id }, x, xml('body', NS.CLIENT, {}, body)));
  }
}

async function decline(ctx: MucContext, ev: StanzaEvent, room: Room, ux: Element): Promise<void> {
  const d = ux.getChild('decline', NS_MUC_USER)!;
  const to = JID.tryParse(d.attrs.to);
  if (!to) throw new StanzaError('jid-malformed', 'a decline names the inviter in "to"');
  const reason = d.getChildText('reason', NS_MUC_USER);
  await ctx.api.send(xml('message', NS.CLIENT, { from: room.address, to: to.toString(), id: ev.stanza.attrs.id },
    xml('x', NS_MUC_USER, {}, xml('decline', NS_MUC_USER, { from: ev.from.bareString() }, reason !== undefined ? xml('reason', NS_MUC_USER, {}, reason.slice(0, 1000)) : undefined))));
}

/** §7.13: a visitor asks for voice (the form goes to every moderator); §8.6: a moderator's answer. */
async function voiceRequest(ctx: MucContext, ev: StanzaEvent, room: Room, x: Element): Promise<void> {
  const o = sender(room, ev);
  const v = formValues(x);
  if (x.attrs.type === 'submit' && v.has('muc#request_allow')) {
    if (o.role !== 'moderator') throw new StanzaError('forbidden', 'only moderators answer voice requests');
    if (parseBool(v.get('muc#request_allow')?.[0]) !== true) return;
    const nick = v.get('muc#roomnick')?.[0];
    const target = nick !== undefined ? room.occupants.get(nick) : undefined;
    if (!target) throw new StanzaError('item-not-found', 'no such occupant');
    if (target.role === 'visitor') await setRole(ctx, room, o, target, 'participant');
    return;
  }
  if (v.get('muc#role')?.[0] !== 'participant') throw new StanzaError('bad-request', 'a voice request asks for muc#role participant');
  if (o.role !== 'visitor') return; // already has voice
  const request = form('form', NS_REQUEST, [
    { var: 'muc#role', type: 'list-single', label: 'Requested role', values: ['participant'], options: [{ value: 'participant' }] },
    { var: 'muc#jid', type: 'jid-single', label: 'User ID', values: [[...o.sessions.keys()][0] ?? o.bare] },
    { var: 'muc#roomnick', type: 'text-single', label: 'Room Nickname', values: [o.nick] },
    { var: 'muc#request_allow', type: 'boolean', label: 'Grant voice to this person?', values: ['false'] },
  ], 'Voice request');
  const msg = xml('message', NS.CLIENT, { from: room.address }, request);
  await Promise.all(room.moderators().map((m) => toOccupant(ctx, m, msg)));
}
