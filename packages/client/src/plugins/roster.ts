// The roster (RFC 6121 §2): fetch on every new session (not on resumption: the server kept
// sending pushes), versioning (§2.6: send the cached version, accept an empty result meaning
// "unchanged" and pushes carrying the new version), pushes (§2.1.6: only from our own account,
// answered with a result) and add/update/remove (§2.3-§2.5). The cache is pluggable so a web
// client can keep it in IndexedDB or localStorage.

import { xml, type Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { NS } from '@magpie/core/protocol/namespaces';
import type { Client } from '../client.js';
import { Emitter } from '../emitter.js';
import { XmppError } from '../errors.js';

export type Subscription = 'none' | 'to' | 'from' | 'both' | 'remove';
export interface RosterItem { jid: string; name: string | undefined; subscription: Subscription; ask: boolean; groups: string[] }
export interface RosterSnapshot { ver: string | undefined; items: RosterItem[] }
export interface RosterStore { load(): RosterSnapshot | undefined | Promise<RosterSnapshot | undefined>; save(s: RosterSnapshot): void | Promise<void> }

export interface RosterEvents {
  [k: string]: unknown[];
  /** The whole roster is (re)loaded. */
  loaded: [items: RosterItem[], fromCache: boolean];
  /** A push added or changed an item. */
  item: [item: RosterItem];
  removed: [jid: string];
}

export function parseItem(el: Element): RosterItem {
  return {
    jid: el.attr('jid') ?? '', name: el.attr('name'),
    subscription: (el.attr('subscription') ?? 'none') as Subscription, ask: el.attr('ask') === 'subscribe',
    groups: el.getChildren('group', NS.ROSTER).map((g) => g.text()),
  };
}

export class Roster extends Emitter<RosterEvents> {
  readonly items = new Map<string, RosterItem>();
  ver: string | undefined;
  /** Fetch automatically when a new session starts. Default true. */
  autoFetch = true;
  private store: RosterStore | undefined;

  constructor(private readonly client: Client) {
    super();
    client.on('online', ({ resumed }) => { if (!resumed && this.autoFetch) this.fetch().catch((e: Error) => client.emit('error', e)); });
    client.handleIq('set', NS.ROSTER, 'query', (iq) => this.onPush(iq));
  }

  /** Persist the roster between runs (versioning then saves the transfer). */
  useStore(store: RosterStore): void { this.store = store; }

  async fetch(): Promise<RosterItem[]> {
    if (this.ver === undefined && this.store) {
      const s = await this.store.load();
      if (s) { this.ver = s.ver; this.replace(s.items); }
    }
    const res = await this.client.iq('get', undefined, xml('query', NS.ROSTER, { ver: this.ver ?? (this.store ? '' : undefined) }));
    const q = res.getChild('query', NS.ROSTER);
    if (!q) {
      // §2.6.3: an empty result: the cached version is current.
      this.emit('loaded', [...this.items.values()], true);
      return [...this.items.values()];
    }
    this.ver = q.attr('ver');
    this.replace(q.getChildren('item', NS.ROSTER).map(parseItem));
    await this.save();
    this.emit('loaded', [...this.items.values()], false);
    return [...this.items.values()];
  }

  /** Add or update a contact (§2.3, §2.4); the server answers with a push. */
  async set(jid: string, o: { name?: string; groups?: string[] } = {}): Promise<void> {
    await this.client.iq('set', undefined, xml('query', NS.ROSTER, {},
      xml('item', NS.ROSTER, { jid, name: o.name }, ...(o.groups ?? []).map((g) => xml('group', NS.ROSTER, {}, g)))));
  }

  async remove(jid: string): Promise<void> {
    await this.client.iq('set', undefined, xml('query', NS.ROSTER, {}, xml('item', NS.ROSTER, { jid, subscription: 'remove' })));
  }

  private replace(items: RosterItem[]): void {
    this.items.clear();
    for (const i of items) if (i.jid) this.items.set(i.jid, i);
  }

  private async save(): Promise<void> {
    if (this.store) await this.store.save({ ver: this.ver, items: [...this.items.values()] });
  }

  private onPush(iq: Element): undefined {
    // §2.1.6: a push from anyone but our own account (or our server, no 'from') is ignored.
    const from = iq.attr('from');
    const own = this.client.jid;
    if (from !== undefined && (!own || JID.tryParse(from)?.toString() !== own.bareString())) throw XmppError.of('service-unavailable');
    const q = iq.getChild('query', NS.ROSTER)!;
    const items = q.getChildren('item', NS.ROSTER);
    if (items.length !== 1) throw XmppError.of('bad-request');
    const item = parseItem(items[0]!);
    if (q.attr('ver') !== undefined) this.ver = q.attr('ver');
    if (item.subscription === 'remove') { this.items.delete(item.jid); this.emit('removed', item.jid); }
    else { this.items.set(item.jid, item); this.emit('item', item); }
    void this.save();
    return undefined;
  }
}

export const roster = (client: Client): Roster => new Roster(client);
