// Cluster membership and failure (issue #8 part 1, priority 2). Each node keeps a liveness key
// with a TTL and refreshes it every heartbeat; every heartbeat it also checks the other members'
// keys. A member whose key expired is dead: every node stops routing to it, and one node (the
// holder of an NX lock) announces its sessions as closed on this node's hook bus (the presence
// module then sends unavailable to their contacts, RFC 6121 §4.5.2, as for a dropped connection),
// deletes them from the shared registry and tells the others it left.
//
// Timing: the key lives deadAfter − heartbeat seconds after the last refresh and is checked at
// least every heartbeat, so a node that stopped is reaped within deadAfterSeconds.

import type { Logger } from '../log/logger.js';
import type { ClusterConfig } from '../config/cluster-schema.js';
import type { ClusterSessionRegistry } from './cluster-registry.js';
import type { ClusterNode } from './node.js';
import { parseEntry, type RegistryEvent, type SessionEntry } from './wire.js';

const bareOf = (full: string): string => { const i = full.indexOf('/'); return i < 0 ? full : full.slice(0, i); };

export interface MembershipDeps {
  node: ClusterNode;
  config: ClusterConfig;
  log: Logger;
  registry: ClusterSessionRegistry;
  announceClosed(e: SessionEntry, why: string): Promise<void>;
}

export class Membership {
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  /** A re-registration failed (Redis went away again): retried at the next heartbeat. */
  rejoinPending = false;
  /** No reaping before this time: after an outage the other nodes' liveness keys may have
      expired while they were cut off too; they get one dead-node period to refresh them. */
  private graceUntil = 0;

  constructor(private readonly deps: MembershipDeps) {}

  private get cmd() { return this.deps.node.cmd; }
  private get keys() { return this.deps.node.keys; }
  private get me() { return this.deps.node.name; }
  get ttlMs(): number { return Math.round((this.deps.config.deadAfterSeconds - this.deps.config.heartbeatSeconds) * 1000); }

  start(): void {
    this.timer = setInterval(() => { void this.beat(); }, this.deps.config.heartbeatSeconds * 1000);
    this.timer.unref();
  }

  /** Redis is back after an outage (see graceUntil). */
  recovered(): void { this.graceUntil = Date.now() + this.deps.config.deadAfterSeconds * 1000; }

  stop(): void { if (this.timer) clearInterval(this.timer); this.timer = undefined; }

  refreshAlive(): Promise<unknown> { return this.cmd.set(this.keys.alive(this.me), String(Date.now()), 'PX', this.ttlMs); }

  private async beat(): Promise<void> {
    if (this.beating || !this.deps.node.link.up) return;
    this.beating = true;
    try {
      if (this.rejoinPending) {
        this.rejoinPending = false;
        await this.deps.node.register();
        await this.deps.node.loadSnapshot();
      }
      await this.refreshAlive();
      const members = (await this.cmd.hkeys(this.keys.nodes)).filter((n) => n !== this.me);
      if (!members.length || Date.now() < this.graceUntil) return;
      const alive = await this.cmd.pipeline(members.map((n) => ['exists', this.keys.alive(n)])).exec();
      for (let i = 0; i < members.length; i++) {
        const [err, n] = alive?.[i] ?? [];
        if (!err && n === 0) await this.reap(members[i]!, true);
      }
    } catch (e) {
      this.deps.log.debug({ err: (e as Error).message }, 'cluster: heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  /** The registry entries `node` owns according to Redis. */
  async entriesOf(node: string): Promise<SessionEntry[]> {
    const fulls = await this.cmd.smembers(this.keys.nodeSessions(node));
    if (!fulls.length) return [];
    const rows = await this.cmd.pipeline(fulls.map((f) => ['hget', this.keys.bare(bareOf(f)), f])).exec();
    const out: SessionEntry[] = [];
    for (const [err, v] of rows ?? []) {
      const e = err ? undefined : parseEntry(v as string | null);
      if (e && e.node === node) out.push(e);
    }
    return out;
  }

  /**
   * `node` is gone: forget its sessions; if this node wins the lock (or `locked` is false: a
   * node clearing what its own previous run left), announce them closed and delete them.
   */
  async reap(node: string, locked: boolean): Promise<void> {
    this.deps.registry.dropNode(node);
    const lock = this.keys.reap(node);
    if (locked && (await this.cmd.set(lock, this.me, 'PX', 60_000, 'NX')) !== 'OK') return;
    try {
      const entries = await this.entriesOf(node);
      this.deps.log.warn({ dead: node, sessions: entries.length }, node === this.me
        ? 'cluster: clearing sessions left by a previous run of this node'
        : 'cluster: node is gone; its sessions are closed and their contacts told');
      const why = `cluster node ${node} is gone`;
      for (const e of entries) {
        try { await this.deps.announceClosed(e, why); } catch (err) { this.deps.log.error({ err, jid: e.full }, 'cluster: session/closed handler failed'); }
        await this.cmd.delIfOwner(this.keys.bare(bareOf(e.full)), this.keys.nodeSessions(node), e.full, '', node);
      }
      await this.cmd.multi().del(this.keys.nodeSessions(node)).hdel(this.keys.nodes, node).del(this.keys.alive(node))
        .publish(this.keys.events, JSON.stringify({ t: 'leave', node } satisfies RegistryEvent)).exec();
    } finally {
      if (locked) await this.cmd.del(lock);
    }
  }

  /** Delete what Redis says this node owns (before writing the truth again). */
  async clearOwn(): Promise<void> {
    const fulls = await this.cmd.smembers(this.keys.nodeSessions(this.me));
    if (!fulls.length) return;
    // defineCommand adds the script to pipelines too; ioredis' types only know built-in commands.
    const p = this.cmd.pipeline() as unknown as { delIfOwner(...a: string[]): void; exec(): Promise<unknown> };
    for (const f of fulls) p.delIfOwner(this.keys.bare(bareOf(f)), this.keys.nodeSessions(this.me), f, '', this.me);
    await p.exec();
  }
}
