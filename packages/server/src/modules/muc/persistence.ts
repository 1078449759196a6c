// Durable rooms (XEP-0045 §10.2 muc#roomconfig_persistentroom): a persistent room's
// configuration, affiliations, subject and occupant-id secret are one JSON document in the map
// store (host = service domain, store 'muc_rooms', key = room node), so SQLite and PostgreSQL
// work unchanged; persistent rooms are loaded back when the service starts. Groupchat messages
// of rooms with logging on go to the archive store (host = service domain, user = room node,
// store 'muc') in a form a XEP-0313 room archive can serve later.

import type { MapStore, ArchiveStore, Json } from '../../storage/storage.js';
import { JID } from '@magpie/core/jid/jid';
import type { Element } from '@magpie/core/xml/element';
import { Room, type AffiliationRecord } from './room.js';
import type { ConfigLimits, RoomConfig } from './config.js';
import { defaultConfig } from './config.js';

const STORE = 'muc_rooms';
export const ARCHIVE_STORE = 'muc';

interface StoredRoom {
  v: 1;
  config: RoomConfig;
  affiliations: [string, AffiliationRecord][];
  subject: { text: string; by: string; when: number };
  secret: string;
  createdAt: number;
}

export class RoomStore {
  constructor(private readonly map: MapStore, private readonly archive: ArchiveStore, private readonly domain: string) {}

  async save(room: Room): Promise<void> {
    if (!room.config.persistent || room.destroyed) { await this.map.set(this.domain, '', STORE, room.node, undefined); return; }
    const doc: StoredRoom = {
      v: 1, config: room.config, affiliations: [...room.affiliations], subject: room.subject,
      secret: room.secret, createdAt: room.createdAt,
    };
    await this.map.set(this.domain, '', STORE, room.node, doc as unknown as Json);
  }

  async remove(room: Room): Promise<void> { await this.map.set(this.domain, '', STORE, room.node, undefined); }

  async loadAll(limits: ConfigLimits): Promise<Room[]> {
    const out: Room[] = [];
    for (const [node, raw] of await this.map.getAll<Json>(this.domain, '', STORE)) {
      const room = this.fromDoc(node, raw, limits);
      if (room) out.push(room);
    }
    return out;
  }

  /** One persistent room (cluster mode loads a room when this node takes it over). */
  async load(node: string, limits: ConfigLimits): Promise<Room | undefined> {
    const raw = await this.map.get<Json>(this.domain, '', STORE, node);
    return raw === undefined ? undefined : this.fromDoc(node, raw, limits);
  }

  private fromDoc(node: string, raw: Json, limits: ConfigLimits): Room | undefined {
    const doc = raw as unknown as StoredRoom;
    const jid = JID.tryParse(`${node}@${this.domain}`);
    if (!jid || doc?.v !== 1) return undefined;
    // Fields added later get their defaults; limits lowered since are applied.
    const config: RoomConfig = { ...defaultConfig(limits, node), ...doc.config };
    config.maxUsers = Math.min(config.maxUsers, limits.maxUsersLimit);
    config.historyLength = Math.min(config.historyLength, limits.maxHistory);
    const room = new Room(jid, config, { secret: doc.secret, createdAt: doc.createdAt });
    for (const [j, rec] of doc.affiliations) room.affiliations.set(j, rec);
    room.subject = doc.subject ?? room.subject;
    return room;
  }

  /** Returns the archive id (the stanza-id of XEP-0359). */
  async append(room: Room, stanza: Element, when: number, sender: string): Promise<string> {
    return this.archive.append(this.domain, room.node, ARCHIVE_STORE, {
      when, with: sender, payload: stanza.toString(), meta: { type: 'groupchat', nick: stanza.attrs.from?.slice(room.address.length + 1) ?? '' },
    });
  }
}
