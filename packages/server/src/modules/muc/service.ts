// The MUC service on its own domain (XEP-0045 §6 discovery: the service's identity and
// features, public rooms in disco#items, a room's features and muc#roominfo form, §7.12
// reserved-nick discovery), and the dispatch of every stanza addressed to the service, a room
// or an occupant to the part that handles it. Also XEP-0410 self-ping (answered by the service
// for the pinger's own occupant JID; other occupants' iqs are forwarded, §7.5 iq "MAY forward").

import { NS_MAM, NS_SID } from '../mam/policy.js';
import { hasArchive, roomArchiveQuery } from './room-archive.js';
import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { NS } from '@magpie/core/protocol/namespaces';
import type { StanzaEvent } from '../../hooks/events.js';
import { affiliationOf, type MucContext } from './context.js';
import type { Room } from './room.js';
import { roomFeatures, roomInfoForm } from './config.js';
import { NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER } from './broadcast.js';
import { createRoom, handlePresence } from './presence.js';
import { handleRoomMessage, handleOccupantMessage } from './messages.js';
import { handleAdminIq } from './admin.js';
import { handleOwnerIq } from './owner.js';
import { NS_MUC_REGISTER, NS_REGISTER, acceptableNick, handleRegisterIq } from './register.js';

const MAX_ITEMS = 1000;

interface Forwarded { from: string; id: string; targetNick: string; node: string; timer: NodeJS.Timeout }

export class MucService {
  private forwarded = new Map<string, Forwarded>();
  private seq = 0;

  constructor(private readonly ctx: MucContext) {}

  async dispatch(ev: StanzaEvent): Promise<void> {
    try {
      await this.route(ev);
    } catch (e) {
      if (!(e instanceof StanzaError)) this.ctx.api.log.error({ err: e, to: ev.to.toString() }, 'muc handler failed');
      this.ctx.api.bounce(ev, e instanceof StanzaError ? e : new StanzaError('internal-server-error'));
    }
  }

  private async route(ev: StanzaEvent): Promise<void> {
    const { ctx } = this;
    const s = ev.stanza;
    const to = ev.to;
    if (!to.local) return this.serviceStanza(ev);
    let room = ctx.rooms.get(to.local);
    if (s.name === 'presence') {
      if (!to.resource) { if (s.attrs.type === undefined) throw new StanzaError('jid-malformed', 'a nickname is required'); return; }
      if (s.attrs.type === undefined) this.checkNick(to.resource);
      if (!room) {
        if (s.attrs.type !== undefined) return;
        room = createRoom(ctx, ev, to.local, !s.getChild('x', NS_MUC));
        const created = room;
        return created.run(() => handlePresence(ctx, ev, created, true));
      }
      const r = room;
      return r.run(() => handlePresence(ctx, ev, r, false));
    }
    if (!room || room.destroyed) {
      if (s.attrs.type === 'error' || s.attrs.type === 'result') return;
      throw new StanzaError('item-not-found', 'no such room');
    }
    const r = room;
    if (s.name === 'message') return r.run(() => (to.resource ? handleOccupantMessage(ctx, ev, r) : handleRoomMessage(ctx, ev, r)));
    if (s.name === 'iq') return r.run(() => (to.resource ? this.occupantIq(ev, r) : this.roomIq(ev, r)));
  }

  private checkNick(nick: string): void {
    // XEP-0045 §7.2.? nick rules: RFC 7700 would refuse these; resourceprep already ran on the JID.
    if (!acceptableNick(this.ctx, nick)) throw new StanzaError('not-acceptable', 'unacceptable nickname');
  }

  private async reply(ev: StanzaEvent, payload?: Element): Promise<void> {
    await this.ctx.api.send(xml('iq', ev.stanza.xmlns, { type: 'result', id: ev.stanza.attrs.id, from: ev.to.toString(), to: ev.from.toString() }, payload));
  }

  private async serviceStanza(ev: StanzaEvent): Promise<void> {
    const s = ev.stanza;
    if (s.name === 'presence' || s.attrs.type === 'error') return;
    if (s.name === 'message') throw new StanzaError('service-unavailable');
    if (s.attrs.type !== 'get' && s.attrs.type !== 'set') return;
    if (ev.to.resource) throw new StanzaError('service-unavailable');
    const q = s.elements()[0];
    if (s.attrs.type === 'get' && q?.name === 'query' && q.xmlns === NS.DISCO_INFO && !q.attrs.node) {
      return this.reply(ev, xml('query', NS.DISCO_INFO, {},
        xml('identity', NS.DISCO_INFO, { category: 'conference', type: 'text', name: this.ctx.o.name }),
        ...[NS.DISCO_INFO, NS.DISCO_ITEMS, NS_MUC, 'urn:xmpp:ping', 'urn:xmpp:occupant-id:0'].map((f) => xml('feature', NS.DISCO_INFO, { var: f }))));
    }
    if (s.attrs.type === 'get' && q?.name === 'query' && q.xmlns === NS.DISCO_ITEMS && !q.attrs.node) {
      const items = this.ctx.publicRooms ? await this.ctx.publicRooms()
        : [...this.ctx.rooms.values()].filter((r) => r.config.public && !r.locked && !r.destroyed).map((r) => ({ node: r.node, name: r.config.name || r.node }));
      return this.reply(ev, xml('query', NS.DISCO_ITEMS, {}, ...items.slice(0, MAX_ITEMS).map((r) => xml('item', NS.DISCO_ITEMS, { jid: `${r.node}@${this.ctx.domain}`, name: r.name }))));
    }
    if (s.attrs.type === 'get' && q?.name === 'ping' && q.xmlns === NS.PING) return this.reply(ev);
    throw new StanzaError('service-unavailable');
  }

  private async roomIq(ev: StanzaEvent, room: Room): Promise<void> {
    const { ctx } = this;
    const s = ev.stanza;
    if (s.attrs.type !== 'get' && s.attrs.type !== 'set') return;
    const q = s.elements()[0];
    if (!q) throw new StanzaError('bad-request');
    const bare = ev.from.bareString();
    const aff = affiliationOf(ctx, room, bare);
    if (room.locked && aff !== 'owner') throw new StanzaError('item-not-found', 'no such room');
    if (s.attrs.type === 'get' && q.name === 'query' && q.xmlns === NS.DISCO_INFO) {
      if (q.attrs.node === 'x-roomuser-item') {
        // §7.12: the requester's reserved nickname (§7.10 registration), else an empty query.
        const nick = room.affiliations.get(bare)?.nick;
        return this.reply(ev, xml('query', NS.DISCO_INFO, { node: 'x-roomuser-item' }, nick ? xml('identity', NS.DISCO_INFO, { category: 'conference', type: 'text', name: nick }) : undefined));
      }
      if (q.attrs.node) throw new StanzaError('item-not-found');
      return this.reply(ev, xml('query', NS.DISCO_INFO, {},
        xml('identity', NS.DISCO_INFO, { category: 'conference', type: 'text', name: room.config.name || room.node }),
        ...[NS.DISCO_INFO, ...roomFeatures(room.config), ...(hasArchive(ctx, room) ? [NS_MAM, NS_SID] : []),
          ...(ctx.o.registration ? [NS_REGISTER, NS_MUC_REGISTER] : [])].map((f) => xml('feature', NS.DISCO_INFO, { var: f })),
        roomInfoForm(room.config, room.occupants.size, room.subject.text)));
    }
    if (s.attrs.type === 'get' && q.name === 'query' && q.xmlns === NS.DISCO_ITEMS) {
      // §6.5: occupants are listed only where real JIDs are not hidden from the requester anyway.
      const open = room.config.whois === 'anyone' && room.byReal.has(ev.from.toString());
      return this.reply(ev, xml('query', NS.DISCO_ITEMS, {}, ...(open ? [...room.occupants.keys()].slice(0, MAX_ITEMS).map((n) => xml('item', NS.DISCO_ITEMS, { jid: room.occupantJid(n) })) : [])));
    }
    if (q.name === 'query' && q.xmlns === NS_MUC_ADMIN) return this.reply(ev, await handleAdminIq(ctx, ev, room, q));
    if (q.name === 'query' && q.xmlns === NS_MUC_OWNER) return this.reply(ev, await handleOwnerIq(ctx, ev, room, q));
    if (s.attrs.type === 'get' && q.name === 'ping' && q.xmlns === NS.PING) return this.reply(ev);
    if (q.name === 'query' && q.xmlns === NS_REGISTER) return this.reply(ev, await handleRegisterIq(ctx, ev, room, q));
    if (q.name === 'query' && q.xmlns === NS_MAM) return this.reply(ev, await roomArchiveQuery(ctx, ev, room, q));
    throw new StanzaError('service-unavailable');
  }

  private async occupantIq(ev: StanzaEvent, room: Room): Promise<void> {
    const s = ev.stanza;
    const type = s.attrs.type;
    const from = ev.from.toString();
    if (type === 'result' || type === 'error') return this.forwardAnswer(ev, room);
    const me = room.byReal.get(from);
    const q = s.elements()[0];
    // XEP-0410 §3: the answer tells a client whether it is still joined.
    if (!me) throw new StanzaError('not-acceptable', 'you are not an occupant of this room');
    if (q?.name === 'ping' && q.xmlns === NS.PING && me.nick === ev.to.resource) return this.reply(ev);
    const target = room.occupants.get(ev.to.resource);
    if (!target) throw new StanzaError('item-not-found', 'no such occupant');
    // Forward to the target's most recent session under a fresh id, from the sender's occupant JID.
    const real = [...target.sessions.keys()].pop()!;
    if (this.forwarded.size >= 10_000) throw new StanzaError('resource-constraint', 'too many pending requests', 'wait');
    const id = `mucfwd-${++this.seq}`;
    const key = `${real}|${id}`;
    const timer = setTimeout(() => this.forwarded.delete(key), 60_000);
    timer.unref();
    this.forwarded.set(key, { from, id: s.attrs.id ?? '', targetNick: target.nick, node: room.node, timer });
    const out = new Element('iq', s.xmlns, { type, id, from: room.occupantJid(me.nick), to: real });
    out.children = s.children;
    await this.ctx.api.send(out);
  }

  private async forwardAnswer(ev: StanzaEvent, room: Room): Promise<void> {
    const key = `${ev.from.toString()}|${ev.stanza.attrs.id}`;
    const f = this.forwarded.get(key);
    if (!f || f.node !== room.node) return;
    this.forwarded.delete(key);
    clearTimeout(f.timer);
    const out = new Element('iq', ev.stanza.xmlns, { type: ev.stanza.attrs.type, id: f.id, from: room.occupantJid(f.targetNick), to: f.from });
    out.children = ev.stanza.children;
    await this.ctx.api.send(out);
  }

  /** Ghosts (§7.2 notes): a real session that closed or went unavailable leaves every room it was in. */
  async sessionGone(real: string, index: Map<string, Set<Room>>, leave: (room: Room, real: string) => Promise<void>): Promise<void> {
    const rooms = index.get(real);
    if (!rooms) return;
    for (const room of [...rooms]) await room.run(() => leave(room, real));
  }

  clear(): void { for (const f of this.forwarded.values()) clearTimeout(f.timer); this.forwarded.clear(); }
}
