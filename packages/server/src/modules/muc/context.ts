// What every part of the MUC service shares: the module api and options, the service domain
// and its rooms, the effective affiliation of a real JID (service admins act as owners of
// every room), and the side effects (sending, persisting, archiving) the parts request.

import type { Element } from '@magpie/core/xml/element';
import type { ModuleApi } from '../module.js';
import type { ConfigLimits } from './config.js';
import type { Room } from './room.js';
import type { Affiliation } from './roles.js';
import type { MucOptions } from './options.js';

export interface MucContext {
  api: ModuleApi<MucOptions>;
  o: MucOptions;
  limits: ConfigLimits;
  /** The service domain (conference.<host>) and the hosted domain it belongs to. */
  domain: string;
  host: string;
  rooms: Map<string, Room>;
  /** Real full JID → the rooms it is in (Room.index). */
  joined: Map<string, Set<Room>>;
  isServiceAdmin(bare: string): boolean;
  /** Persist a persistent room's configuration and affiliations (no-op for temporary rooms). */
  save(room: Room): Promise<void>;
  /** Forget a room: out of memory and out of storage. */
  forget(room: Room): Promise<void>;
  /** Append a groupchat message to the room's archive when logging is on. */
  archive(room: Room, stanza: Element, when: number, sender: string): Promise<string | undefined>;
  /** Cluster mode: a groupchat message joined the room's history (history.ts remember), so the
      owner adds it to the room's log in Redis; a single node keeps history in memory only. */
  remembered?(room: Room, stanza: Element, when: number): void;
  /** Cluster mode: the room's history length changed (history cut in memory, so in the log too). */
  historyResized?(room: Room): void;
  /** Cluster mode: the public rooms of every node (disco#items); else ctx.rooms is all there is. */
  publicRooms?(): Promise<{ node: string; name: string }[]>;
}

export function affiliationOf(ctx: MucContext, room: Room, bare: string): Affiliation {
  if (ctx.isServiceAdmin(bare)) return 'owner';
  return room.affiliation(bare);
}
