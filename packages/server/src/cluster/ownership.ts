// Keys owned by one node at a time, and stanzas for them carried to their owner (issue #8: "MUC
// rooms (one node owns a room at a time, ownership moves when that node dies)"). The module
// side is the OWNED_KEYS_SERVICE interface (modules/owned-keys.ts); this is its Redis side.
//
// Keys (under the cluster prefix; <ns> is a module's namespace, e.g. muc:conference.example):
//   <p>:own:<ns>:<key>       string  the owning node (claimed with a script: exactly one winner)
//   <p>:ownstate:<ns>:<key>  string  the owner's snapshot of the key's state (takeover)
//   <p>:ownlog:<ns>:<key>    list    the owner's capped log beside the snapshot (a MUC room's
//                                    discussion history), oldest first; goes with the snapshot
//   <p>:owndir:<ns>          hash    key -> label, the listed keys of every node
//   <p>:nodeown:<node>       set     JSON [ns, key] of what that node claimed (cleared when it dies)
// A stanza for a key goes to the owner as {t:'svc'} on <p>:to:<node>; PUBLISH reaching nobody
// means the owner died: its claim is cleared and the sender claims the key itself. The node
// that reaps a dead node clears its claims and takes its keys over at once (orphaned()).
// Every write here goes through the node's one command connection, so they keep their order;
// log appends wait for the end of the event-loop turn and go out as one script call per key,
// sent before any other write of that key (one Redis write per room and turn, never awaited by
// the groupchat fan-out).

import { JID } from '@magpie/core/jid/jid';
import { serialize, type Element } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import type { Logger } from '../log/logger.js';
import type { OwnedKeys, OwnedKeysHandlers, OwnedKeysProvider } from '../modules/owned-keys.js';
import type { StanzaEvent } from '../hooks/events.js';
import type { ClusterRedis } from './redis-link.js';
import type { DirectMessage } from './wire.js';

/** Re-routings of one stanza between nodes before it is dropped (claims moving under it). */
export const MAX_OWNER_HOPS = 3;

const CLAIM_LUA = `
local cur = redis.call('GET', KEYS[1])
if cur then return cur end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return ARGV[1]`;

const RELEASE_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  if ARGV[4] ~= '1' then redis.call('DEL', KEYS[2], KEYS[5]); redis.call('HDEL', KEYS[3], ARGV[3]) end
end
redis.call('SREM', KEYS[4], ARGV[2])
return 1`;

/** Clear a claim only if `node` (ARGV[1]) still holds it. */
const CLEAR_IF_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]); return 1 end
return 0`;

const SAVE_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
if ARGV[4] == '' then redis.call('HDEL', KEYS[3], ARGV[3]) else redis.call('HSET', KEYS[3], ARGV[3], ARGV[4]) end
return 1`;

/** Owner-only: reset the log when ARGV[3] is '1', append ARGV[4..], keep the last ARGV[2]
    entries (delete the log when that is 0). RPUSH in slices: Lua's unpack() has a stack limit. */
const LOG_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local max = tonumber(ARGV[2])
if ARGV[3] == '1' or max <= 0 then redis.call('DEL', KEYS[2]) end
if max <= 0 then return 1 end
for i = 4, #ARGV, 1000 do redis.call('RPUSH', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV))) end
redis.call('LTRIM', KEYS[2], -max, -1)
return 1`;

type Scripts = ClusterRedis & {
  ownClaim(owner: string, nodeSet: string, me: string, member: string): Promise<string>;
  ownRelease(owner: string, state: string, dir: string, nodeSet: string, log: string, me: string, member: string, key: string, keep: string): Promise<number>;
  ownClearIf(owner: string, node: string): Promise<number>;
  ownSave(owner: string, state: string, dir: string, me: string, json: string, key: string, label: string): Promise<number>;
  ownLog(owner: string, log: string, me: string, max: string, reset: string, ...entries: string[]): Promise<number>;
};

/** Log appends of the current event-loop turn for one key, all under the same cap. */
interface LogBatch { owner: string; entries: string[]; max: number }

/** What ownership needs of the cluster node. */
export interface OwnershipHost {
  readonly name: string;
  readonly cmd: ClusterRedis;
  readonly keys: { prefix: string; inbox(node: string): string };
  track(p: Promise<unknown>): void;
}

export class Ownership implements OwnedKeysProvider {
  private readonly spaces = new Map<string, OwnedKeysHandlers>();
  /** What this node claimed: written again after a Redis outage (Redis may come back empty). */
  private readonly mine = new Map<string, Set<string>>();
  private defined = false;
  /** Pending log appends by log key, written at the end of the turn (flushLogs). */
  private readonly batches = new Map<string, LogBatch>();
  private flushing: NodeJS.Immediate | undefined;

  constructor(private readonly host: OwnershipHost, private readonly log: Logger) {}

  get node(): string { return this.host.name; }

  private get cmd(): Scripts {
    const c = this.host.cmd as Scripts;
    if (!this.defined) {
      this.defined = true;
      c.defineCommand('ownClaim', { numberOfKeys: 2, lua: CLAIM_LUA });
      c.defineCommand('ownRelease', { numberOfKeys: 5, lua: RELEASE_LUA });
      c.defineCommand('ownClearIf', { numberOfKeys: 1, lua: CLEAR_IF_LUA });
      c.defineCommand('ownSave', { numberOfKeys: 3, lua: SAVE_LUA });
      c.defineCommand('ownLog', { numberOfKeys: 2, lua: LOG_LUA });
    }
    return c;
  }

  private k(kind: 'own' | 'ownstate' | 'ownlog', ns: string, key: string): string { return `${this.host.keys.prefix}:${kind}:${ns}:${key}`; }
  private dir(ns: string): string { return `${this.host.keys.prefix}:owndir:${ns}`; }
  private nodeSet(node: string): string { return `${this.host.keys.prefix}:nodeown:${node}`; }

  namespace(ns: string, handlers: OwnedKeysHandlers): OwnedKeys {
    if (this.spaces.has(ns)) throw new Error(`owned keys: namespace ${ns} is already taken`);
    this.spaces.set(ns, handlers);
    const me = this.host.name;
    const member = (key: string): string => JSON.stringify([ns, key]);
    return {
      node: me,
      resolve: async (key) => {
        const owner = await this.cmd.ownClaim(this.k('own', ns, key), this.nodeSet(me), me, member(key));
        if (owner === me) this.held(ns).add(key);
        return owner;
      },
      forward: async (owner, key, ev, hop) => {
        const msg: DirectMessage = { t: 'svc', ns, hop, from: ev.from.toString(), to: ev.to.toString(), x: serialize(ev.stanza) };
        if ((await this.cmd.publish(this.host.keys.inbox(owner), JSON.stringify(msg))) > 0) return true;
        this.log.info({ ns, key, owner }, 'cluster: the owner of a key is unreachable; clearing its claim');
        await this.cmd.ownClearIf(this.k('own', ns, key), owner);
        return false;
      },
      release: async (key, keepState = false) => {
        this.held(ns).delete(key);
        const log = this.k('ownlog', ns, key);
        this.flushLog(log);
        await this.cmd.ownRelease(this.k('own', ns, key), this.k('ownstate', ns, key), this.dir(ns), this.nodeSet(me), log, me, member(key), key, keepState ? '1' : '0');
      },
      saveState: (key, state, label) => {
        this.flushLog(this.k('ownlog', ns, key));
        this.host.track(this.cmd.ownSave(this.k('own', ns, key), this.k('ownstate', ns, key), this.dir(ns), me, state, key, label ?? ''));
      },
      loadState: async (key) => (await this.cmd.get(this.k('ownstate', ns, key))) ?? undefined,
      appendLog: (key, entry, max) => {
        const log = this.k('ownlog', ns, key);
        let b = this.batches.get(log);
        // A different cap ends the batch: the appends before it were trimmed to the old one.
        if (b && b.max !== max) { this.flushLog(log); b = undefined; }
        if (!b) this.batches.set(log, (b = { owner: this.k('own', ns, key), entries: [], max }));
        b.entries.push(entry);
        // What the cap would trim at once is neither kept nor sent.
        if (b.entries.length > max) b.entries.splice(0, b.entries.length - Math.max(0, max));
        this.flushing ??= setImmediate(() => this.flushLogs());
      },
      trimLog: (key, max) => {
        const log = this.k('ownlog', ns, key);
        this.flushLog(log);
        this.writeLog(this.k('own', ns, key), log, [], max, false);
      },
      replaceLog: (key, entries, max) => {
        const log = this.k('ownlog', ns, key);
        this.batches.delete(log); // replaced anyway
        this.writeLog(this.k('own', ns, key), log, entries, max, true);
      },
      loadLog: async (key) => {
        const log = this.k('ownlog', ns, key);
        this.flushLog(log);
        return this.cmd.lrange(log, 0, -1);
      },
      directory: async () => new Map(Object.entries(await this.cmd.hgetall(this.dir(ns)))),
    };
  }

  private writeLog(owner: string, log: string, entries: string[], max: number, reset: boolean): void {
    const cap = Math.max(0, Math.floor(max));
    this.host.track(this.cmd.ownLog(owner, log, this.host.name, String(cap), reset ? '1' : '0', ...(cap > 0 ? entries.slice(-cap) : [])));
  }

  /** Send the pending appends of one log now (before another write of its key). */
  private flushLog(log: string): void {
    const b = this.batches.get(log);
    if (!b) return;
    this.batches.delete(log);
    this.writeLog(b.owner, log, b.entries, b.max, false);
  }

  private flushLogs(): void {
    this.flushing = undefined;
    for (const log of [...this.batches.keys()]) this.flushLog(log);
  }

  private held(ns: string): Set<string> {
    let s = this.mine.get(ns);
    if (!s) this.mine.set(ns, (s = new Set()));
    return s;
  }

  /**
   * This node registers again (Redis came back, or the others thought it dead): claim again
   * what it holds. A key another node claimed meanwhile is that node's now; this node's copy
   * is dropped (the module's lost()).
   */
  async reclaim(): Promise<void> {
    const me = this.host.name;
    for (const [ns, keys] of this.mine) {
      const lost: string[] = [];
      for (const key of [...keys]) {
        const owner = await this.cmd.ownClaim(this.k('own', ns, key), this.nodeSet(me), me, JSON.stringify([ns, key]));
        if (owner !== me) { keys.delete(key); lost.push(key); }
      }
      const h = this.spaces.get(ns);
      if (!h) continue;
      // Kept keys: their snapshots may be gone with Redis' data; lost keys: see the log line.
      if (keys.size) this.host.track(h.reclaimed([...keys]).catch((e: unknown) => this.log.error({ err: e, ns }, 'cluster: re-mirroring keys failed')));
      if (!lost.length) continue;
      this.log.warn({ ns, keys: lost.length }, 'cluster: keys claimed by another node while this one was cut off; dropping this copy');
      this.host.track(h.lost(lost).catch((e: unknown) => this.log.error({ err: e, ns }, 'cluster: dropping lost keys failed')));
    }
  }

  /** A stanza another node carried here ({t:'svc'}). */
  deliver(m: Extract<DirectMessage, { t: 'svc' }>): void {
    const h = this.spaces.get(m.ns);
    const from = JID.tryParse(m.from);
    const to = JID.tryParse(m.to);
    if (!h || !from || !to) { this.log.warn({ ns: m.ns, to: m.to }, 'cluster: a keyed stanza nobody here handles'); return; }
    if (m.hop > MAX_OWNER_HOPS) { this.log.warn({ ns: m.ns, to: m.to }, 'cluster: keyed stanza dropped after too many re-routings'); return; }
    let stanza: Element;
    try { stanza = parseFragment(m.x); } catch { this.log.warn({ to: m.to }, 'cluster: unparsable keyed stanza'); return; }
    h.stanza({ stanza, origin: { kind: 'local' }, from, to }, m.hop)
      .catch((e: unknown) => this.log.error({ err: e, ns: m.ns }, 'cluster: keyed stanza handler failed'));
  }

  /** Clear every claim `node` holds (it died, or is this node stopping); returns them by namespace. */
  async releaseNode(node: string): Promise<Map<string, string[]>> {
    const set = this.nodeSet(node);
    const out = new Map<string, string[]>();
    for (const raw of await this.cmd.smembers(set)) {
      let ns: string, key: string;
      try { [ns, key] = JSON.parse(raw) as [string, string]; } catch { continue; }
      if ((await this.cmd.ownClearIf(this.k('own', ns, key), node)) !== 1) continue;
      let list = out.get(ns);
      if (!list) out.set(ns, (list = []));
      list.push(key);
    }
    await this.cmd.del(set);
    if (node === this.host.name) this.mine.clear();
    return out;
  }

  /** `dead` was reaped by this node: clear its claims and take its keys over. */
  async reaped(dead: string): Promise<void> {
    const orphans = await this.releaseNode(dead);
    for (const [ns, keys] of orphans) {
      const h = this.spaces.get(ns);
      if (!h) continue;
      this.log.warn({ dead, ns, keys: keys.length }, 'cluster: taking over the keys of a dead node');
      this.host.track(h.orphaned(keys, dead).catch((e: unknown) => this.log.error({ err: e, ns }, 'cluster: taking over keys failed')));
    }
  }
}
