// The registry of online sessions (RFC 6120 §7, RFC 6121 §8 delivery needs "which resources of
// this account are online"). Behind an interface so the cluster backend (Redis) can implement
// it later; this in-memory one serves a single node.

import type { ClientSession } from './session.js';

export interface SessionRegistry {
  /** Add a bound session; returns the previous session with the same full JID, if any. */
  add(session: ClientSession): ClientSession | undefined;
  remove(session: ClientSession): void;
  /** Session for a full JID string. */
  get(fullJid: string): ClientSession | undefined;
  /** All sessions of a bare JID string (empty array when none). */
  resources(bareJid: string): readonly ClientSession[];
  /** Every local session (for shutdown and admin). */
  all(): IterableIterator<ClientSession>;
  readonly size: number;
}

export class LocalSessionRegistry implements SessionRegistry {
  private byFull = new Map<string, ClientSession>();
  private byBare = new Map<string, ClientSession[]>();
  private static readonly EMPTY: readonly ClientSession[] = Object.freeze([]);

  add(session: ClientSession): ClientSession | undefined {
    const full = session.jid.toString();
    const prev = this.byFull.get(full);
    if (prev) this.remove(prev);
    this.byFull.set(full, session);
    const bare = session.jid.bareString();
    const list = this.byBare.get(bare);
    if (list) list.push(session); else this.byBare.set(bare, [session]);
    return prev;
  }

  remove(session: ClientSession): void {
    const full = session.jid.toString();
    if (this.byFull.get(full) !== session) return;
    this.byFull.delete(full);
    const bare = session.jid.bareString();
    const list = this.byBare.get(bare);
    if (!list) return;
    const i = list.indexOf(session);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byBare.delete(bare);
  }

  get(fullJid: string): ClientSession | undefined { return this.byFull.get(fullJid); }
  resources(bareJid: string): readonly ClientSession[] { return this.byBare.get(bareJid) ?? LocalSessionRegistry.EMPTY; }
  all(): IterableIterator<ClientSession> { return this.byFull.values(); }
  get size(): number { return this.byFull.size; }
}
