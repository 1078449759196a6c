// The outgoing queue: stanzas the application sends while the client is not online (still
// connecting, or reconnecting after a drop) wait here and are written, in order, as soon as a
// session is up again, so a send() never silently disappears during a reconnection.

import type { Element } from '@magpie/core/xml/element';

export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly limit: number) { super(`outgoing queue full (${limit} stanzas)`); }
}

export class OutgoingQueue {
  private items: Element[] = [];
  constructor(readonly limit = 1000) {}

  get length(): number { return this.items.length; }

  /** Queue a stanza; throws QueueFullError at the limit (the caller learns at once). */
  push(el: Element): void {
    if (this.items.length >= this.limit) throw new QueueFullError(this.limit);
    this.items.push(el);
  }

  /** Take everything, oldest first; stanzas queued while the caller writes go to the next drain. */
  drain(): Element[] {
    const out = this.items;
    this.items = [];
    return out;
  }

  /** Put stanzas back at the front (a write failed mid-flush). */
  unshift(els: Element[]): void { this.items = [...els, ...this.items]; }

  clear(): Element[] { return this.drain(); }
}
