// The server's outbound side of XEP-0198 §4: every stanza sent to the client since <enabled/>
// is counted and kept until the client's 'h' acknowledges it; what stays unacknowledged is
// retransmitted on resumption (§5) or handed to the death policy when the session ends.

import type { Element } from '@magpie/core/xml/element';
import { advance, distance } from './counter.js';

export interface Unacked { stanza: Element; /** When it was first sent (for a XEP-0203 delay). */ when: number }

export type AckResult = { ok: true; acked: number } | { ok: false; sent: number };

export class UnackedQueue {
  /** Stanzas sent, modulo 2^32. */
  sent = 0;
  /** The last 'h' the client reported. */
  acked = 0;
  private items: Unacked[] = [];
  private head = 0;

  get length(): number { return this.items.length - this.head; }

  push(stanza: Element, when = Date.now()): void {
    this.items.push({ stanza, when });
    this.sent = advance(this.sent);
  }

  /**
   * Apply the client's 'h': drop what it acknowledges. An 'h' ahead of what was sent is the
   * peer's error (§6 handled-count-too-high); the queue is left as it was.
   */
  ack(h: number): AckResult {
    const n = distance(this.acked, h);
    if (n > this.length) return { ok: false, sent: this.sent };
    this.head += n;
    this.acked = h;
    // Compact now and then rather than shifting on every ack.
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items = this.items.slice(this.head); this.head = 0; }
    return { ok: true, acked: n };
  }

  /** The unacknowledged stanzas, oldest first. */
  pending(): Unacked[] { return this.items.slice(this.head); }

  /** Take everything out (the session is ending). */
  drain(): Unacked[] { const out = this.pending(); this.items = []; this.head = 0; this.acked = this.sent; return out; }
}
