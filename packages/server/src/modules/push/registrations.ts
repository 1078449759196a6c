// The push services a user enabled (XEP-0357 §5–§6), one map entry per (service JID, node):
// "MAY be enabled multiple times … only if different node values are provided", and a repeated
// enable replaces the publish options. Each entry remembers the resource that enabled it, so a
// message waiting for that device's suspended stream (XEP-0198) wakes that device's app only.

import type { MapStore } from '../../storage/storage.js';

export interface Registration {
  jid: string;
  node: string;
  /** Serialised publish-options data form (XEP-0357 §5 "additional information"), if given. */
  options?: string;
  /** The resource whose session enabled it. */
  resource: string;
  enabledAt: number;
  /** Consecutive publish errors (XEP-0357 §7.1). */
  errors: number;
}

const STORE = 'push';
const key = (jid: string, node: string): string => `${jid}\u0000${node}`;

export class Registrations {
  constructor(private readonly map: MapStore) {}

  async list(host: string, user: string): Promise<Registration[]> {
    return [...(await this.map.getAll<Registration & Record<string, never>>(host, user, STORE)).values()];
  }

  async enable(host: string, user: string, r: Registration): Promise<void> {
    await this.map.set(host, user, STORE, key(r.jid, r.node), r as never);
  }

  /** Remove one (jid, node) or, without node, every node of that service (§6). Returns how many. */
  async disable(host: string, user: string, jid: string, node?: string): Promise<number> {
    const gone = (await this.list(host, user)).filter((r) => r.jid === jid && (node === undefined || r.node === node));
    if (gone.length) await this.map.setMany(host, user, STORE, gone.map((r) => [key(r.jid, r.node), undefined]));
    return gone.length;
  }

  async update(host: string, user: string, r: Registration): Promise<void> {
    await this.map.set(host, user, STORE, key(r.jid, r.node), r as never);
  }
}
