// The muc#owner protocol (XEP-0045 §10): the configuration form (§10.2) and its submission
// (instant rooms §10.1.2 submit an empty form, reserved rooms §10.1.3 fill it in; both unlock
// a new room), cancelling the creation of a locked room (§10.1.3), the 104 notice of a
// configuration change (§10.2.1), and destroying a room (§10.9) with alternate venue and reason.

import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { NS } from '@magpie/core/protocol/namespaces';
import { JID } from '@magpie/core/jid/jid';
import type { StanzaEvent } from '../../hooks/events.js';
import { affiliationOf, type MucContext } from './context.js';
import type { Room } from './room.js';
import { applyConfigForm, configForm } from './config.js';
import { NS_DATA } from './forms.js';
import { NS_MUC_OWNER, NS_MUC_USER, broadcastPresence, removeOccupant, toAll } from './broadcast.js';
import { enforceMembersOnly } from './admin.js';
import { defaultRole } from './roles.js';

export async function handleOwnerIq(ctx: MucContext, ev: StanzaEvent, room: Room, q: Element): Promise<Element | undefined> {
  if (affiliationOf(ctx, room, ev.from.bareString()) !== 'owner') throw new StanzaError('forbidden', 'only owners configure a room');
  if (ev.stanza.attrs.type === 'get') {
    if (q.elements().length > 0) throw new StanzaError('bad-request');
    return xml('query', NS_MUC_OWNER, {}, configForm(room.config, ctx.limits));
  }
  const destroy = q.getChild('destroy', NS_MUC_OWNER);
  if (destroy) { await destroyRoom(ctx, room, destroy); return undefined; }
  const x = q.getChild('x', NS_DATA);
  if (!x) throw new StanzaError('bad-request', 'expected a data form or <destroy/>');
  if (x.attrs.type === 'cancel') {
    // §10.1.3: cancelling the initial configuration destroys the new room.
    if (room.locked) await destroyRoom(ctx, room, undefined);
    return undefined;
  }
  if (x.attrs.type !== 'submit') throw new StanzaError('bad-request', 'the form must be submitted');
  const before = room.config;
  const next = applyConfigForm(before, x, ctx.limits);
  room.config = next;
  const wasLocked = room.locked;
  room.locked = false;
  await ctx.save(room);
  if (room.history.length > next.historyLength) room.history.splice(0, room.history.length - next.historyLength);
  if (before.historyLength !== next.historyLength) ctx.historyResized?.(room);
  if (before.moderated !== next.moderated) {
    // Roles follow the new default for occupants whose role was the default (§5.1.2).
    for (const o of [...room.occupants.values()]) {
      const aff = affiliationOf(ctx, room, o.bare);
      if (aff !== 'none' || (o.role !== 'participant' && o.role !== 'visitor')) continue;
      const role = defaultRole(aff, next);
      if (role !== o.role) { o.role = role; await broadcastPresence(ctx, room, o, {}); }
    }
  }
  await enforceMembersOnly(ctx, room);
  if (!wasLocked) {
    // §10.2.1: occupants learn that the configuration changed; 172/173 for the anonymity change.
    const codes = [104, ...(before.whois !== next.whois ? [next.whois === 'anyone' ? 172 : 173] : []), ...(before.logging !== next.logging ? [next.logging ? 170 : 171] : [])];
    const x2 = xml('x', NS_MUC_USER, {}, ...codes.map((c) => xml('status', NS_MUC_USER, { code: c })));
    await toAll(ctx, room, xml('message', NS.CLIENT, { type: 'groupchat', from: room.address, id: `config-${Date.now()}` }, x2));
  }
  return undefined;
}

/** §10.9: every occupant leaves with the <destroy/> (alternate venue, reason); the room is gone. */
export async function destroyRoom(ctx: MucContext, room: Room, destroy: Element | undefined, codes: number[] = []): Promise<void> {
  const alt = destroy?.attrs.jid ? JID.tryParse(destroy.attrs.jid) : undefined;
  if (destroy?.attrs.jid && !alt) throw new StanzaError('jid-malformed', 'invalid alternate venue');
  const reason = destroy?.getChildText('reason', NS_MUC_OWNER)?.slice(0, 1000);
  const password = destroy?.getChildText('password', NS_MUC_OWNER);
  const d = xml('destroy', NS_MUC_USER, { jid: alt?.toString() },
    reason !== undefined ? xml('reason', NS_MUC_USER, {}, reason) : undefined,
    password !== undefined ? xml('password', NS_MUC_USER, {}, password) : undefined);
  room.destroyed = true;
  for (const o of [...room.occupants.values()]) await removeOccupant(ctx, room, o, { destroy: d, codes });
  await ctx.forget(room);
  ctx.api.log.info({ room: room.address }, 'room destroyed');
}
