// Tracking of outstanding iq requests (RFC 6120 §8.2.3: every get/set gets exactly one result or
// error with the same id). A response is matched by id AND by who sent it, so another entity
// cannot answer our request by guessing the id; requests time out with a TimeoutError.

import type { Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { TimeoutError, XmppError } from './errors.js';

interface Pending { to: string | undefined; resolve: (el: Element) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }

let counter = 0;
/** Unpredictable enough ids for stanzas: a random prefix per page/process and a counter. */
const PREFIX = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(36).padStart(2, '0')).join('');
export function newId(): string { return PREFIX + (++counter).toString(36); }

function norm(s: string | undefined): string | undefined {
  if (s === undefined || s === '') return undefined;
  return JID.tryParse(s)?.toString() ?? s;
}

export class IqTracker {
  private readonly pending = new Map<string, Pending>();

  get size(): number { return this.pending.size; }

  track(id: string, to: string | undefined, ms: number): Promise<Element> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(id); reject(new TimeoutError(`iq ${id}${to ? ' to ' + to : ''}`, ms)); }, ms);
      this.pending.set(id, { to: norm(to), resolve, reject, timer });
    });
  }

  /** Settle the request this result/error answers; false when it answers none of ours. `own`:
      our full JID, whose bare JID and domain may answer requests sent without 'to'. */
  handle(iq: Element, own: JID | undefined): boolean {
    const type = iq.attr('type');
    if (type !== 'result' && type !== 'error') return false;
    const id = iq.attr('id');
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p) return false;
    const from = norm(iq.attr('from'));
    const ok = p.to === undefined
      ? from === undefined || (own !== undefined && (from === own.bareString() || from === own.domain || from === own.toString()))
      : from === p.to || (from === undefined && own !== undefined && p.to === own.bareString());
    if (!ok) return false;
    this.pending.delete(id!);
    clearTimeout(p.timer);
    if (type === 'result') p.resolve(iq); else p.reject(XmppError.fromStanza(iq));
    return true;
  }

  rejectAll(err: Error): void {
    for (const [id, p] of this.pending) { clearTimeout(p.timer); this.pending.delete(id); p.reject(err); }
  }
}
