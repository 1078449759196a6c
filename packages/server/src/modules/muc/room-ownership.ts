// MUC rooms in a cluster (issue #8: "MUC rooms (one node owns a room at a time, ownership moves
// when that node dies)"; XEP-0045 semantics unchanged). Used only when the server provides the
// OWNED_KEYS_SERVICE (cluster mode); a single node never loads this path.
//
// A room lives in the memory of exactly one node, its owner, recorded in Redis. A stanza for a
// room or an occupant JID that reaches another node is carried to the owner and handled there as
// if it had arrived there; a room nobody owns is claimed by the node its stanza reached (one
// winner when two nodes race for a new room), which loads it: from the owner's Redis snapshot
// when a previous owner died or handed it over (occupants included, so they stay in the room
// without rejoining; discussion history from the room's log beside it), else from storage
// (persistent rooms), else it does not exist yet. After loading a snapshot, occupants whose
// sessions are gone (they were on the dead node) leave with status 333. The owner writes the
// snapshot after every stanza that may change the room (presence, admin/owner iqs, subject
// changes, invitations; not plain groupchat), appends each groupchat message history.ts
// remembers to the room's log (capped at muc#roomconfig_historylength, §7.2.15; one Redis write
// per room and event-loop turn, never awaited by the fan-out; the messages of a dead owner's
// last turn may be missing), and gives the claim up when the room is gone (snapshot and log go
// with it; a handover leaves both). Each room's stanzas pass one at a time on each node (chain),
// so forwarded stanzas keep their order. Service-level stanzas (disco on the service) are
// answered on any node; its list of public rooms joins storage (persistent rooms) and the
// Redis directory the owners keep (temporary rooms).

import { StanzaError } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import type { StanzaEvent } from '../../hooks/events.js';
import type { OwnedKeys, OwnedKeysProvider } from '../owned-keys.js';
import type { MucContext } from './context.js';
import type { Room } from './room.js';
import type { RoomStore } from './persistence.js';
import type { MucService } from './service.js';
import { leave } from './presence.js';
import { removeOccupant } from './broadcast.js';
import { restoreRoom, snapshotRoom } from './room-snapshot.js';
import { decodeHistory, encodeHistory } from './history.js';
import type { Element } from '@magpie/core/xml/element';

/** Tries to reach a room's owner when claims move under a stanza (owner died, claim cleared). */
const ATTEMPTS = 3;

export class RoomOwnership {
  private readonly keys: OwnedKeys;
  private readonly chains = new Map<string, Promise<unknown>>();
  private stopping = false;

  constructor(private readonly ctx: MucContext, private readonly svc: MucService, private readonly store: RoomStore, provider: OwnedKeysProvider) {
    this.keys = provider.namespace(`muc:${ctx.domain}`, {
      stanza: (ev, hop) => this.route(ev, hop),
      orphaned: (rooms) => this.takeOver(rooms),
      lost: async (rooms) => { for (const node of rooms) this.drop(node); },
      reclaimed: async (rooms) => { for (const node of rooms) { const r = ctx.rooms.get(node); if (r) { this.mirror(r); this.mirrorHistory(r); } } },
    });
  }

  /** Every stanza to the service domain, from a local origin (hop 0) or carried from another node. */
  async route(ev: StanzaEvent, hop = 0): Promise<void> {
    const node = ev.to.local;
    if (!node) return this.svc.dispatch(ev);
    try {
      await this.chain(node, () => this.routeToOwner(ev, node, hop));
    } catch (e) {
      this.ctx.api.log.warn({ err: (e as Error).message, room: node }, 'muc: cannot reach the owner of a room');
      this.ctx.api.bounce(ev, new StanzaError('remote-server-timeout', 'the cluster node of this room cannot be reached'));
    }
  }

  private async routeToOwner(ev: StanzaEvent, node: string, hop: number): Promise<void> {
    const { ctx } = this;
    if (!ctx.rooms.has(node)) {
      if (this.stopping) return; // this node is leaving: it claims nothing any more
      let mine = false;
      for (let i = 0; i < ATTEMPTS && !mine; i++) {
        const owner = await this.keys.resolve(node);
        if (owner === this.keys.node) mine = true;
        else if (await this.keys.forward(owner, node, ev, hop + 1)) return;
      }
      if (!mine) { ctx.api.log.warn({ room: node }, 'muc: no node could take the room'); throw new Error('no owner'); }
      await this.adopt(node);
    }
    await this.svc.dispatch(ev);
    const room = ctx.rooms.get(node);
    if (!room) await this.keys.release(node); // no room came of it (an iq to a room that does not exist)
    else if (mayChange(ev)) this.mirror(room);
  }

  /** This node now owns `node`: load the room (snapshot and history log, else storage), drop
      vanished occupants. */
  private async adopt(node: string): Promise<void> {
    const { ctx } = this;
    const state = await this.keys.loadState(node);
    const snap = state ? restoreRoom(state, ctx.domain, node, ctx.limits, ctx.joined) : undefined;
    const room = snap ?? (await this.store.load(node, ctx.limits));
    if (!room) return;
    // The history the previous owner kept, cut to the room's current length; a log without a
    // snapshot belongs to no room this node knows (storage keeps no history): it starts anew.
    if (snap) room.history = decodeHistory(await this.keys.loadLog(node), room.config.historyLength);
    else this.keys.replaceLog(node, [], 0);
    room.index = ctx.joined;
    ctx.rooms.set(node, room);
    ctx.api.log.info({ room: room.address, occupants: room.occupants.size, from: state ? 'snapshot' : 'storage' }, 'muc: room taken over by this node');
    await room.run(async () => {
      for (const [real, occ] of [...room.sessions()]) {
        const jid = JID.tryParse(real);
        // Sessions of this server that no node has any more (remote servers' users are kept).
        if (jid && ctx.api.isLocalHost(jid.domain) && !ctx.api.sessions.get(real)) await leave(ctx, room, occ, real, { ghost: true });
      }
    });
    if (ctx.rooms.get(node) === room) this.mirror(room);
  }

  /** The rooms of a dead node, proactively: occupants on other nodes see the dead node's leave. */
  private async takeOver(rooms: string[]): Promise<void> {
    for (const node of rooms) {
      await this.chain(node, async () => {
        if (this.ctx.rooms.has(node) || this.stopping) return;
        if ((await this.keys.resolve(node)) !== this.keys.node) return;
        await this.adopt(node);
        if (!this.ctx.rooms.has(node)) await this.keys.release(node);
      });
    }
  }

  /** Another node owns `node` now (this one was cut off): forget this copy without a word. */
  private drop(node: string): void {
    const room = this.ctx.rooms.get(node);
    if (!room) return;
    for (const occ of [...room.occupants.values()]) room.removeOccupant(occ); // out of the ghost index
    this.ctx.rooms.delete(node);
    this.ctx.api.log.warn({ room: room.address }, 'muc: room claimed by another node during an outage; this copy is dropped');
  }

  /** Write the room's snapshot and its directory entry (after a change made on the owner). */
  mirror(room: Room): void {
    if (room.destroyed || this.ctx.rooms.get(room.node) !== room) return;
    const listed = room.config.public && !room.locked ? (room.config.name || room.node) : undefined;
    this.keys.saveState(room.node, snapshotRoom(room), listed);
  }

  /** A groupchat message joined the room's history: append it to the room's log. */
  remembered(room: Room, stanza: Element, when: number): void {
    if (room.destroyed || this.ctx.rooms.get(room.node) !== room) return;
    this.keys.appendLog(room.node, encodeHistory(stanza, when), room.config.historyLength);
  }

  /** muc#roomconfig_historylength changed: the log keeps what the memory keeps (none at 0). */
  historyResized(room: Room): void {
    if (room.destroyed || this.ctx.rooms.get(room.node) !== room) return;
    this.keys.trimLog(room.node, room.config.historyLength);
  }

  /** Write the whole history again (Redis may have lost it during an outage). */
  private mirrorHistory(room: Room): void {
    if (room.destroyed || this.ctx.rooms.get(room.node) !== room) return;
    this.keys.replaceLog(room.node, room.history.map((h) => encodeHistory(h.stanza, h.when)), room.config.historyLength);
  }

  /** The room is gone (destroyed, or temporary and empty): claim, snapshot, log and listing go. */
  release(room: Room): Promise<void> { return this.keys.release(room.node); }

  /** Public rooms of every node (disco#items on the service, XEP-0045 §6.3). */
  async publicRooms(): Promise<{ node: string; name: string }[]> {
    const out = new Map<string, string>();
    for (const r of await this.store.loadAll(this.ctx.limits)) if (r.config.public) out.set(r.node, r.config.name || r.node);
    for (const [node, name] of await this.keys.directory()) out.set(node, name);
    for (const r of this.ctx.rooms.values()) {
      if (r.config.public && !r.locked && !r.destroyed) out.set(r.node, r.config.name || r.node); else out.delete(r.node);
    }
    return [...out].map(([node, name]) => ({ node, name }));
  }

  /**
   * Clean stop of this node: its own users leave the rooms it owns (§15.4.2 code 332, as on a
   * single node), then each room is handed over with its snapshot: the next stanza for it,
   * on any node, continues it with the occupants of the other nodes.
   */
  async handOver(): Promise<void> {
    this.stopping = true;
    const { ctx } = this;
    for (const room of [...ctx.rooms.values()]) {
      await this.chain(room.node, () => room.run(async () => {
        for (const occ of [...room.occupants.values()]) {
          if ([...occ.sessions.keys()].some((real) => isLocalSession(ctx, real))) await removeOccupant(ctx, room, occ, { codes: [332] });
        }
        if (room.occupants.size === 0 && !room.config.persistent) { room.destroyed = true; await ctx.forget(room); return; }
        this.mirror(room);
        ctx.rooms.delete(room.node);
        await this.keys.release(room.node, true);
      }));
    }
  }

  /** One stanza of a room at a time on this node, in arrival order. */
  private chain<T>(node: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.chains.get(node) ?? Promise.resolve();
    const p = prev.then(fn, fn);
    const tail = p.catch(() => undefined);
    this.chains.set(node, tail);
    void tail.then(() => { if (this.chains.get(node) === tail) this.chains.delete(node); });
    return p;
  }
}

/** Stanzas after which the room may differ: all but plain groupchat and private messages. */
function mayChange(ev: StanzaEvent): boolean {
  const s = ev.stanza;
  if (s.name === 'iq') return !ev.to.resource;
  if (s.name !== 'message') return true;
  if (s.attrs.type === 'error') return true;
  if (ev.to.resource) return false;
  return s.attrs.type !== 'groupchat' || !!s.getChild('subject');
}

function isLocalSession(ctx: MucContext, real: string): boolean {
  const s = ctx.api.sessions.get(real);
  return !!s && (s as { remote?: boolean }).remote !== true;
}
