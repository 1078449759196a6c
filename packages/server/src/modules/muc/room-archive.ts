// The room's message archive (XEP-0313 1.1 §6 "Archives of MUC rooms", XEP-0359 stanza ids):
// groupchat of a room with logging on (muc#roomconfig_enablelogging) is appended to the archive
// store (./persistence.ts) and stamped with a stanza-id `by` the room; a query to the room JID is
// answered by the MAM module's query engine (the 'mam' service) over that store. Who may read
// (§6.1.2 leaves it to the room's policy): anyone not banned in a public, open room; in a
// members-only or hidden room only members and present occupants, like the room itself.

import { JID } from '@magpie/core/jid/jid';
import { xml, type Element } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import type { MamService } from '../mam/archiver.js';
import { MAM_SERVICE } from '../mam/mam.js';
import { NS_MAM, NS_SID } from '../mam/policy.js';
import { queryForm } from '../mam/query.js';
import type { MucContext } from './context.js';
import { ARCHIVE_STORE } from './persistence.js';
import type { Room } from './room.js';
import { affiliationOf } from './context.js';

/** The room offers an archive: logging is on and the MAM engine is loaded. */
export function hasArchive(ctx: MucContext, room: Room): boolean {
  return room.config.logging && ctx.api.service<MamService>(MAM_SERVICE) !== undefined;
}

export function stanzaIdEl(room: Room, id: string): Element { return xml('stanza-id', NS_SID, { id, by: room.address }); }

export async function roomArchiveQuery(ctx: MucContext, ev: StanzaEvent, room: Room, q: Element): Promise<Element> {
  const mam = ctx.api.service<MamService>(MAM_SERVICE);
  if (!mam || !room.config.logging) throw new StanzaError('service-unavailable', 'this room keeps no archive');
  const aff = affiliationOf(ctx, room, ev.from.bareString());
  if (aff === 'outcast') throw new StanzaError('forbidden', 'you are banned from this room');
  const insider = aff !== 'none' || room.byReal.has(ev.from.toString());
  if ((room.config.membersOnly || !room.config.public) && !insider) throw new StanzaError('forbidden', 'only members and occupants may read this room\'s archive');
  if (ev.stanza.attrs.type === 'get') return xml('query', NS_MAM, {}, queryForm());
  return mam.answer(q, { owner: JID.of(room.node, ctx.domain), store: ARCHIVE_STORE, from: room.address, to: ev.from.toString() }, (m) => ctx.api.send(m));
}
