// Elements waiting for the stream negotiation (RFC 6120 §4.3 onwards runs as sequential steps,
// each awaiting the server's next element). Stanzas that arrive meanwhile (a message routed to
// the freshly bound JID before <enabled/>) are kept aside and dispatched once the client is online.

import type { Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StreamError, TimeoutError } from './errors.js';

interface Waiter { pred: (el: Element) => boolean; resolve: (el: Element) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }

export class Inbox {
  private waiter: Waiter | undefined;
  private buffered: Element[] = [];
  /** Elements nobody waited for, in arrival order. */
  readonly stash: Element[] = [];
  private error: Error | undefined;

  push(el: Element): void {
    if (el.name === 'error' && el.xmlns === NS.STREAM) { this.fail(StreamError.fromElement(el)); return; }
    const w = this.waiter;
    if (w && w.pred(el)) { this.waiter = undefined; clearTimeout(w.timer); w.resolve(el); return; }
    if (w) this.stash.push(el); else this.buffered.push(el);
  }

  fail(err: Error): void {
    this.error ??= err;
    const w = this.waiter;
    if (w) { this.waiter = undefined; clearTimeout(w.timer); w.reject(this.error); }
  }

  /** The next element matching `pred`; the ones before it that do not match are stashed. */
  next(pred: (el: Element) => boolean, what: string, ms: number): Promise<Element> {
    if (this.error) return Promise.reject(this.error);
    while (this.buffered.length) {
      const el = this.buffered.shift()!;
      if (pred(el)) return Promise.resolve(el);
      this.stash.push(el);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = undefined; reject(new TimeoutError('waiting for ' + what, ms)); }, ms);
      this.waiter = { pred, resolve, reject, timer };
    });
  }

  /** Everything not consumed, oldest first. */
  takeRest(): Element[] {
    const all = [...this.stash, ...this.buffered];
    this.stash.length = 0;
    this.buffered = [];
    return all;
  }
}
