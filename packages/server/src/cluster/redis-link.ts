// The node's two Redis connections (ioredis): `cmd` for registry writes, membership and every
// PUBLISH (one connection, so what a node publishes stays in order), and `sub` for its
// subscriptions. Offline queueing is off on `cmd`: while Redis is away a command fails at once,
// so a cross-node stanza gets an error instead of waiting in memory; ioredis keeps reconnecting
// and `onRecovered` runs once both connections are back (the node re-registers itself then).

import { Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';
import type { ClusterConfig } from '../config/cluster-schema.js';
import { DEL_IF_OWNER_LUA } from './wire.js';

export type ClusterRedis = Redis & {
  delIfOwner(bareKey: string, nodeSetKey: string, full: string, id: string, node: string): Promise<number>;
};

export interface RedisLinkHandlers {
  onMessage(channel: string, message: string): void;
  /** Both connections are usable again after an outage. */
  onRecovered(): void;
}

export class RedisLink {
  readonly cmd: ClusterRedis;
  readonly sub: Redis;
  private cmdUp = false;
  private subUp = false;
  private lost = false;
  private stopping = false;
  private lastErrorLog = 0;

  constructor(private readonly cfg: ClusterConfig, private readonly node: string, private readonly log: Logger, private readonly handlers: RedisLinkHandlers) {
    const common = {
      lazyConnect: true,
      connectionName: `magpie-${node}`,
      connectTimeout: Math.round(cfg.connectTimeoutSeconds * 1000),
      // Reconnect forever, at most every 2 s: a restarted Redis is picked up without an operator.
      retryStrategy: (n: number) => Math.min(100 * n, 2000),
    };
    this.cmd = new Redis(cfg.redisUrl, { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: cfg.commandTimeoutMs }) as ClusterRedis;
    this.cmd.defineCommand('delIfOwner', { numberOfKeys: 2, lua: DEL_IF_OWNER_LUA });
    this.sub = new Redis(cfg.redisUrl, { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.watch(this.cmd, 'command', (up) => { this.cmdUp = up; });
    this.watch(this.sub, 'subscriber', (up) => { this.subUp = up; });
    this.sub.on('message', (ch: string, msg: string) => this.handlers.onMessage(ch, msg));
  }

  get up(): boolean { return this.cmdUp && this.subUp; }

  async connect(channels: string[]): Promise<void> {
    const deadline = `Redis at ${redact(this.cfg.redisUrl)} did not answer within ${this.cfg.connectTimeoutSeconds} s`;
    const timeout = <T>(p: Promise<T>): Promise<T> => Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(deadline)), this.cfg.connectTimeoutSeconds * 1000).unref())]);
    try {
      await timeout(Promise.all([this.cmd.connect(), this.sub.connect()]));
      await timeout(this.sub.subscribe(...channels));
    } catch (e) {
      this.stopping = true;
      this.cmd.disconnect(); this.sub.disconnect();
      throw new Error(`cluster: cannot reach Redis: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([this.cmd.quit(), this.sub.quit()]);
    this.cmd.disconnect(); this.sub.disconnect();
  }

  private watch(r: Redis, which: string, set: (up: boolean) => void): void {
    r.on('ready', () => {
      set(true);
      if (this.lost && this.up && !this.stopping) {
        this.lost = false;
        this.log.warn({ redis: redact(this.cfg.redisUrl) }, 'cluster: Redis is back; re-registering this node');
        this.handlers.onRecovered();
      }
    });
    r.on('close', () => {
      set(false);
      if (this.stopping || this.lost) return;
      this.lost = true;
      this.log.error({ redis: redact(this.cfg.redisUrl), connection: which }, 'cluster: lost the connection to Redis; stanzas for other nodes fail until it is back (reconnecting)');
    });
    // Without a listener an 'error' event would stop the process; one line per 10 s is enough.
    r.on('error', (e: Error) => {
      const now = Date.now();
      if (this.stopping || now - this.lastErrorLog < 10_000) return;
      this.lastErrorLog = now;
      this.log.warn({ err: e.message, connection: which }, 'cluster: Redis connection error');
    });
  }
}

/** A Redis URL without its password, for logs. */
export function redact(url: string): string { return url.replace(/\/\/([^@/]*)@/, '//***@'); }
