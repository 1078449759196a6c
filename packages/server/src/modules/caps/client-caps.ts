// What local clients support, learnt from the entity capabilities in their presence (XEP-0115
// §6.1) for the server's own use (PEP's "+notify" filtering, XEP-0163 §4.3.1). The server asks a
// client's full JID for disco#info on 'node#ver' (§6.2) once per verification string, checks
// the answer against the 'ver' (§5.4 step 3) and only then caches it for every client that
// announces the same string (§5.4 3.8, §8.2); a mismatch is never cached (cache poisoning,
// §9.4). Unknown hash functions are looked up for that one session only (§5.4 step 2); caps
// without 'hash' (the pre-1.5 legacy format, §10) are ignored.
// Cluster (issue #8): a session's verified '+notify' features are also put in its shared state
// (session/shared-state.ts, key 'caps+notify'), so a node holding only a proxy of the session
// (PEP publishing for an account on that node) knows what it wants; featuresOf answers with
// them for such a session. Only '+notify' features travel: they are what other nodes read.

import { xml } from '@magpie/core/xml/element';
import type { Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import type { ClientSession } from '../../session/session.js';
import type { ModuleApi } from '../module.js';
import { CAPS_HASHES, verificationString } from './verification.js';

export const CAPS = 'caps';
/** The 'caps' service (api.service<CapsService>(CAPS)). */
export interface CapsService {
  /** Features of a local client's full JID, once its caps are known and verified; for a
      client on another cluster node, only its '+notify' features. */
  featuresOf(fullJid: string): string[] | undefined;
  /** The same, waiting for a lookup in progress. Never await it while handling a stanza of
      that same session: its stanzas are processed in order, so its disco#info answer would
      wait behind the stanza being handled (until queryTimeoutMs). */
  whenKnown(fullJid: string): Promise<string[] | undefined>;
  /** Called whenever a session's features become known or change; returns the unsubscribe. */
  onFeatures(listener: (session: ClientSession, features: string[]) => void): () => void;
}

export interface ClientCapsOptions {
  queryTimeoutMs: number;
  maxLookupsPerSession: number;
  maxFeatures: number;
  memoryCacheEntries: number;
  maxStoredEntries: number;
  /** Most '+notify' features of one session shared with the other cluster nodes. */
  maxSharedNotify: number;
}

/** A verified answer; `t` (ms) orders entries for pruning the store. */
type Entry = { features: string[]; identities: string[]; t?: number };
interface SessionCaps { hash: string; node: string; ver: string; features?: string[]; pending?: Promise<string[] | undefined>; lookups: number }

const STORE = 'caps';
const DATA = 'caps';
/** The shared-state key of a session's '+notify' features. */
export const SHARED_NOTIFY = 'caps+notify';
// The cache is global (§5.4 3.8: "for all JabberIDs"): stored under the empty host and user.
const GLOBAL = '';

export function createClientCaps(api: ModuleApi<unknown>, o: ClientCapsOptions) {
  const memory = new Map<string, Entry>(); // LRU in insertion order
  const inflight = new Map<string, Promise<Entry | undefined>>();
  const listeners = new Set<(s: ClientSession, f: string[]) => void>();

  const remember = (key: string, e: Entry): void => {
    memory.delete(key);
    memory.set(key, e);
    while (memory.size > o.memoryCacheEntries) memory.delete(memory.keys().next().value!);
  };
  const cached = async (key: string): Promise<Entry | undefined> => {
    const m = memory.get(key);
    if (m) { remember(key, m); return m; }
    const stored = await api.stores.map.get<Entry>(GLOBAL, GLOBAL, STORE, key);
    if (stored) remember(key, stored);
    return stored;
  };

  /** Ask the client itself (§6.2: to its exact full JID, with node 'node#ver'). */
  const discover = async (s: ClientSession, node: string, ver: string): Promise<Element | undefined> => {
    const iq = xml('iq', NS.CLIENT, { type: 'get', from: s.host, to: s.jid.toString() }, xml('query', NS.DISCO_INFO, { node: `${node}#${ver}` }));
    try {
      const res = await api.request(iq, o.queryTimeoutMs);
      const q = res.getChild('query', NS.DISCO_INFO);
      if (!q || q.elements().length > o.maxFeatures) return undefined; // identities, features and forms
      return q;
    } catch (e) {
      api.log.debug({ jid: s.jid.toString(), err: (e as Error).message }, 'caps disco#info failed');
      return undefined;
    }
  };

  const toEntry = (q: Element): Entry => ({
    features: q.getChildren('feature', NS.DISCO_INFO).map((f) => f.attr('var') ?? '').filter((f) => f !== ''),
    identities: q.getChildren('identity', NS.DISCO_INFO).map((i) => `${i.attr('category') ?? ''}/${i.attr('type') ?? ''}`),
  });

  const lookup = async (s: ClientSession, st: SessionCaps): Promise<string[] | undefined> => {
    const key = `${st.hash} ${st.ver}`;
    if (!CAPS_HASHES[st.hash]) {
      // §5.4 step 2: nothing to verify against; the answer describes this session only.
      const q = await discover(s, st.node, st.ver);
      return q && toEntry(q).features;
    }
    const hit = await cached(key);
    if (hit) return hit.features;
    const joined = inflight.get(key);
    if (joined) {
      // Another client announced the same string a moment ago; if its answer did not verify,
      // this client may still be honest (§5.4 3.9: check another entity that advertises it).
      const e = await joined;
      if (e) return e.features;
      return (await verify(s, st, key))?.features;
    }
    const p = verify(s, st, key).finally(() => inflight.delete(key));
    inflight.set(key, p);
    return (await p)?.features;
  };

  const verify = async (s: ClientSession, st: SessionCaps, key: string): Promise<Entry | undefined> => {
    const q = await discover(s, st.node, st.ver);
    if (!q) return undefined;
    const computed = verificationString(q, st.hash);
    if (computed !== st.ver) {
      api.log.info({ jid: s.jid.toString(), ver: st.ver, computed }, 'caps verification string does not match the disco#info answer; not cached');
      return undefined;
    }
    const e = toEntry(q);
    remember(key, e);
    await api.stores.map.set(GLOBAL, GLOBAL, STORE, key, { ...e, t: Date.now() });
    await prune();
    return e;
  };

  // Anyone can mint valid strings (any feature list hashes to one), so the store is bounded:
  // past maxStoredEntries, the oldest tenth goes. The count is read once, then kept.
  let storedCount: number | undefined;
  const prune = async (): Promise<void> => {
    storedCount = storedCount === undefined ? (await api.stores.map.getAll(GLOBAL, GLOBAL, STORE)).size : storedCount + 1;
    if (storedCount <= o.maxStoredEntries) return;
    const all = [...(await api.stores.map.getAll<Entry>(GLOBAL, GLOBAL, STORE))].sort((a, b) => (a[1].t ?? 0) - (b[1].t ?? 0));
    const drop = all.slice(0, all.length - Math.floor(o.maxStoredEntries * 0.9));
    await api.stores.map.setMany(GLOBAL, GLOBAL, STORE, drop.map(([k]) => [k, undefined]));
    for (const [k] of drop) memory.delete(k);
    storedCount = all.length - drop.length;
  };

  /** A local client's available presence to its own bare JID (its broadcast). */
  const onPresence = (s: ClientSession, presence: Element): void => {
    const c = presence.getChild('c', 'http://jabber.org/protocol/caps');
    if (!c) return;
    const hash = c.attr('hash')?.toLowerCase();
    const node = c.attr('node');
    const ver = c.attr('ver');
    if (!hash || !node || !ver) return;
    const prev = s.data.get(DATA) as SessionCaps | undefined;
    if (prev && prev.hash === hash && prev.node === node && prev.ver === ver) return;
    const lookups = (prev?.lookups ?? 0) + 1;
    if (lookups > o.maxLookupsPerSession) {
      api.log.debug({ jid: s.jid.toString() }, 'too many caps changes in one session; ignored');
      return;
    }
    const st: SessionCaps = { hash, node, ver, lookups };
    s.data.set(DATA, st);
    s.shared.delete(SHARED_NOTIFY); // unknown again until the new string is looked up
    st.pending = lookup(s, st).then((features) => {
      // A later presence may have replaced this one while we waited.
      if (s.data.get(DATA) !== st || s.closed) return undefined;
      st.features = features;
      if (features) shareNotify(s, features);
      if (features) for (const l of listeners) { try { l(s, features); } catch (e) { api.log.error({ err: e }, 'caps listener failed'); } }
      return features;
    }, (e: unknown) => { api.log.error({ err: e }, 'caps lookup failed'); return undefined; });
  };

  const shareNotify = (s: ClientSession, features: string[]): void => {
    const notify = features.filter((f) => f.endsWith('+notify'));
    if (notify.length > o.maxSharedNotify) api.log.debug({ jid: s.jid.toString(), notify: notify.length }, 'more +notify features than maxSharedNotify; the rest are not shared with other nodes');
    s.shared.set(SHARED_NOTIFY, notify.slice(0, o.maxSharedNotify));
  };

  /** A session this node learnt the caps of, else another node's (its shared +notify set). */
  const featuresOf = (full: string): string[] | undefined => {
    const s = api.sessions.get(full);
    if (!s) return undefined;
    const st = s.data.get(DATA) as SessionCaps | undefined;
    return st ? st.features : s.shared.get<string[]>(SHARED_NOTIFY);
  };

  const service: CapsService = {
    featuresOf,
    whenKnown: async (full) => {
      const st = api.sessions.get(full)?.data.get(DATA) as SessionCaps | undefined;
      if (!st) return featuresOf(full);
      return st.features ?? (await st.pending);
    },
    onFeatures: (l) => { listeners.add(l); return () => { listeners.delete(l); }; },
  };
  return { onPresence, service };
}
