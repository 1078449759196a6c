// The roster as stored (RFC 6121 §2): one map entry per contact (store 'roster', key = the
// contact's bare JID), the roster version in the key-value store (§2.6), and the inbound
// subscription requests awaiting an answer (store 'roster-pending', §3.1.3: kept apart from
// the items because a pending request must not create a roster item).
//
// Every change runs under a per-account lock (`lock`): roster sets from several resources and
// subscription stanzas from contacts are read-modify-write sequences that must not interleave.
// The lock is the storage's (api.stores.lock), so it holds across cluster nodes too: items are
// rows and would survive concurrent writers, but the version counter (kv) would not — two nodes
// bumping it at once would hand out one version for two different rosters (§2.6).
// Inside the lock the version is bumped BEFORE the item is written: a crash in between leaves
// a newer version over unchanged items (a client refetches; harmless), never changed items
// under an old version (a client would keep a stale roster). Pushes follow the write.
//
// The presence module (depends: ['roster']) uses the wider RosterManager interface; other
// modules see only RosterService (im-services/services.ts).

import { randomBytes } from 'node:crypto';
import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import type { RosterItem, RosterService } from '../im-services/services.js';
import type { ScopedStores } from '../module.js';
import type { SessionRegistry } from '../../session/registry.js';
import type { Json } from '../../storage/storage.js';
import { NS_ROSTER, itemElement, queryElement, removedElement } from './roster-xml.js';

export const STORE_ITEMS = 'roster';
export const STORE_PENDING = 'roster-pending';
const STORE_VERSION = 'roster';

/** The version record: `epoch` is random per record, so an account deleted and created again
    never reuses a version its predecessor handed out. */
interface VersionRecord { epoch: string; n: number; [k: string]: Json }

/** The version of a roster that was never changed (and is therefore empty). */
export const EMPTY_VERSION = '0';

export interface RosterManager extends RosterService {
  readonly maxItems: number;
  /** Run `fn` with the account's roster to itself. Never route stanzas inside: the peer's
      processing may need this lock (send what you collected after it returns). */
  lock<T>(host: string, user: string, fn: () => Promise<T>): Promise<T>;
  version(host: string, user: string): Promise<string>;
  count(host: string, user: string): Promise<number>;
  /** Store (or delete, with undefined) the item for `contact`, bump the version, push. Locked callers only. */
  write(host: string, user: string, contact: string, item: RosterItem | undefined): Promise<string>;
  /** The stored inbound subscription request of `contact` (serialised presence), if any. */
  pendingFor(host: string, user: string, contact: string): Promise<string | undefined>;
  pending(host: string, user: string): Promise<Map<string, string>>;
  setPending(host: string, user: string, contact: string, stanza: string | undefined): Promise<void>;
}

export class RosterStore implements RosterManager {
  private seq = 0;

  constructor(private readonly stores: ScopedStores, private readonly sessions: SessionRegistry, readonly maxItems: number) {}

  // --- RosterService ---------------------------------------------------------------------------

  async get(host: string, user: string, contact: string): Promise<RosterItem | undefined> {
    return normalise(await this.stores.map.get<Json>(host, user, STORE_ITEMS, contact));
  }

  async all(host: string, user: string): Promise<RosterItem[]> {
    const m = await this.stores.map.getAll<Json>(host, user, STORE_ITEMS);
    const out: RosterItem[] = [];
    for (const v of m.values()) { const it = normalise(v); if (it) out.push(it); }
    return out;
  }

  async hasFrom(host: string, user: string, contact: string): Promise<boolean> {
    const s = (await this.get(host, user, contact))?.subscription;
    return s === 'from' || s === 'both';
  }

  async hasTo(host: string, user: string, contact: string): Promise<boolean> {
    const s = (await this.get(host, user, contact))?.subscription;
    return s === 'to' || s === 'both';
  }

  // --- RosterManager ---------------------------------------------------------------------------

  lock<T>(host: string, user: string, fn: () => Promise<T>): Promise<T> {
    return this.stores.lock(host, user, fn);
  }

  async version(host: string, user: string): Promise<string> {
    const r = await this.stores.raw.kv.get<VersionRecord>(host, user, STORE_VERSION);
    return r ? `${r.epoch}-${r.n}` : EMPTY_VERSION;
  }

  async count(host: string, user: string): Promise<number> {
    return (await this.stores.map.getAll(host, user, STORE_ITEMS)).size;
  }

  async write(host: string, user: string, contact: string, item: RosterItem | undefined): Promise<string> {
    const ver = await this.bump(host, user);
    await this.stores.map.set(host, user, STORE_ITEMS, contact, item ? toJson(item) : undefined);
    this.push(host, user, item ? itemElement(item) : removedElement(contact), ver);
    return ver;
  }

  async pendingFor(host: string, user: string, contact: string): Promise<string | undefined> {
    const v = await this.stores.map.get<Json>(host, user, STORE_PENDING, contact);
    return typeof v === 'string' ? v : undefined;
  }

  async pending(host: string, user: string): Promise<Map<string, string>> {
    const m = await this.stores.map.getAll<Json>(host, user, STORE_PENDING);
    const out = new Map<string, string>();
    for (const [k, v] of m) if (typeof v === 'string') out.set(k, v);
    return out;
  }

  setPending(host: string, user: string, contact: string, stanza: string | undefined): Promise<void> {
    return this.stores.map.set(host, user, STORE_PENDING, contact, stanza);
  }

  // --- internals -------------------------------------------------------------------------------

  /** The next version: a counter that survives restarts (kv), never equal to EMPTY_VERSION. */
  private async bump(host: string, user: string): Promise<string> {
    const kv = this.stores.raw.kv;
    const r = await kv.get<VersionRecord>(host, user, STORE_VERSION);
    const next: VersionRecord = r ? { epoch: r.epoch, n: r.n + 1 } : { epoch: randomBytes(4).toString('hex'), n: 1 };
    await kv.set(host, user, STORE_VERSION, next);
    return `${next.epoch}-${next.n}`;
  }

  /** A roster push (§2.1.6) to every interested resource, from the account's bare JID. */
  private push(host: string, user: string, item: Element, ver: string): void {
    const bare = `${user}@${host}`;
    for (const s of this.sessions.resources(bare)) {
      if (!s.interested) continue;
      s.send(xml('iq', NS.CLIENT, { type: 'set', id: `push-${(++this.seq).toString(36)}-${randomBytes(3).toString('hex')}`, from: bare, to: s.jid.toString() },
        queryElement([item.clone()], ver)));
    }
  }
}

function toJson(item: RosterItem): Json {
  const o: { [k: string]: Json } = { jid: item.jid, subscription: item.subscription, groups: [...item.groups] };
  if (item.name !== undefined) o.name = item.name;
  if (item.ask) o.ask = item.ask;
  if (item.approved) o.approved = true;
  return o;
}

/** A stored value back to a RosterItem (tolerant of missing fields). */
function normalise(v: Json | undefined): RosterItem | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v) || typeof v.jid !== 'string') return undefined;
  const sub = v.subscription;
  const item: RosterItem = {
    jid: v.jid,
    subscription: sub === 'to' || sub === 'from' || sub === 'both' ? sub : 'none',
    groups: Array.isArray(v.groups) ? v.groups.filter((g): g is string => typeof g === 'string') : [],
  };
  if (typeof v.name === 'string') item.name = v.name;
  if (v.ask === 'subscribe') item.ask = 'subscribe';
  if (v.approved === true) item.approved = true;
  return item;
}

export { NS_ROSTER };
