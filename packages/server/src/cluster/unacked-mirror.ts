// The Redis side of the unacknowledged-queue mirror (issue #8; XEP-0198 §4; the contract is
// ../session/unacked-mirror.ts). Each SM-enabled session of this node has a list
// <p>:unacked:<node>:<smid> of "<when> <stanza>" in queue order, and an entry in the node's index
// <p>:unackedidx:<node> (SM-ID -> full JID), so the node reaping a dead one finds every mirror
// without trusting the registry. Keyed by SM-ID, not full JID: a new session replacing an old
// one under the same resource must not share (or lose) its copy while the old one is handled.
//
// Cost on the stanza path: one serialisation and an array push. The commands of one event-loop
// turn leave in one pipeline (consecutive pushes to one list in one RPUSH), never one round trip
// per stanza. A write that fails (Redis away) is only logged: the mirror is a safety net for a
// node's death, the live queue in memory stays the reference.

import { serialize, type Element } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import type { Logger } from '../log/logger.js';
import type { MirrorHandle, UnackedMirrorService } from '../session/unacked-mirror.js';
import type { ClusterRedis } from './redis-link.js';
import type { ClusterKeys } from './wire.js';

/** What the mirror needs of its node. */
export interface MirrorLink { readonly name: string; readonly keys: ClusterKeys; readonly cmd: ClusterRedis; readonly log: Logger }

/** One recovered queue: the session's SM-ID, full JID and stanzas, oldest first. */
export interface Orphan { smId: string; full: string; stanzas: { stanza: Element; when: number }[] }

type Op = [cmd: 'rpush' | 'ltrim' | 'del' | 'hset' | 'hdel', key: string, ...args: (string | number)[]];

export class ClusterUnackedMirror implements UnackedMirrorService {
  private ops: Op[] = [];
  private scheduled = false;
  private inflight: Promise<void> = Promise.resolve();
  /** The open mirrors: SM-ID -> full JID (to write the index again, see reindex). */
  private readonly open_ = new Map<string, string>();

  constructor(private readonly node: MirrorLink) {}

  open(smId: string, full: string, limit: number): MirrorHandle {
    const key = this.node.keys.unacked(this.node.name, smId);
    const index = this.node.keys.unackedIndex(this.node.name);
    let length = 0;
    let closed = false;
    this.open_.set(smId, full);
    this.add(['hset', index, smId, full]);
    return {
      push: (stanza, when) => {
        if (closed) return;
        const item = `${when} ${serialize(stanza)}`;
        const last = this.ops.at(-1);
        if (last && last[0] === 'rpush' && last[1] === key) last.push(item); else this.add(['rpush', key, item]);
        // Beyond the limit the module is closing the session anyway: keep the copy bounded.
        if (++length > limit) { this.add(['ltrim', key, -limit, -1]); length = limit; }
      },
      ack: (n) => {
        if (closed || n <= 0) return;
        length = Math.max(0, length - n);
        this.add(['ltrim', key, n, -1]);
      },
      close: () => {
        if (closed) return;
        closed = true;
        this.open_.delete(smId);
        this.add(['del', key]);
        this.add(['hdel', index, smId]);
      },
    };
  }

  private add(op: Op): void {
    this.ops.push(op);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Send what this turn queued, in order, in one pipeline. */
  private flush(): void {
    this.scheduled = false;
    const ops = this.ops;
    if (!ops.length) return;
    this.ops = [];
    const run = this.node.cmd.pipeline(ops as [string, ...(string | number)[]][]).exec().then((res) => {
      const failed = res?.filter(([err]) => err).length ?? 0;
      if (failed) this.node.log.debug({ failed, of: ops.length }, 'cluster: unacked mirror writes failed');
    }, (e: unknown) => this.node.log.debug({ err: (e as Error).message }, 'cluster: unacked mirror not written (Redis unavailable)'));
    this.inflight = this.inflight.then(() => run);
  }

  /**
   * This node (re)registered: after a Redis restart, or after the others took it for dead (a
   * stall longer than deadAfterSeconds) and recovered its mirrors, the index is written again so
   * that its sessions' later stanzas are found. (In the second case what the reaper recovered is
   * also still queued here: a stanza may then be delivered twice, never lost.)
   */
  async reindex(chunk: number): Promise<void> {
    const all = [...this.open_];
    const index = this.node.keys.unackedIndex(this.node.name);
    for (let i = 0; i < all.length; i += chunk) await this.node.cmd.hset(index, Object.fromEntries(all.slice(i, i + chunk)));
  }

  /** Everything queued so far is written (or failed): before the node leaves. */
  async flushed(): Promise<void> {
    if (this.scheduled) this.flush();
    await this.inflight;
  }

  /**
   * The mirrors `node` left (it died, or is this node's previous run): each queue is handed to
   * `handle` (several at once, `concurrency`), then deleted. Returns how many stanzas there were.
   */
  async recover(node: string, chunk: number, concurrency: number, handle: (o: Orphan) => Promise<void>): Promise<{ sessions: number; stanzas: number }> {
    const cmd = this.node.cmd;
    const index = this.node.keys.unackedIndex(node);
    const all = Object.entries(await cmd.hgetall(index));
    let stanzas = 0;
    for (let i = 0; i < all.length; i += chunk) {
      const part = all.slice(i, i + chunk);
      const rows = await cmd.pipeline(part.map(([smId]) => ['lrange', this.node.keys.unacked(node, smId), 0, -1])).exec();
      const orphans: Orphan[] = [];
      part.forEach(([smId, full], j) => {
        const [err, items] = rows?.[j] ?? [];
        if (err || !Array.isArray(items)) return;
        const parsed = (items as string[]).map(parseItem).filter((x): x is Orphan['stanzas'][number] => !!x);
        if (parsed.length) orphans.push({ smId, full, stanzas: parsed });
        stanzas += parsed.length;
      });
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < orphans.length) {
          const o = orphans[next++]!;
          try { await handle(o); } catch (e) { this.node.log.error({ err: e, jid: o.full }, 'cluster: recovering unacknowledged stanzas failed'); }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, orphans.length) }, worker));
      // Deleted once handled: a reaper that dies meanwhile leaves them to the next one (a
      // duplicate is better than a loss).
      await cmd.pipeline(part.flatMap(([smId]) => [['del', this.node.keys.unacked(node, smId)], ['hdel', index, smId]])).exec();
    }
    await cmd.del(index);
    return { sessions: all.length, stanzas };
  }
}

function parseItem(s: string): { stanza: Element; when: number } | undefined {
  const sp = s.indexOf(' ');
  const when = Number(s.slice(0, sp));
  if (sp < 1 || !Number.isFinite(when)) return undefined;
  try { return { stanza: parseFragment(s.slice(sp + 1)), when }; } catch { return undefined; }
}
