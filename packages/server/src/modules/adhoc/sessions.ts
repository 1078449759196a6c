// Command sessions (XEP-0050 §3.3, §3.4): the state of a multi-stage command between requests,
// keyed by a random sessionid and bound to the requester's full JID and the command's node.
// Limited because every open session holds memory a client chose to allocate: each one expires
// after `timeoutMs` without a request, and one account may hold at most `perUser` at a time (a
// new one beyond that is refused, not evicting the others, so no one can cancel an admin's
// session by flooding). Ended sessions are remembered for one more timeout so that a late
// request is told session-expired rather than bad-sessionid (§4.6).

import { randomBytes } from 'node:crypto';

export interface CommandSession {
  id: string;
  node: string;
  /** Full JID of the requester. */
  requester: string;
  /** Bare JID of the requester (the per-user limit). */
  owner: string;
  host: string;
  stage: number;
  state: Record<string, unknown>;
  /** Actions offered at the last stage, and what 'execute' meant there. */
  actions: ('next' | 'complete')[];
  execute: 'next' | 'complete';
  expires: number;
}

export interface SessionLimits { timeoutMs: number; perUser: number; total: number }

export type OpenResult = CommandSession | 'per-user-limit' | 'total-limit';

export class CommandSessions {
  private readonly open = new Map<string, CommandSession>();
  /** Ended (or expired) session ids and when they are forgotten. */
  private readonly ended = new Map<string, number>();
  private readonly byOwner = new Map<string, number>();

  constructor(private readonly limits: SessionLimits, private readonly now: () => number = Date.now) {}

  get size(): number { return this.open.size; }

  start(node: string, requester: string, owner: string, host: string): OpenResult {
    this.sweep();
    if (this.open.size >= this.limits.total) return 'total-limit';
    if ((this.byOwner.get(owner) ?? 0) >= this.limits.perUser) return 'per-user-limit';
    const s: CommandSession = {
      id: randomBytes(12).toString('base64url'), node, requester, owner, host,
      stage: 0, state: {}, actions: [], execute: 'complete', expires: this.now() + this.limits.timeoutMs,
    };
    this.open.set(s.id, s);
    this.byOwner.set(owner, (this.byOwner.get(owner) ?? 0) + 1);
    return s;
  }

  /** The open session `id`, 'expired' when it ended or timed out lately, undefined when unknown. */
  get(id: string): CommandSession | 'expired' | undefined {
    const s = this.open.get(id);
    if (s && s.expires <= this.now()) { this.end(s); return 'expired'; }
    if (s) return s;
    const gone = this.ended.get(id);
    return gone !== undefined && gone > this.now() ? 'expired' : undefined;
  }

  touch(s: CommandSession): void { s.expires = this.now() + this.limits.timeoutMs; }

  end(s: CommandSession): void {
    if (!this.open.delete(s.id)) return;
    const n = (this.byOwner.get(s.owner) ?? 1) - 1;
    if (n > 0) this.byOwner.set(s.owner, n); else this.byOwner.delete(s.owner);
    // Bounded like the open sessions: the oldest tombstones go first.
    if (this.ended.size >= this.limits.total) this.ended.delete(this.ended.keys().next().value!);
    this.ended.set(s.id, this.now() + this.limits.timeoutMs);
  }

  /** Ends the timed-out sessions and forgets old tombstones (also run by a timer). */
  sweep(): void {
    const t = this.now();
    for (const s of [...this.open.values()]) if (s.expires <= t) this.end(s);
    for (const [id, until] of this.ended) if (until <= t) this.ended.delete(id);
  }

  clear(): void { this.open.clear(); this.ended.clear(); this.byOwner.clear(); }
}
