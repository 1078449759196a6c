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

/** Sessions of a dead node announced closed at once, and how long the reaper's lock lives
    without a refresh (it is refreshed while the announcing runs). */
const REAP_CONCURRENCY = 16;
const REAP_LOCK_MS = 60_000;

const bareOf = (full: string): string => { const i = full.indexOf('/'); return i < 0 ? full : full.slice(0, i); };

export interface MembershipDeps {
  node: ClusterNode;
  config: ClusterConfig;
  log: Logger;
  registry: ClusterSessionRegistry;
  announceClosed(e: SessionEntry, why: string): Promise<void>;
  /** After its sessions: what else the dead node held (owned keys, ownership.ts). */
  reaped?(node: string): Promise<void>;
  /** Before its sessions are announced closed: their unacknowledged stanzas (unacked-mirror.ts),
      so that one re-routed to another resource never goes to one about to be announced gone. */
  orphaned?(node: string, entries: SessionEntry[]): Promise<void>;
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

  /** The registry entries `node` owns according to Redis: one pipeline per syncChunkSize
      entries (15,000 sessions: 15 round trips, none holding a huge reply). */
  async entriesOf(node: string): Promise<SessionEntry[]> {
    const fulls = await this.cmd.smembers(this.keys.nodeSessions(node));
    const out: SessionEntry[] = [];
    const chunk = this.deps.config.syncChunkSize;
    for (let i = 0; i < fulls.length; i += chunk) {
      const rows = await this.cmd.pipeline(fulls.slice(i, i + chunk).map((f) => ['hget', this.keys.bare(bareOf(f)), f])).exec();
      for (const [err, v] of rows ?? []) {
        const e = err ? undefined : parseEntry(v as string | null);
        if (e && e.node === node) out.push(e);
      }
    }
    return out;
  }

  /** delIfOwner of `node`'s entries `fulls`, pipelined by syncChunkSize. */
  private async deleteOwned(node: string, fulls: string[]): Promise<void> {
    const chunk = this.deps.config.syncChunkSize;
    for (let i = 0; i < fulls.length; i += chunk) {
      // defineCommand adds the script to pipelines too; ioredis' types only know built-in commands.
      const p = this.cmd.pipeline() as unknown as { delIfOwner(...a: string[]): void; exec(): Promise<unknown> };
      for (const f of fulls.slice(i, i + chunk)) p.delIfOwner(this.keys.bare(bareOf(f)), this.keys.nodeSessions(node), f, '', node);
      await p.exec();
    }
  }

  /**
   * `node` is gone: forget its sessions; if this node wins the lock (or `locked` is false: a
   * node clearing what its own previous run left), announce them closed and delete them.
   */
  async reap(node: string, locked: boolean): Promise<void> {
    this.deps.registry.dropNode(node);
    const lock = this.keys.reap(node);
    if (locked && (await this.cmd.set(lock, this.me, 'PX', REAP_LOCK_MS, 'NX')) !== 'OK') return;
    try {
      const entries = await this.entriesOf(node);
      this.deps.log.warn({ dead: node, sessions: entries.length }, node === this.me
        ? 'cluster: clearing sessions left by a previous run of this node'
        : 'cluster: node is gone; its sessions are closed and their contacts told');
      const why = `cluster node ${node} is gone`;
      // A node may have held 15,000 sessions: announce several at once (each reads a roster and
      // sends presence), and keep the lock while it takes, so no other node announces them again.
      const keep = locked ? setInterval(() => { this.cmd.pexpire(lock, REAP_LOCK_MS).catch(() => undefined); }, REAP_LOCK_MS / 4) : undefined;
      try { await this.deps.orphaned?.(node, entries); } catch (err) { this.deps.log.error({ err, dead: node }, 'cluster: recovering the unacknowledged stanzas of a dead node failed'); }
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < entries.length) {
          const e = entries[next++]!;
          try { await this.deps.announceClosed(e, why); } catch (err) { this.deps.log.error({ err, jid: e.full }, 'cluster: session/closed handler failed'); }
        }
      };
      try { await Promise.all(Array.from({ length: Math.min(REAP_CONCURRENCY, entries.length) }, worker)); } finally { if (keep) clearInterval(keep); }
      await this.deleteOwned(node, entries.map((e) => e.full));
      try { await this.deps.reaped?.(node); } catch (err) { this.deps.log.error({ err, dead: node }, 'cluster: clearing the keys of a dead node failed'); }
      await this.cmd.multi().del(this.keys.nodeSessions(node)).hdel(this.keys.nodes, node).del(this.keys.alive(node))
        .publish(this.keys.events, JSON.stringify({ t: 'leave', node } satisfies RegistryEvent)).exec();
    } finally {
      if (locked) await this.cmd.del(lock);
    }
  }

  /** Delete what Redis says this node owns (when it stops). */
  async clearOwn(): Promise<void> {
    await this.deleteOwned(this.me, await this.cmd.smembers(this.keys.nodeSessions(this.me)));
  }
}
