// The stored privacy model shared by the blocking (XEP-0191) and privacy (XEP-0016) modules:
// one map store 'privacy' per account, key `list:<name>` → the list's items, key `default` →
// the default list's name. Both protocols edit it through `update`, which runs under a
// per-account lock, writes every changed key in one atomic setMany, and then tells the
// listeners (pushes of both protocols, presence to contacts that stop or start seeing the user).
// Active lists (XEP-0016 §2.3) are per session and not stored: session.data 'privacy'.
//
// `decide` is the one judgement every filter uses: 'blocked' when the XEP-0191 blocklist
// matches (always in force, whatever list is active: a block "remains in force until the user
// unblocks", XEP-0191 §3.3), 'denied' when the list that applies (the session's active list,
// else the default list, XEP-0016 §2.2) denies, else undefined. Never between the user's own
// resources (XEP-0016 §2.1, XEP-0191 §5), nor for the user's own server (a domain JID we host:
// blocking it would cut the user off from the service itself).
//
// Lists are cached per account (LRU, `cacheSize`), so a stanza costs no database read; the
// cache is only coherent on one node (a cluster would invalidate on update).

import { JID } from '@magpie/core/jid/jid';
import type { MapStore, Json } from '../../storage/storage.js';
import type { ClientSession } from '../../session/session.js';
import type { SessionRegistry } from '../../session/registry.js';
import type { RosterItem, RosterService } from '../im-services/services.js';
import { blocklistOf, compile, evaluate, jidMatches, type CompiledItem, type PrivacyItem, type PrivacyState, type StanzaKind } from './privacy-rules.js';

export const PRIVACY_MODEL = 'privacy-model';
const STORE = 'privacy';
const LIST = 'list:';
const DEFAULT = 'default';

/** What the filters need, derived from a PrivacyState once per change. */
export interface Compiled {
  state: PrivacyState;
  lists: Map<string, CompiledItem[]>;
  /** The blocklist view, parsed. */
  blocked: JID[];
}

export interface PrivacyChange {
  host: string;
  user: string;
  before: Compiled;
  after: Compiled;
  /** Which protocol made the change (pushes of the other protocol go only to its users). */
  by: 'blocking' | 'privacy';
  /** The session whose active list changed, with its lists before and after. */
  active?: { session: ClientSession; before?: string; after?: string };
  /** The unblock-all command (XEP-0191 §3.5) rather than item removals. */
  unblockAll?: boolean;
}

export type Verdict = 'blocked' | 'denied' | undefined;

interface SessionPrivacy { active?: string; interested?: boolean }

export class PrivacyModel {
  private cache = new Map<string, Compiled>();
  private tails = new Map<string, Promise<unknown>>();
  private listeners: ((c: PrivacyChange) => Promise<void>)[] = [];

  constructor(
    private readonly map: MapStore,
    private readonly sessions: SessionRegistry,
    private readonly opts: { listName: string; cacheSize: number; isLocalHost(d: string): boolean; roster(): RosterService | undefined },
  ) {}

  get blockListName(): string { return this.opts.listName; }

  onChange(fn: (c: PrivacyChange) => Promise<void>): () => void {
    this.listeners.push(fn);
    return () => { this.listeners = this.listeners.filter((f) => f !== fn); };
  }

  async get(host: string, user: string): Promise<Compiled> {
    const key = `${user}@${host}`;
    const hit = this.cache.get(key);
    if (hit) { this.cache.delete(key); this.cache.set(key, hit); return hit; }
    const all = await this.map.getAll<Json>(host, user, STORE);
    const state: PrivacyState = { lists: new Map() };
    for (const [k, v] of all) {
      if (k.startsWith(LIST)) state.lists.set(k.slice(LIST.length), v as unknown as PrivacyItem[]);
      else if (k === DEFAULT && typeof v === 'string') state.default = v;
    }
    const c = this.compile(state);
    this.remember(key, c);
    return c;
  }

  /**
   * Change one account's lists: `fn` gets a copy of the state (a new Map; the item arrays are
   * shared with the cache: replace them, never mutate them) and returns the new state, or
   * undefined for "no change"; it may throw a StanzaError. Serialised per account.
   */
  async update(host: string, user: string, by: PrivacyChange['by'], fn: (s: PrivacyState) => PrivacyState | undefined | Promise<PrivacyState | undefined>, extra: Partial<PrivacyChange> = {}): Promise<PrivacyChange | undefined> {
    const change = await this.locked(`${user}@${host}`, async () => {
      const before = await this.get(host, user);
      const next = await fn({ lists: new Map(before.state.lists), default: before.state.default });
      if (!next) return undefined;
      const entries: [string, Json | undefined][] = [];
      for (const [name, items] of next.lists) if (before.state.lists.get(name) !== items) entries.push([LIST + name, items as unknown as Json]);
      for (const name of before.state.lists.keys()) if (!next.lists.has(name)) entries.push([LIST + name, undefined]);
      if (next.default !== before.state.default) entries.push([DEFAULT, next.default]);
      if (entries.length) await this.map.setMany(host, user, STORE, entries);
      const after = this.compile(next);
      this.remember(`${user}@${host}`, after);
      // A session whose active list no longer exists falls back to the default list.
      for (const s of this.sessions.resources(`${user}@${host}`)) {
        const a = this.active(s);
        if (a !== undefined && !next.lists.has(a)) this.setActive(s, undefined);
      }
      return { host, user, before, after, by, ...extra };
    });
    if (change) await this.notify(change);
    return change;
  }

  /** Tell the listeners that a session's active list changed (no stored change). */
  async activeChanged(session: ClientSession, before: string | undefined, by: PrivacyChange['by']): Promise<void> {
    const c = await this.get(session.host, session.username);
    await this.notify({ host: session.host, user: session.username, before: c, after: c, by, active: { session, before, after: this.active(session) } });
  }

  // Shared session state (session/shared-state.ts): a cluster node judging a stanza for a
  // resource on another node applies that resource's active list, and pushes reach it.
  active(s: ClientSession): string | undefined { return s.shared.get<SessionPrivacy>('privacy')?.active; }
  setActive(s: ClientSession, name: string | undefined): void { this.setSessionData(s, { active: name }); }
  /** The session has used jabber:iq:privacy (it is told about list changes made by blocking). */
  interested(s: ClientSession): boolean { return s.shared.get<SessionPrivacy>('privacy')?.interested === true; }
  markInterested(s: ClientSession): void { this.setSessionData(s, { interested: true }); }

  /** The blocklist view of the stored lists. */
  blocklist(c: Compiled): string[] { return blocklistOf(c.state.lists.get(this.opts.listName)); }

  /**
   * Judge communication between the account and `other` (see the header). `o.session` (the
   * receiving or sending resource) selects its active list; without it (the account as a
   * whole: an iq or subscription to the bare JID, a message with no resource to take it) the
   * default list applies. `o.list` overrides which list applies (null: none), and `o.compiled` which state
   * is judged (presence re-evaluation before and after a change).
   */
  async decide(host: string, user: string, other: JID, kind: StanzaKind | undefined, o: { session?: ClientSession; compiled?: Compiled; list?: string | null } = {}): Promise<Verdict> {
    if (other.local === user && other.domain === host) return undefined;
    if (other.isDomain && this.opts.isLocalHost(other.domain)) return undefined;
    const c = o.compiled ?? await this.get(host, user);
    for (const j of c.blocked) if (jidMatches(j, other)) return 'blocked';
    const name = o.list !== undefined ? o.list ?? undefined : this.applying(c, o.session);
    const items = name === undefined ? undefined : c.lists.get(name);
    if (!items || items.length === 0) return undefined;
    let contact: Promise<RosterItem | undefined> | undefined;
    const lookup = () => (contact ??= this.opts.roster()?.get(host, user, other.bareString()) ?? Promise.resolve(undefined));
    return (await evaluate(items, other, kind, lookup)) === 'deny' ? 'denied' : undefined;
  }

  /** The list that applies to a session (its active list, else the default), XEP-0016 §2.2. */
  applying(c: Compiled, session?: ClientSession): string | undefined {
    const a = session ? this.active(session) : undefined;
    return a !== undefined && c.lists.has(a) ? a : c.state.default;
  }

  /** Drop the cached lists of an account (deleted accounts). */
  forget(host: string, user: string): void { this.cache.delete(`${user}@${host}`); }

  private setSessionData(s: ClientSession, change: { active?: string | undefined; interested?: true }): void {
    const d: SessionPrivacy = { ...s.shared.get<SessionPrivacy>('privacy'), ...change };
    if (d.active === undefined) delete d.active;
    s.shared.set('privacy', d as { [k: string]: Json });
  }

  private compile(state: PrivacyState): Compiled {
    const lists = new Map<string, CompiledItem[]>();
    for (const [n, items] of state.lists) lists.set(n, compile(items));
    const blocked = blocklistOf(state.lists.get(this.opts.listName)).map((j) => JID.tryParse(j)).filter((j): j is JID => j !== undefined);
    return { state, lists, blocked };
  }

  private remember(key: string, c: Compiled): void {
    this.cache.delete(key);
    this.cache.set(key, c);
    while (this.cache.size > this.opts.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => {});
    this.tails.set(key, tail);
    try { return await run; } finally { if (this.tails.get(key) === tail) this.tails.delete(key); }
  }

  private async notify(c: PrivacyChange): Promise<void> {
    for (const l of this.listeners) await l(c);
  }
}
