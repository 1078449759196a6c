// The typed hook bus every module hangs off (ARCHITECTURE.md "One feature = one module").
// Semantics follow Prosody's event model: handlers run in priority order (higher first); a
// handler that returns anything but `undefined` stops the event and that value is the result.
// Event names must be declared (./events.ts); subscribing to an unknown name throws, so a typo
// in a module fails at start, not silently at run time (the Fastify lesson).
// A handler that throws is caught by the bus's caller (the router turns it into an
// internal-server-error for that stanza), never by the handler's siblings.

import { isKnownEvent, type EventName, type EventPayload } from './events.js';

export type Handler<N extends EventName> = (payload: EventPayload<N>) => unknown;

interface Entry { handler: (p: unknown) => unknown; priority: number; seq: number }

export class HookBus {
  private handlers = new Map<string, Entry[]>();
  private seq = 0;

  /** Subscribe; returns the function that removes this subscription. */
  on<N extends EventName>(name: N, handler: Handler<N>, priority = 0): () => void {
    if (!isKnownEvent(name)) throw new Error(`unknown hook event '${name}'`);
    let list = this.handlers.get(name);
    if (!list) { list = []; this.handlers.set(name, list); }
    const entry: Entry = { handler: handler as (p: unknown) => unknown, priority, seq: this.seq++ };
    list.push(entry);
    // Stable: equal priorities run in subscription order.
    list.sort((a, b) => b.priority - a.priority || a.seq - b.seq);
    return () => {
      const l = this.handlers.get(name);
      if (!l) return;
      const i = l.indexOf(entry);
      if (i >= 0) l.splice(i, 1);
      if (l.length === 0) this.handlers.delete(name);
    };
  }

  has(name: string): boolean { return this.handlers.has(name); }

  /**
   * Fire an event: await each handler in turn until one returns a value. Returns that value, or
   * undefined when every handler passed. Async so handlers may touch storage.
   */
  async fire<N extends EventName>(name: N, payload: EventPayload<N>): Promise<unknown> {
    const list = this.handlers.get(name);
    if (!list) return undefined;
    // Copy: a handler may unsubscribe itself while the event runs.
    for (const e of list.length === 1 ? list : list.slice()) {
      let r = e.handler(payload);
      if (r !== undefined && typeof (r as Promise<unknown>)?.then === 'function') r = await r;
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** Fire to every handler regardless of return values (notifications). */
  async emit<N extends EventName>(name: N, payload: EventPayload<N>): Promise<void> {
    const list = this.handlers.get(name);
    if (!list) return;
    for (const e of list.slice()) {
      const r = e.handler(payload);
      if (r !== undefined && typeof (r as Promise<unknown>)?.then === 'function') await r;
    }
  }
}
