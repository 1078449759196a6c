// What nodes of a cluster exchange through Redis (issue #8): the key layout of the shared session
// registry, the registry entry of one bound resource, and the messages on the two kinds of
// pub/sub channels. Everything a node publishes goes through ONE Redis connection, and Redis
// delivers one connection's publications to a subscriber in order, so a registry update
// (presence, priority) always reaches the other nodes before the stanzas that followed it.
//
// Keys (all under the configured prefix):
//   <p>:sess:<bare>      hash  full JID -> SessionEntry (JSON)        the registry
//   <p>:nodesess:<node>  set   full JIDs that node owns                (cleanup when it dies)
//   <p>:nodes            hash  node -> {startedAt}                     the members
//   <p>:alive:<node>     string with a TTL, refreshed by heartbeats   liveness
//   <p>:reap:<node>      string NX lock: one node announces a dead node's sessions
// Channels:
//   <p>:events           registry events, to every node
//   <p>:to:<node>        stanzas and close requests for that node's sessions

export class ClusterKeys {
  constructor(readonly prefix: string) {}
  bare(bare: string): string { return `${this.prefix}:sess:${bare}`; }
  nodeSessions(node: string): string { return `${this.prefix}:nodesess:${node}`; }
  get nodes(): string { return `${this.prefix}:nodes`; }
  alive(node: string): string { return `${this.prefix}:alive:${node}`; }
  reap(node: string): string { return `${this.prefix}:reap:${node}`; }
  get events(): string { return `${this.prefix}:events`; }
  inbox(node: string): string { return `${this.prefix}:to:${node}`; }
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
}

export type RegistryEvent =
  | { t: 'up'; e: SessionEntry }
  | { t: 'down'; node: string; full: string; id: string }
  /** Every session of `node`: replaces what the others hold for it (start, Redis reconnect). */
  | { t: 'sync'; node: string; entries: SessionEntry[] }
  /** The node is gone (stopped, or found dead and reaped). */
  | { t: 'leave'; node: string }
  /** An iq result/error for the server that no request on `node` was waiting for: the request
      may have come from another node's module (router.request), which resolves it. */
  | { t: 'answer'; node: string; x: string }
  /** A module's per-account cache entry is stale ('cache/invalidate'). */
  | { t: 'invalidate'; node: string; scope: string; host: string; user: string };

export type DirectMessage =
  /** A stanza for the local session `to`; `hop` counts re-routings (loop guard). */
  | { t: 'stanza'; to: string; hop: number; x: string }
  /** Close the session `to` (if it is still session `id`) with a stream error. */
  | { t: 'close'; to: string; id: string; cond?: string; text?: string };

export function isSessionEntry(v: unknown): v is SessionEntry {
  if (!v || typeof v !== 'object') return false;
  const e = v as Record<string, unknown>;
  return typeof e.node === 'string' && typeof e.id === 'string' && typeof e.full === 'string' && typeof e.priority === 'number'
    && (e.presence === null || typeof e.presence === 'string') && typeof e.interested === 'boolean' && typeof e.connectedAt === 'number';
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
