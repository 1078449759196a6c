// Multi-User Chat (XEP-0045 1.35) as a service on conference.<host> (configurable per host),
// with occupant ids (XEP-0421) and self-ping (XEP-0410). This file wires the parts: one
// MucService per hosted domain claiming `route/component` for its domain (like http-upload),
// the server's disco#items entry, persistent rooms loaded at start, ghost removal when a local
// session closes or goes unavailable, and 332 "system shutdown" when the server stops.
// In a cluster (the server provides OWNED_KEYS_SERVICE) each room lives on one owning node:
// room-ownership.ts routes room stanzas there, takes rooms of dead nodes over, and hands this
// node's rooms over when it stops; rooms are loaded when claimed, not at start.
// Parts: room.ts (state), roles.ts, config.ts (+ forms.ts), presence.ts, messages.ts,
// admin.ts, owner.ts, register.ts, history.ts, persistence.ts, service.ts, broadcast.ts.

import { defineModule } from '../module.js';
import { MucOptionsSchema } from './options.js';
import type { MucContext } from './context.js';
import type { Room } from './room.js';
import { RoomStore } from './persistence.js';
import { MucService } from './service.js';
import { leave } from './presence.js';
import { removeOccupant } from './broadcast.js';
import { JID } from '@magpie/core/jid/jid';
import { OWNED_KEYS_SERVICE, type OwnedKeysProvider } from '../owned-keys.js';
import { RoomOwnership } from './room-ownership.js';

export default defineModule({
  manifest: {
    name: 'muc',
    description: 'Multi-user chat rooms on conference.<host>',
    specs: [
      { spec: 'XEP-0045', version: '1.35', status: 'partial', notes: 'rooms with roles, affiliations, configuration, history, subjects, private messages, mediated invitations, voice requests, admin and owner use cases, persistent rooms in the map store, registration with rooms (§7.10: the registered nick is reserved, registration makes an unaffiliated user a member at once — no approval of registration requests by admins —, members-only and moderated rooms only when their owner allows it) and reserved-nick discovery (§7.12); discussion history is kept in memory (the room archive is durable); in a cluster each room lives on one owning node, moves to another node when its owner dies or stops (occupants on other nodes stay; the discussion history moves too, mirrored in Redis, except what a dying owner had not yet written, at most its last event-loop turn)' },
      { spec: 'XEP-0313', version: '1.1.3', status: 'complete', notes: '§6 room archives: groupchat of rooms with logging on, stamped with a stanza-id by the room, queried on the room JID through the mam module\'s engine; readable by anyone not banned in public open rooms, by members and occupants otherwise' },
      { spec: 'XEP-0421', version: '0.2', status: 'complete', notes: 'HMAC-SHA-256 of the real bare JID under a per-room secret' },
      { spec: 'XEP-0410', version: '1.1', status: 'complete', notes: 'self-pings answered by the service (muc#self-ping-optimization); other iqs to occupants are forwarded' },
    ],
    options: MucOptionsSchema,
    defaultEnabled: true,
  },
  async setup(api) {
    const o = api.options;
    const limits = {
      defaultMaxUsers: Math.min(o.defaultMaxUsers, o.maxUsersLimit), maxUsersLimit: o.maxUsersLimit,
      defaultHistory: Math.min(o.defaultHistory, o.maxHistory), maxHistory: o.maxHistory, allowLogging: o.allowLogging, registration: o.registration,
    };
    const admins = new Set(o.admins.map((j) => JID.parse(j).bareString()));
    const services = new Map<string, { ctx: MucContext; svc: MucService; cluster: RoomOwnership | undefined }>();
    const owned = api.service<OwnedKeysProvider>(OWNED_KEYS_SERVICE);
    const joined = new Map<string, Set<Room>>();
    const roomsGauge = api.metric('rooms');
    const messages = api.metric('groupchat_messages');

    for (const host of api.hosts()) {
      const domain = o.domain.replaceAll('{host}', host);
      if (api.isLocalHost(domain)) throw new Error(`muc: the service domain ${domain} is a hosted domain`);
      const store = new RoomStore(api.stores.map, api.stores.archive, domain);
      const rooms = new Map<string, Room>();
      let cluster: RoomOwnership | undefined;
      const ctx: MucContext = {
        api, o, limits, domain, host, rooms, joined,
        isServiceAdmin: (bare) => admins.has(bare),
        save: (room) => store.save(room),
        forget: async (room) => {
          if (rooms.get(room.node) === room) rooms.delete(room.node);
          await store.remove(room);
          await cluster?.release(room);
          roomsGauge.set(rooms.size);
        },
        archive: async (room, stanza, when, sender) => {
          messages.inc();
          return room.config.logging ? store.append(room, stanza, when, sender) : undefined;
        },
      };
      const svc = new MucService(ctx);
      if (owned) {
        cluster = new RoomOwnership(ctx, svc, store, owned);
        const c = cluster;
        ctx.publicRooms = () => c.publicRooms();
        ctx.remembered = (room, stanza, when) => c.remembered(room, stanza, when);
        ctx.historyResized = (room) => c.historyResized(room);
      } else {
        for (const room of await store.loadAll(limits)) { room.index = joined; rooms.set(room.node, room); }
        if (rooms.size) api.log.info({ domain, rooms: rooms.size }, 'persistent rooms loaded');
      }
      services.set(domain, { ctx, svc, cluster });
      api.serveDomain(domain);
      api.discoItem((h) => (h === host ? { jid: domain, name: o.name } : undefined));
    }

    api.hook('route/component', async (ev) => {
      const s = services.get(ev.to.domain);
      if (!s) return undefined;
      await (s.cluster ? s.cluster.route(ev) : s.svc.dispatch(ev));
      roomsGauge.set(s.ctx.rooms.size);
      return true;
    });

    // Ghosts: a session that closed or went unavailable leaves every room it was in (code 333).
    const gone = async (real: string): Promise<void> => {
      for (const { ctx, svc, cluster } of services.values()) {
        await svc.sessionGone(real, joined, async (room, r) => {
          const occ = room.byReal.get(r);
          if (occ && room.jid.domain === ctx.domain) { await leave(ctx, room, occ, r, { ghost: true }); cluster?.mirror(room); }
        });
      }
    };
    api.hook('session/closed', async ({ session }) => { await gone(session.jid.toString()); return undefined; });
    api.hook('session/unavailable', async ({ session }) => { await gone(session.jid.toString()); return undefined; });
    // Cluster: occupants whose sessions were on another node (closed, unavailable, node died).
    if (owned) api.hook('session/remote-ended', async ({ jid }) => { await gone(jid); return undefined; });

    // §15.4.2 code 332: occupants learn the service is going down.
    api.hook('server/stopping', async () => {
      for (const { ctx, cluster } of services.values()) {
        if (cluster) { await cluster.handOver(); continue; }
        for (const room of ctx.rooms.values()) {
          await room.run(async () => { for (const occ of [...room.occupants.values()]) await removeOccupant(ctx, room, occ, { codes: [332] }); });
        }
      }
      return undefined;
    });
    api.onUnload(() => { for (const { svc } of services.values()) svc.clear(); });
  },
});
