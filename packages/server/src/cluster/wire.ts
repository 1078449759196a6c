// What nodes of a cluster exchange through Redis (issue #8): the key layout of the shared session
// registry, the registry entry of one bound resource, and the messages on the two kinds of
// pub/sub channels. Everything a node publishes goes through ONE Redis connection, and Redis
// delivers one connection's publications to a subscriber in order, so a registry update
// (presence, priority) always reaches the other nodes before the stanzas that followed it.
//
import type { Json } from '../storage/storage.js';

// Keys (all under the configured prefix):
//   <p>:sess:<bare>      hash  full JID -> SessionEntry (JSON)        the registry
//   <p>:nodesess:<node>  set   full JIDs that node owns                (cleanup when it dies)
//   <p>:nodes            hash  node -> {startedAt}                     the members
//   <p>:alive:<node>     string with a TTL, refreshed by heartbeats   liveness
//   <p>:reap:<node>      string NX lock: one node announces a dead node's sessions
//   <p>:smid:<previd>    string with a TTL: the node now holding a session that moved there
//                        (SM-IDs name the node that minted them; session/handover.ts)
//   <p>:unacked:<node>:<smid>  list "<when> <stanza>": a session's XEP-0198 unacked queue
//   <p>:unackedidx:<node>      hash  SM-ID -> full JID of the mirrored queues (unacked-mirror.ts)
//   <p>:ownlog:<ns>:<key>  list  an owned key's capped log: a MUC room's discussion history,
//                        "<when> <stanza>" oldest first (muc/history.ts), kept for the next owner
//   <p>:own:… :ownstate:… :owndir:… :nodeown:…  the other keys of owned keys (ownership.ts)
// Channels:
//   <p>:events           registry events, to every node
//   <p>:to:<node>        stanzas and close requests for that node's sessions, and stanzas for
//                        keys it owns (ownership.ts, which lists its own keys)

import type { HandoverReply } from '../session/handover.js';

export class ClusterKeys {
  constructor(readonly prefix: string) {}
  bare(bare: string): string { return `${this.prefix}:sess:${bare}`; }
  nodeSessions(node: string): string { return `${this.prefix}:nodesess:${node}`; }
  get nodes(): string { return `${this.prefix}:nodes`; }
  alive(node: string): string { return `${this.prefix}:alive:${node}`; }
  reap(node: string): string { return `${this.prefix}:reap:${node}`; }
  get events(): string { return `${this.prefix}:events`; }
  inbox(node: string): string { return `${this.prefix}:to:${node}`; }
  smid(previd: string): string { return `${this.prefix}:smid:${previd}`; }
  unacked(node: string, smId: string): string { return `${this.prefix}:unacked:${node}:${smId}`; }
  unackedIndex(node: string): string { return `${this.prefix}:unackedidx:${node}`; }
}

/** One bound resource as every node sees it: what delivery and presence rules read. */
export interface SessionEntry {
  node: string;
  /** The session's id: a stale remove (an older session of the same full JID) is ignored. */
  id: string;
  full: string;
  priority: number;
  /** Last available presence, serialised; null while unavailable. */
  presence: string | null;
  /** Has requested the roster (receives roster pushes, RFC 6121 §2.1.6). */
  interested: boolean;
  connectedAt: number;
  /** The session's shared module state (session/shared-state.ts); absent when empty. */
  shared?: Record<string, Json>;
}

export type RegistryEvent =
  | { t: 'up'; e: SessionEntry }
  | { t: 'down'; node: string; full: string; id: string }
  /** Every session of `node`: replaces what the others hold for it (nodes before the chunked
      form; still understood). */
  | { t: 'sync'; node: string; entries: SessionEntry[] }
  /** A (re)registration of `node` in chunks (registry-sync.ts): at the end, what generation
      `gen` and the `up`s published meanwhile did not name is gone. */
  | { t: 'sync-begin'; node: string; gen: string }
  | { t: 'sync-chunk'; node: string; gen: string; entries: SessionEntry[] }
  | { t: 'sync-end'; node: string; gen: string; count: number }
  /** The node is gone (stopped, or found dead and reaped). */
  | { t: 'leave'; node: string }
  /** An iq result/error for the server that no request on `node` was waiting for: the request
      may have come from another node's module (router.request), which resolves it. */
  | { t: 'answer'; node: string; x: string }
  /** A module's per-account cache entry is stale ('cache/invalidate'); with `rid`, the node
      waits for every other node's 'invalidated' (invalidation.ts). */
  | { t: 'invalidate'; node: string; scope: string; host: string; user: string; rid?: string };

export type DirectMessage =
  /** A stanza for the local session `to`; `hop` counts re-routings (loop guard). */
  | { t: 'stanza'; to: string; hop: number; x: string }
  /** Close the session `to` (if it is still session `id`) with a stream error. */
  | { t: 'close'; to: string; id: string; cond?: string; text?: string }
  /** XEP-0198 resumption on another node (session-handover.ts): node `from` asks for a session,
      the holder answers with its snapshot, the asker says whether it took it. */
  | { t: 'sm-take'; rid: string; from: string; previd: string; host: string; user: string; waitMs: number }
  | { t: 'sm-state'; rid: string; from: string; reply: HandoverReply }
  | { t: 'sm-settle'; rid: string; taken: boolean }
  /** A stanza for a key of namespace `ns` this node owns (ownership.ts: MUC rooms); `from`/`to`
      are the routed sender and destination, `hop` counts re-routings. */
  | { t: 'svc'; ns: string; hop: number; from: string; to: string; x: string }
  /** This node has dropped its copy named by the 'invalidate' event `rid` (invalidation.ts). */
  | { t: 'invalidated'; rid: string };

export function isSessionEntry(v: unknown): v is SessionEntry {
  if (!v || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return typeof e.node === 'string' && typeof e.id === 'string' && typeof e.full === 'string' && typeof e.priority === 'number'
    && (e.presence === null || typeof e.presence === 'string') && typeof e.interested === 'boolean' && typeof e.connectedAt === 'number'
    && (e.shared === undefined || (typeof e.shared === 'object' && e.shared !== null && !Array.isArray(e.shared)));
}

export function parseEntry(json: string | null | undefined): SessionEntry | undefined {
  if (!json) return undefined;
  try { const v: unknown = JSON.parse(json); return isSessionEntry(v) ? v : undefined; } catch { return undefined; }
}

/** Delete a registry entry only if it still belongs to session `id` (ARGV[2]) or, with an empty
    id, to node ARGV[3]: a newer session of the same full JID elsewhere is left alone. */
export const DEL_IF_OWNER_LUA = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if v then
  local ok, e = pcall(cjson.decode, v)
  if ok and ((ARGV[2] ~= '' and e.id == ARGV[2]) or (ARGV[2] == '' and e.node == ARGV[3])) then
    redis.call('HDEL', KEYS[1], ARGV[1])
  end
end
redis.call('SREM', KEYS[2], ARGV[1])
return 1`;
