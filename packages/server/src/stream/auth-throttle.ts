// Slows repeated SASL failures per remote address and per account (issue: "repeated failures
// are slowed per address and per account"). Each failure inside the window adds to a count; past
// `authFailuresBeforeDelay` the failure answer is delayed exponentially (capped), and past
// `authLockoutFailures` attempts are refused with temporary-auth-failure until the window passes.
// Memory is bounded: entries expire with the window and the maps are capped.

import type { Limits } from '../config/schema.js';

interface Entry { count: number; first: number }
const MAX_ENTRIES = 100_000;

export class AuthThrottle {
  private byAddress = new Map<string, Entry>();
  private byAccount = new Map<string, Entry>();
  constructor(private readonly limits: Limits, private readonly now: () => number = Date.now) {}

  private live(map: Map<string, Entry>, key: string): Entry | undefined {
    const e = map.get(key);
    if (e && this.now() - e.first > this.limits.authFailureWindow * 1000) { map.delete(key); return undefined; }
    return e;
  }

  /** True when this address or account must be refused outright for now. */
  lockedOut(address: string, account?: string): boolean {
    const max = this.limits.authLockoutFailures;
    if ((this.live(this.byAddress, address)?.count ?? 0) >= max) return true;
    return account !== undefined && (this.live(this.byAccount, account)?.count ?? 0) >= max;
  }

  /** Record a failure; returns the delay (ms) to apply before answering. */
  failure(address: string, account?: string): number {
    const a = this.bump(this.byAddress, address);
    const b = account !== undefined ? this.bump(this.byAccount, account) : 0;
    const n = Math.max(a, b) - this.limits.authFailuresBeforeDelay;
    if (n <= 0) return 0;
    return Math.min(this.limits.authMaxDelayMs, 250 * 2 ** Math.min(n - 1, 20));
  }

  /** A success clears the account's count (not the address's: one address may host an attacker). */
  success(account: string): void { this.byAccount.delete(account); }

  private bump(map: Map<string, Entry>, key: string): number {
    let e = this.live(map, key);
    if (!e) {
      if (map.size >= MAX_ENTRIES) this.prune(map);
      e = { count: 0, first: this.now() };
      map.set(key, e);
    }
    return ++e.count;
  }

  private prune(map: Map<string, Entry>): void {
    const horizon = this.now() - this.limits.authFailureWindow * 1000;
    for (const [k, e] of map) if (e.first < horizon) map.delete(k);
    // Still full: drop the oldest half (Map iterates in insertion order).
    if (map.size >= MAX_ENTRIES) { let i = 0; for (const k of map.keys()) { if (i++ > MAX_ENTRIES / 2) break; map.delete(k); } }
  }
}
