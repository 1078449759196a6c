// The archive of each local account (XEP-0313 1.1 §3, XEP-0359 0.7): writing both sides of a
// one-to-one conversation, answering queries, and retention. The module (./mam.ts) wires this to
// hooks and iq handlers; tests and the benchmark reach it through the 'mam' service.
//
// Writes are behind the message (like a write-behind cache): archive() decides (preferences,
// roster), assigns the archive id and queues the row, and the message goes on at once with its
// stanza-id; queued rows are written in order, in one appendRows per turn. Waiting for
// each commit before delivering cost a commit per message per side (about 25x fewer messages/s
// on one stream with SQLite, bench/work/local-msgs.ts) for no gain to the recipient. Queries,
// purges and deletions wait for the rows queued before them, so what a client reads is always
// what it was sent. A row that cannot be written (storage down) is logged and counted
// ('mam.write_failed'); the message itself was delivered.
//
// Timestamps are the server's receipt time (§3 "when the message was sent (outgoing) or received
// (incoming)"); order is append order (§3.1), which the store keeps. Retention deletes the
// oldest items only (§3.2 "no holes"): by age across all users, and optionally beyond a per-user
// count.

import { JID } from '@magpie/core/jid/jid';
import type { Element } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { ModuleApi } from '../module.js';
import type { ArchiveItem, ArchivePage, ArchiveQuery } from '../../storage/storage.js';
import { StorageError } from '../../storage/storage.js';
import { newId } from '../../storage/common.js';
import { ROSTER, type RosterService } from '../im-services/services.js';
import { shouldArchive, type DefaultPolicy, type Prefs } from './prefs.js';
import { storedCopy } from './policy.js';
import { parseQuery, type ParsedQuery } from './query.js';
import { fin, resultMessage } from './results.js';

/** A row waiting for the write-behind loop. */
interface QueuedRow { host: string; user: string; item: Omit<ArchiveItem, 'id'> & { id: string } }

export const STORE = 'mam';
const PREFS_TTL_MS = 30_000;
const PREFS_CACHE_MAX = 10_000;
export const PREFS_STORE = 'mam-prefs';

export interface MamOptions {
  defaultPolicy: DefaultPolicy;
  defaultPageSize: number;
  maxPageSize: number;
  maxIds: number;
  maxIndex: number;
  maxPrefsJids: number;
  countLimit: number;
  retentionDays: number;
  purgeIntervalMinutes: number;
  purgeBatch: number;
  maxMessagesPerUser: number;
}

/** The service other modules, tests and the benchmark use. */
export interface MamService {
  /** Archive one message for a local account; returns the archive id, or undefined when prefs say no. */
  archive(owner: JID, peer: JID, stanza: Element, dir: 'in' | 'out', when?: number): Promise<string | undefined>;
  /** Run a parsed query against an archive (the XMPP path minus the socket). */
  query(owner: JID, p: ParsedQuery, store?: string): Promise<ArchivePage>;
  /**
   * Answer a <query/> on an archive (§4): result messages through `send`, in order, then the
   * <fin/> to put in the iq result. Used for accounts here and for MUC rooms (§6, store 'muc',
   * owner = the room's JID).
   */
  answer(query: Element, a: { owner: JID; store?: string; from: string; to: string }, send: (m: Element) => void | Promise<void>): Promise<Element>;
  /** Retention: delete every item older than retentionDays before `now`; returns how many. */
  purge(now?: number): Promise<number>;
  prefs(host: string, user: string): Promise<Prefs>;
  /** Resolves once every archive row queued so far is written (writes are behind delivery). */
  settled(): Promise<void>;
}

const DAY = 86_400_000;

export class Archiver implements MamService {
  private readonly prefsKv;
  private readonly appended;

  private readonly writeFailed;
  private pending: QueuedRow[] = [];
  private writing: Promise<void> | undefined;

  constructor(private readonly api: ModuleApi<MamOptions>) {
    this.prefsKv = api.stores.kv(PREFS_STORE);
    this.appended = api.metric('archived');
    this.writeFailed = api.metric('write_failed');
  }

  /** Resolves once every row queued so far is written (or has failed and been logged). */
  async settled(): Promise<void> { while (this.writing) await this.writing; }

  private enqueue(row: QueuedRow): void {
    this.pending.push(row);
    this.writing ??= this.writeLoop();
  }

  private async writeLoop(): Promise<void> {
    try {
      // One turn, so that the rows of one burst (both sides of a message, many senders) share a write.
      await new Promise((r) => setImmediate(r));
      while (this.pending.length) {
        const batch = this.pending;
        this.pending = [];
        try {
          // One write for the whole turn, whatever the number of accounts (one per account cost
          // a commit each: thousands per turn with many clients).
          await this.api.stores.archive.appendRows(batch.map((r) => ({ host: r.host, user: r.user, store: STORE, item: r.item })));
          this.appended.inc(batch.length);
        } catch (e) {
          this.writeFailed.inc(batch.length);
          this.api.log.error({ err: e, rows: batch.length }, 'archive write failed; these messages were delivered but are not archived');
          continue;
        }
        const max = this.api.options.maxMessagesPerUser;
        if (max > 0) {
          for (const owner of new Set(batch.map((r) => `${r.user}@${r.host}`))) {
            const [user, host] = [owner.slice(0, owner.indexOf('@')), owner.slice(owner.indexOf('@') + 1)];
            try { await this.trim(host, user, max); } catch (e) { this.api.log.error({ err: e, owner }, 'archive trim failed'); }
          }
        }
      }
    } finally { this.writing = undefined; }
  }

  // Preferences are read for both sides of every message: cached, briefly (PREFS_TTL_MS), so a
  // change made on another cluster node applies here within that time; a change made here at once.
  private prefsCache = new Map<string, { p: Prefs; at: number }>();

  async prefs(host: string, user: string): Promise<Prefs> {
    const k = `${user}@${host}`;
    const now = Date.now();
    const hit = this.prefsCache.get(k);
    if (hit && now - hit.at < PREFS_TTL_MS) return hit.p;
    let stored: Prefs | undefined;
    try { stored = await this.prefsKv.get<Prefs>(host, user); } catch (e) {
      // Storage unreachable: an expired entry is still the user's choice, better than none.
      if (hit && e instanceof StorageError) return hit.p;
      throw e;
    }
    const p = stored ?? { default: this.api.options.defaultPolicy, always: [], never: [] };
    if (this.prefsCache.size >= PREFS_CACHE_MAX) this.prefsCache.delete(this.prefsCache.keys().next().value!);
    this.prefsCache.set(k, { p, at: now });
    return p;
  }

  async setPrefs(host: string, user: string, p: Prefs): Promise<void> {
    await this.prefsKv.set(host, user, p as never);
    this.prefsCache.set(`${user}@${host}`, { p, at: Date.now() });
  }

  async archive(owner: JID, peer: JID, stanza: Element, dir: 'in' | 'out', when = Date.now()): Promise<string | undefined> {
    const { domain: host, local: user } = owner;
    let ok: boolean;
    try {
      const prefs = await this.prefs(host, user);
      const roster = this.api.service<RosterService>(ROSTER);
      ok = await shouldArchive(prefs, peer, async () => (await roster?.get(host, user, peer.bareString())) !== undefined);
    } catch (e) {
      // Storage is down (a PostgreSQL outage): the message is delivered all the same; it is not
      // archived, since the owner's preferences cannot be read (archiving against a 'never' rule
      // would be worse) and the row could not be written either. Counted and logged.
      if (!(e instanceof StorageError)) throw e;
      this.writeFailed.inc();
      this.api.log.warn({ err: e.message, owner: `${user}@${host}` }, 'archive unavailable; message delivered without archiving');
      return undefined;
    }
    if (!ok) return undefined;
    const id = newId();
    const item = { id, when, with: peer.bareString(), payload: storedCopy(stanza).toString(), meta: { dir, type: stanza.attrs.type ?? 'normal' } };
    this.enqueue({ host, user, item: peer.isBare ? item : { ...item, withResource: peer.resource } });
    return id;
  }

  /** Keeps the newest `max` items: the count is bounded by max, so this costs O(max), not O(archive). */
  private async trim(host: string, user: string, max: number): Promise<void> {
    const { archive } = this.api.stores;
    const probe = await archive.query(host, user, STORE, { limit: 0, countUpTo: max });
    if (probe.count <= max) return;
    const keep = await archive.query(host, user, STORE, { reverse: true, limit: max, countUpTo: 0 });
    if (keep.items[0]) await archive.delete(host, user, STORE, { before: keep.items[0].id });
  }

  async query(owner: JID, p: ParsedQuery, store = STORE): Promise<ArchivePage> {
    await this.settled();
    const { domain: host, local: user } = owner;
    const { archive } = this.api.stores;
    const q: ArchiveQuery = { ...p.q, countUpTo: this.api.options.countLimit };
    const check = async (ids: string[]): Promise<string[]> => {
      // §4.1.4: every id asked for must exist; the answer lists them in archive order.
      const found = await archive.query(host, user, store, { ids, countUpTo: 0 });
      if (found.items.length !== ids.length) throw new StanzaError('item-not-found', 'no archived message with that id');
      return found.items.map((i) => i.id);
    };
    if (p.ids) await check(p.ids);
    if (p.anchors?.after) q.after = (await check(p.anchors.after)).at(-1)!;   // the later bound wins
    if (p.anchors?.before) q.before = (await check(p.anchors.before))[0]!;    // the earlier bound wins
    try {
      if (p.index !== undefined) {
        // XEP-0059 §2.5: the page starts after the index-th item of the filtered set (the items
        // before it are read once; parseQuery bounds how many). Past the end: an empty page.
        const skipped = await archive.query(host, user, store, { ...q, limit: p.index, countUpTo: 0 });
        if (skipped.items.length < p.index) {
          const counted = await archive.query(host, user, store, { ...q, limit: 0 });
          return { items: [], complete: true, count: counted.count };
        }
        q.after = skipped.items.at(-1)!.id;
        return await archive.query(host, user, store, q); // its count ignores after: the whole set
      }
      return await archive.query(host, user, store, q);
    } catch (e) {
      if (e instanceof StorageError && e.code === 'item-not-found') throw new StanzaError('item-not-found', 'no archived message with that id');
      throw e;
    }
  }

  async answer(query: Element, a: { owner: JID; store?: string; from: string; to: string }, send: (m: Element) => void | Promise<void>): Promise<Element> {
    const o = this.api.options;
    const p = parseQuery(query, o);
    const page = await this.query(a.owner, p, a.store);
    const order = p.flip ? [...page.items].reverse() : page.items;
    const onBad = (e: unknown) => this.api.log.error({ err: e, owner: a.owner.toString() }, 'unreadable archived stanza; sent without it');
    for (const item of order) await send(resultMessage(item, a.to, a.from, p.queryid, onBad));
    const rsm: { count?: number; firstIndex?: number } = {};
    if (page.count <= o.countLimit) rsm.count = page.count;
    // Index only where it costs nothing: 0 on a page from the start. Not count − n on the last
    // page: clients that stop when index + n = count (slixmpp's XEP-0059 iterator) would stop
    // paging backwards after that first page.
    if (p.fromStart) rsm.firstIndex = 0;
    else if (p.index !== undefined && page.items.length > 0) rsm.firstIndex = p.index; // §2.5: as requested
    // first/last stay chronological under flip-page (§4.3.4: flipping changes only the order
    // of transmission), so <before>first</before> still pages to the older neighbour.
    return fin(page.items, page.complete, rsm);
  }

  async purge(now = Date.now()): Promise<number> {
    await this.settled();
    const days = this.api.options.retentionDays;
    if (days <= 0) return 0;
    const { purgeBatch } = this.api.options;
    let total = 0;
    for (;;) {
      const n = await this.api.stores.archive.purge(STORE, now - days * DAY, purgeBatch);
      total += n;
      if (n < purgeBatch) return total;
    }
  }

  async deleteAccount(host: string, user: string): Promise<void> {
    await this.settled();
    this.prefsCache.delete(`${user}@${host}`);
    await this.api.stores.archive.delete(host, user, STORE, {});
    await this.prefsKv.set(host, user, undefined);
  }
}
