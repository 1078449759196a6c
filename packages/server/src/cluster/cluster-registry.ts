// The session registry of a cluster node (session/registry.ts, issue #8). Local sessions are
// kept exactly as on a single node; sessions bound on other nodes are RemoteClientSession
// proxies in a local cache that Redis pub/sub events keep current, so `get` and `resources`
// stay synchronous (delivery calls them for every stanza).
//
// Modules change a local session's presence, priority and roster interest by plain assignment
// (presence/availability.ts, roster.ts). The registry turns those three fields of each local
// session into accessors, and observes its `shared` module state (session/shared-state.ts), so
// every change is published without any module knowing about the cluster; changes made in one synchronous step are coalesced into one update (a microtask),
// which is still written before any stanza the same code routes afterwards.

import type { ClientSession } from '../session/session.js';
import { LocalSessionRegistry, type SessionRegistry } from '../session/registry.js';
import { isRemote, type RemoteClientSession } from './remote-session.js';
import type { SessionEntry } from './wire.js';

/** What the cluster node does with changes to local sessions. */
export interface LocalSessionListener {
  up(session: ClientSession): void;
  down(session: ClientSession): void;
}

const WATCHED = ['presence', 'priority', 'interested'] as const;

export class ClusterSessionRegistry implements SessionRegistry {
  private readonly local = new LocalSessionRegistry();
  private readonly remoteByFull = new Map<string, RemoteClientSession>();
  private readonly remoteByBare = new Map<string, RemoteClientSession[]>();
  private readonly byNode = new Map<string, Set<RemoteClientSession>>();
  /** resources(bare) answers, rebuilt after a change to that account. */
  private readonly merged = new Map<string, readonly ClientSession[]>();
  private readonly watched = new WeakSet<ClientSession>();
  private readonly dirty = new Set<ClientSession>();
  private flushing = false;
  listener: LocalSessionListener | undefined;
  /** A proxy's session ended or went unavailable ('session/remote-ended', cluster/node.ts). */
  onRemoteEnded: ((s: RemoteClientSession) => void) | undefined;

  // --- SessionRegistry -------------------------------------------------------------------------

  add(session: ClientSession): ClientSession | undefined {
    const full = session.jid.toString();
    const prev = this.local.get(full) ?? this.remoteByFull.get(full);
    if (prev && isRemote(prev)) this.dropRemote(prev);
    this.local.add(session);
    this.merged.delete(session.jid.bareString());
    this.watch(session);
    this.listener?.up(session);
    return prev;
  }

  remove(session: ClientSession): void {
    if (isRemote(session)) {
      // Only this node's view: the owner removes the shared entry when its session really ends.
      if (this.remoteByFull.get(session.jid.toString()) === session) this.dropRemote(session);
      return;
    }
    if (this.local.get(session.jid.toString()) !== session) return;
    this.local.remove(session);
    this.merged.delete(session.jid.bareString());
    this.dirty.delete(session);
    this.listener?.down(session);
  }

  get(fullJid: string): ClientSession | undefined { return this.local.get(fullJid) ?? this.remoteByFull.get(fullJid); }

  resources(bareJid: string): readonly ClientSession[] {
    const hit = this.merged.get(bareJid);
    if (hit) return hit;
    const local = this.local.resources(bareJid);
    const remote = this.remoteByBare.get(bareJid);
    // A full JID briefly known on two nodes (a resource conflict in progress) counts once: here.
    const out = remote ? [...local, ...remote.filter((r) => !this.local.get(r.jid.toString()))] : [...local];
    const frozen = Object.freeze(out);
    this.merged.set(bareJid, frozen);
    return frozen;
  }

  all(): IterableIterator<ClientSession> { return this.local.all(); }
  get size(): number { return this.local.size; }

  // --- cluster side ----------------------------------------------------------------------------

  localSession(fullJid: string): ClientSession | undefined { return this.local.get(fullJid); }
  get remoteSize(): number { return this.remoteByFull.size; }
  remoteNodes(): string[] { return [...this.byNode.keys()]; }
  remoteOf(node: string): RemoteClientSession[] { return [...(this.byNode.get(node) ?? [])]; }

  /** A new or changed entry of another node; `create` builds the proxy for a new one. */
  applyUp(e: SessionEntry, create: (e: SessionEntry) => RemoteClientSession): void {
    const cur = this.remoteByFull.get(e.full);
    if (cur && cur.id === e.id) {
      const wasAvailable = cur.presence !== undefined;
      cur.update(e);
      this.merged.delete(cur.jid.bareString());
      if (wasAvailable && cur.presence === undefined) this.onRemoteEnded?.(cur);
      return;
    }
    if (cur) this.dropRemote(cur);
    const s = create(e);
    this.remoteByFull.set(e.full, s);
    const bare = s.jid.bareString();
    const list = this.remoteByBare.get(bare);
    if (list) list.push(s); else this.remoteByBare.set(bare, [s]);
    let set = this.byNode.get(e.node);
    if (!set) this.byNode.set(e.node, (set = new Set()));
    set.add(s);
    this.merged.delete(bare);
  }

  applyDown(node: string, full: string, id: string): RemoteClientSession | undefined {
    const cur = this.remoteByFull.get(full);
    if (!cur || cur.node !== node || cur.id !== id) return undefined; // stale: a newer session holds it
    this.dropRemote(cur);
    return cur;
  }

  /** Replace everything known of `node` with `entries`. */
  applySync(node: string, entries: SessionEntry[], create: (e: SessionEntry) => RemoteClientSession): void {
    const keep = new Set(entries.map((e) => e.full));
    for (const s of this.remoteOf(node)) if (!keep.has(s.jid.toString())) this.dropRemote(s);
    for (const e of entries) if (e.node === node) this.applyUp(e, create);
  }

  /** Forget every session of `node`; returns them. */
  dropNode(node: string): RemoteClientSession[] {
    const gone = this.remoteOf(node);
    for (const s of gone) this.dropRemote(s);
    return gone;
  }

  private dropRemote(s: RemoteClientSession): void {
    const full = s.jid.toString();
    if (this.remoteByFull.get(full) === s) this.remoteByFull.delete(full);
    const bare = s.jid.bareString();
    const list = this.remoteByBare.get(bare);
    if (list) {
      const i = list.indexOf(s);
      if (i >= 0) list.splice(i, 1);
      if (!list.length) this.remoteByBare.delete(bare);
    }
    const set = this.byNode.get(s.node);
    if (set) { set.delete(s); if (!set.size) this.byNode.delete(s.node); }
    const wasOpen = !s.closed;
    s.markClosed();
    if (wasOpen) this.onRemoteEnded?.(s);
    this.merged.delete(bare);
  }

  /** Publish changes to the watched fields of a local session (see the header). */
  private watch(s: ClientSession): void {
    if (this.watched.has(s)) return;
    this.watched.add(s);
    for (const key of WATCHED) {
      let value = (s as unknown as Record<string, unknown>)[key];
      Object.defineProperty(s, key, {
        configurable: true, enumerable: true,
        get: () => value,
        set: (v: unknown) => { if (v === value) return; value = v; this.changed(s); },
      });
    }
    s.shared.watch(() => this.changed(s));
  }

  private changed(s: ClientSession): void {
    this.merged.delete(s.jid.bareString());
    this.dirty.add(s);
    if (this.flushing) return;
    this.flushing = true;
    queueMicrotask(() => {
      this.flushing = false;
      const batch = [...this.dirty];
      this.dirty.clear();
      for (const x of batch) if (this.local.get(x.jid.toString()) === x) this.listener?.up(x);
    });
  }
}
