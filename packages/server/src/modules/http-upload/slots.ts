// Upload slots and the files they became (XEP-0363 §4–§5), kept in the map store so both
// storage adapters hold them: one global map per service host (slot id → record) for the HTTP
// side, which knows only the id in the URL, and a per-user map (slot id → size) for quotas.

import { randomBytes } from 'node:crypto';
import type { MapStore } from '../../storage/storage.js';

export interface SlotRecord {
  owner: string;       // bare JID
  host: string;        // the owner's domain (quota map)
  user: string;        // the owner's localpart
  filename: string;
  size: number;
  contentType: string;
  created: number;     // ms
  uploaded: number;    // ms, 0 until the PUT completed
}

const SLOTS = 'upload-slots';
const FILES = 'upload-files';

export class Slots {
  constructor(private readonly map: MapStore, private readonly serviceHost: string) {}

  async create(rec: Omit<SlotRecord, 'created' | 'uploaded'>): Promise<string> {
    const id = randomBytes(18).toString('base64url');
    await this.map.set(this.serviceHost, '', SLOTS, id, { ...rec, created: Date.now(), uploaded: 0 });
    await this.map.set(rec.host, rec.user, FILES, id, rec.size);
    return id;
  }

  get(id: string): Promise<SlotRecord | undefined> {
    return this.map.get(this.serviceHost, '', SLOTS, id) as Promise<SlotRecord | undefined>;
  }

  async markUploaded(id: string, rec: SlotRecord): Promise<void> {
    await this.map.set(this.serviceHost, '', SLOTS, id, { ...rec, uploaded: Date.now() });
  }

  async remove(id: string, rec: SlotRecord): Promise<void> {
    await this.map.set(this.serviceHost, '', SLOTS, id, undefined);
    await this.map.set(rec.host, rec.user, FILES, id, undefined);
  }

  /** Bytes a user holds: uploaded files plus slots still open (a slot reserves its size). */
  async usage(host: string, user: string): Promise<{ bytes: number; count: number }> {
    const all = await this.map.getAll<number>(host, user, FILES);
    let bytes = 0;
    for (const v of all.values()) bytes += v;
    return { bytes, count: all.size };
  }

  async all(): Promise<Map<string, SlotRecord>> {
    return this.map.getAll(this.serviceHost, '', SLOTS) as unknown as Promise<Map<string, SlotRecord>>;
  }
}
