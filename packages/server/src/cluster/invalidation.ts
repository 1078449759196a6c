// Cache invalidation across cluster nodes, acknowledged (issue #8). A module that keeps an
// account's data in memory (PubSub/PEP services, privacy lists) fires 'cache/invalidate' after
// it changed that data in storage; every other node drops its copy.
//
// Why acknowledged: a fire-and-forget PUBLISH let the changing node answer its client before
// the other nodes had read the invalidation, so a client that published through node 2 and read
// through node 1 right after could get node 1's stale copy (a CI run lost the last PEP item of a
// concurrent burst that way). Now the change's 'cache/invalidate' resolves only when every node
// that received the event has run its handlers and answered, or after `waitMs` (a stalled node
// must not stall every change in the cluster; it is logged). How many must answer is what
// PUBLISH returns: the number of nodes subscribed to the events channel, this one included, so
// no membership list is read and a node joining meanwhile is not waited for.

import { randomUUID } from 'node:crypto';
import type { Logger } from '../log/logger.js';
import type { DirectMessage, RegistryEvent } from './wire.js';

export interface InvalidationDeps {
  name: string;
  log: Logger;
  waitMs: number;
  /** PUBLISH to the events channel; resolves to the number of subscribers that received it. */
  publishEvent(ev: RegistryEvent): Promise<number>;
  /** Send a message to one node's inbox. */
  direct(node: string, msg: DirectMessage): void;
  /** Run this node's handlers for a change made elsewhere. */
  runHandlers(scope: string, host: string, user: string): Promise<void>;
}

/** `expected` is known once PUBLISH has answered; acknowledgements may arrive before that. */
interface Waiting { acks: number; expected?: number; done: () => void; timer: NodeJS.Timeout }

export class ClusterInvalidation {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly deps: InvalidationDeps) {}

  /** Tell the other nodes; resolves when they have all dropped their copy (or after waitMs). */
  async broadcast(scope: string, host: string, user: string): Promise<void> {
    const rid = randomUUID();
    const acked = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        const w = this.waiting.get(rid);
        this.waiting.delete(rid);
        if (w) this.deps.log.warn({ scope, host, user, missing: (w.expected ?? 0) - w.acks, waitMs: this.deps.waitMs }, 'cluster: a node did not confirm a cache invalidation in time');
        resolve();
      }, this.deps.waitMs);
      this.waiting.set(rid, { acks: 0, done: resolve, timer });
    });
    let receivers: number;
    try {
      receivers = await this.deps.publishEvent({ t: 'invalidate', node: this.deps.name, scope, host, user, rid });
    } catch (e) {
      // Redis is down: nobody can be told (the other nodes drop every cache when they re-join).
      this.deps.log.warn({ err: (e as Error).message, scope, host, user }, 'cluster: cache invalidation not sent');
      this.settle(rid);
      return;
    }
    const w = this.waiting.get(rid);
    if (w) {
      w.expected = Math.max(0, receivers - 1); // every subscriber but this node
      if (w.acks >= w.expected) this.settle(rid);
    }
    await acked;
  }

  /** Another node changed an account's data: drop ours, then confirm. */
  onEvent(ev: Extract<RegistryEvent, { t: 'invalidate' }>): void {
    this.deps.runHandlers(ev.scope, ev.host, ev.user)
      .catch((e: unknown) => this.deps.log.error({ err: e }, 'cluster: cache/invalidate handler failed'))
      .finally(() => { if (ev.rid) this.deps.direct(ev.node, { t: 'invalidated', rid: ev.rid }); });
  }

  /** A node confirmed. */
  onAck(rid: string): void {
    const w = this.waiting.get(rid);
    if (!w) return;
    w.acks += 1;
    if (w.expected !== undefined && w.acks >= w.expected) this.settle(rid);
  }

  private settle(rid: string): void {
    const w = this.waiting.get(rid);
    if (!w) return;
    this.waiting.delete(rid);
    clearTimeout(w.timer);
    w.done();
  }

  /** Stop waiting (the node is stopping). */
  stop(): void { for (const rid of [...this.waiting.keys()]) this.settle(rid); }
}
