// The `cluster` configuration key (issue #8): several Magpie nodes serving the same domains,
// sharing one PostgreSQL database and one Redis (session registry, node membership, cross-node
// stanza routing). Kept in its own file so schema.ts only names it; the check that cluster mode
// runs on PostgreSQL is in load.ts (it spans two keys).

import { z } from 'zod';

const seconds = z.number().positive(); // fractions allowed: tests run with sub-second heartbeats

export const ClusterSchema = z.object({
  /** Off by default: a single node keeps its session registry in memory. */
  enabled: z.boolean().default(false),
  /** The Redis every node of the cluster uses (redis:// or rediss:// URL, with credentials). */
  redisUrl: z.string().regex(/^rediss?:\/\/\S+$/, 'expected a redis:// or rediss:// URL').default('redis://127.0.0.1:6379'),
  /** This node's name, unique in the cluster; default `<hostname>-<pid>`. A node restarted under
      the same name clears what its previous run left in Redis. */
  nodeName: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, ".", "_" and "-" only').optional(),
  /** Prefix of every Redis key and channel: several clusters (or test runs) can share a Redis. */
  keyPrefix: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).default('magpie'),
  /** How often a node refreshes its liveness key and checks the others'. */
  heartbeatSeconds: seconds.max(60).default(2),
  /** A node silent this long is dead: its sessions are removed, their contacts get unavailable
      presence, stanzas for them go to offline storage. At least twice heartbeatSeconds. */
  deadAfterSeconds: seconds.max(3600).default(10),
  /** Seconds to wait for Redis at start before giving up (the node does not start without it). */
  connectTimeoutSeconds: seconds.max(300).default(10),
  /** Milliseconds one Redis command may take before it fails (a stanza for another node then
      gets remote-server-timeout rather than waiting forever). */
  commandTimeoutMs: z.number().int().min(50).max(60000).default(2000),
  /** Sessions per message and per Redis transaction when a node (re)registers all of its
      sessions, and per pipeline when one is read back: bounds the size of one message and how
      long one transaction holds Redis (15,000 sessions per node: 15 chunks). */
  syncChunkSize: z.number().int().min(10).max(100_000).default(1000),
  /** Copy every XEP-0198 unacknowledged queue to Redis (batched per event-loop turn), so that
      what a killed node had sent but its clients had not acknowledged is re-routed or stored
      offline by the node reaping it instead of being lost. */
  mirrorUnacked: z.boolean().default(true),
  /** Milliseconds a change to cached account data (a PubSub publish, a privacy list) waits for
      every other node to confirm it dropped its copy before it is answered: a read through
      another node right after then sees the change. A node slower than this is logged and not
      waited for. */
  invalidateWaitMs: z.number().int().min(10).max(60000).default(1000),
}).strict().refine((c) => c.deadAfterSeconds >= 2 * c.heartbeatSeconds, { message: 'deadAfterSeconds must be at least twice heartbeatSeconds', path: ['deadAfterSeconds'] });

export type ClusterConfig = z.infer<typeof ClusterSchema>;
