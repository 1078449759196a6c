// Persistence of one PubSub service (a PEP account or a service domain) on the generic map
// store: node records (configuration, affiliations, subscriptions) in 'pubsub' keyed by node
// name, and each node's items in 'pubsub-items:<node>' keyed by item id. Node records are small
// and read whole when the service is first used; items are read per node when first needed.
// Nodes configured with persist_items=false keep their items in memory only (XEP-0060 §16.4.4).
// Pending subscription requests (§6.1.4, access model 'authorize') and subscription options
// (§6.3) live in the node record too; records written before they existed lack both fields,
// which then mean "none pending" and "every subscription has the default options".

import type { MapStore } from '../../storage/storage.js';
import type { NodeConfig } from './node-config.js';

export type Affiliation = 'owner' | 'publisher' | 'publish-only' | 'member' | 'none' | 'outcast';
export const AFFILIATIONS: readonly Affiliation[] = ['owner', 'publisher', 'publish-only', 'member', 'none', 'outcast'];

export interface NodeRecord {
  config: NodeConfig;
  /** Bare JID → affiliation (absent = none). */
  affiliations: Record<string, Affiliation>;
  /** Subscribed JID (as given: bare or full) → subscription id. */
  subscriptions: Record<string, string>;
  /** Subscription requests awaiting an owner's decision (§8.6): JID → subscription id. */
  pending?: Record<string, string>;
  /** Options of a subscription or pending request (§6.3), only where not the defaults. */
  subOptions?: Record<string, SubOptions>;
  created: number;
}

/** The subscribe options this service honours (the pubsub#subscribe_options FORM_TYPE). */
export interface SubOptions {
  /** pubsub#deliver: false silences the subscription's event notifications. */
  deliver: boolean;
  /** pubsub#show-values: deliver only while the subscriber's show is one of these; [] = always. */
  show: string[];
}

export interface Item {
  id: string;
  /** The serialised payload element ('' for a notification-only item). */
  payload: string;
  /** Full JID of the publisher. */
  publisher: string;
  /** Publication order within the node. */
  seq: number;
  t: number;
}

const NODES = 'pubsub';
const itemsStore = (node: string): string => `pubsub-items:${node}`;

export class NodeStore {
  constructor(private map: MapStore, readonly host: string, readonly user: string) {}

  async nodes(): Promise<Map<string, NodeRecord>> {
    return this.map.getAll(this.host, this.user, NODES) as unknown as Promise<Map<string, NodeRecord>>;
  }
  async saveNode(name: string, rec: NodeRecord | undefined): Promise<void> {
    await this.map.set(this.host, this.user, NODES, name, rec as never);
  }
  async items(node: string): Promise<Item[]> {
    const all = await this.map.getAll(this.host, this.user, itemsStore(node)) as unknown as Map<string, Item>;
    return [...all.values()].sort((a, b) => a.seq - b.seq);
  }
  /** Store `put` and delete `drop` (item ids) atomically. */
  async changeItems(node: string, put: Item[], drop: string[]): Promise<void> {
    const entries: [string, never | undefined][] = [...drop.map((id) => [id, undefined] as [string, undefined]), ...put.map((i) => [i.id, i as never] as [string, never])];
    if (entries.length) await this.map.setMany(this.host, this.user, itemsStore(node), entries);
  }
  async clearItems(node: string): Promise<void> {
    await this.map.clear(this.host, this.user, itemsStore(node));
  }
}
