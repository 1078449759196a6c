// Publishing a node's whole session list to the cluster in chunks (issue #8: 15,000 sessions
// per node). One `sync` event with every entry was a multi-megabyte message and one MULTI that
// blocked Redis for its whole length; now a (re)registration is a generation:
//   sync-begin {gen}  ·  sync-chunk {gen, entries ≤ cluster.syncChunkSize}…  ·  sync-end {gen}
// Each chunk is one pipeline (registry writes, then its event, on the one connection whose
// commands Redis runs in order), so a reader of Redis never sees a chunk's event before its
// entries, and no transaction holds Redis for long. Nothing of the node is deleted first: its entries stay
// readable throughout, and only what the new generation did not rewrite is removed at the end.
//
// Receivers apply each chunk as it comes and remember which full JIDs the generation (or an
// `up` of that node published meanwhile, on the same connection, so in order) confirmed; at
// sync-end they drop that node's other proxies. A receiver that did not see sync-begin (it
// subscribed in the middle) cannot know what the early chunks held: it re-reads that node's
// entries from Redis instead, which sync-end guarantees complete.

import { randomBytes } from 'node:crypto';
import type { ClientSession } from '../session/session.js';
import type { ClusterSessionRegistry } from './cluster-registry.js';
import type { RemoteClientSession } from './remote-session.js';
import type { ClusterRedis } from './redis-link.js';
import type { ClusterKeys, RegistryEvent, SessionEntry } from './wire.js';

const bareOf = (full: string): string => { const i = full.indexOf('/'); return i < 0 ? full : full.slice(0, i); };

export interface SyncSender {
  cmd: ClusterRedis;
  keys: ClusterKeys;
  node: string;
  registry: ClusterSessionRegistry;
  entryOf(s: ClientSession): SessionEntry;
  chunkSize: number;
}

/** Write every local session to Redis and announce them, chunk by chunk; returns the count. */
export async function publishSessions(o: SyncSender): Promise<{ gen: string; count: number }> {
  const { cmd, keys, node, registry } = o;
  const gen = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const publish = (ev: RegistryEvent) => JSON.stringify(ev);
  // What Redis says this node owned before: whatever this generation does not rewrite is stale.
  const before = new Set(await cmd.smembers(keys.nodeSessions(node)));
  await cmd.publish(keys.events, publish({ t: 'sync-begin', node, gen }));
  const sessions = [...registry.all()];
  let count = 0;
  for (let i = 0; i < sessions.length; i += o.chunkSize) {
    // Built when sent, not up front: a session that ended since (its `down` is already
    // published) is left out rather than brought back; later changes follow as `up`/`down`.
    const entries = sessions.slice(i, i + o.chunkSize).filter((s) => registry.localSession(s.jid.toString()) === s).map((s) => o.entryOf(s));
    if (!entries.length) continue;
    // A pipeline, not a transaction: one connection's commands run in order, so the chunk's
    // event still follows its writes, and other clients are not held up meanwhile.
    const byBare = new Map<string, string[]>();
    for (const e of entries) {
      const k = keys.bare(bareOf(e.full));
      const fields = byBare.get(k);
      if (fields) fields.push(e.full, JSON.stringify(e)); else byBare.set(k, [e.full, JSON.stringify(e)]);
      before.delete(e.full);
    }
    const p = cmd.pipeline();
    for (const [k, fields] of byBare) p.hset(k, ...fields);
    p.sadd(keys.nodeSessions(node), ...entries.map((e) => e.full));
    p.publish(keys.events, publish({ t: 'sync-chunk', node, gen, entries }));
    const res = await p.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0];
    count += entries.length;
  }
  const stale = [...before].filter((f) => !registry.localSession(f));
  for (let i = 0; i < stale.length; i += o.chunkSize) {
    // defineCommand adds the script to pipelines too; ioredis' types only know built-in commands.
    const p = cmd.pipeline() as unknown as { delIfOwner(...a: string[]): void; exec(): Promise<unknown> };
    for (const f of stale.slice(i, i + o.chunkSize)) p.delIfOwner(keys.bare(bareOf(f)), keys.nodeSessions(node), f, '', node);
    await p.exec();
  }
  await cmd.publish(keys.events, publish({ t: 'sync-end', node, gen, count }));
  return { gen, count };
}

export interface SyncReceiverDeps {
  registry: ClusterSessionRegistry;
  create(e: SessionEntry): RemoteClientSession;
  /** Re-read `node`'s entries from Redis (a generation whose beginning this node missed). */
  reload(node: string): void;
}

/** The receiving side: one pending generation per node. */
export class SyncReceiver {
  private readonly pending = new Map<string, { gen: string; seen: Set<string> }>();

  constructor(private readonly deps: SyncReceiverDeps) {}

  /** Handles the sync events; `up` and `leave` of a node with a pending generation are noted. */
  onEvent(ev: RegistryEvent): boolean {
    switch (ev.t) {
      case 'sync-begin':
        this.pending.set(ev.node, { gen: ev.gen, seen: new Set() });
        return true;
      case 'sync-chunk': {
        const p = this.pending.get(ev.node);
        const seen = p?.gen === ev.gen ? p.seen : undefined;
        for (const e of ev.entries) {
          if (e.node !== ev.node) continue;
          this.deps.registry.applyUp(e, this.deps.create);
          seen?.add(e.full);
        }
        return true;
      }
      case 'sync-end': {
        const p = this.pending.get(ev.node);
        if (!p || p.gen !== ev.gen) {
          // Missed the beginning (or an older generation ending after a newer began): only
          // Redis knows the whole set. A newer pending generation will settle it itself.
          if (!p) this.deps.reload(ev.node);
          return true;
        }
        this.pending.delete(ev.node);
        for (const s of this.deps.registry.remoteOf(ev.node)) if (!p.seen.has(s.jid.toString())) this.deps.registry.remove(s);
        return true;
      }
      case 'up':
        this.pending.get(ev.e.node)?.seen.add(ev.e.full);
        return false;
      case 'sync':
      case 'leave':
        this.pending.delete(ev.node);
        return false;
      default:
        return false;
    }
  }
}
