// The stream management state of one session (XEP-0198): both counters, the unacked queue, the
// SM-ID and resumption settings, and the ack-request bookkeeping. Kept in session.data so it
// travels with the session when a new stream adopts it on resumption.

import { randomBytes } from 'node:crypto';
import { xml, type Element } from '@magpie/core/xml/element';
import { StreamError } from '@magpie/core/protocol/errors';
import type { LocalClientSession } from '../../stream/client-session.js';
import { advance, parseH } from './counter.js';
import { UnackedQueue } from './unacked-queue.js';
import type { MirrorHandle } from '../../session/unacked-mirror.js';

export const NS_SM = 'urn:xmpp:sm:3';
export const DATA_KEY = 'stream-management';

export interface SmOptions {
  resume: boolean;
  maxResumeSeconds: number;
  maxUnacked: number;
  queueOverflow: 'policy-violation' | 'resource-constraint';
  requestAfter: number;
  requestIntervalSeconds: number;
  maxHibernatedPerAccount: number;
  rememberExpired: number;
  handoverTimeoutMs: number;
  movedIdTtlSeconds: number;
}

export class SmSession {
  /** Stanzas received from the client and handled ('h' we report), modulo 2^32. */
  inbound = 0;
  readonly queue = new UnackedQueue();
  lastRequestAt = 0;
  requestOutstanding = false;
  suspendedAt = 0;
  expiry: NodeJS.Timeout | undefined;
  /** Being handed to another cluster node: neither resumable here nor expiring meanwhile. */
  parked = false;
  /** Moved here from another node: this node recorded itself as the holder of the SM-ID. */
  claimed = false;
  /** Cluster mode: the copy of the queue outside this process (session/unacked-mirror.ts). */
  mirror: MirrorHandle | undefined;

  /**
   * `id`, the SM-ID (§5): unguessable (144 random bits), never reused while the server runs; in
   * a cluster it ends in ".<node>" (see session/handover.ts). A session that moved here from
   * another node keeps the id it had there.
   */
  constructor(readonly session: LocalClientSession, readonly resumable: boolean, readonly timeoutSeconds: number, private readonly opts: SmOptions,
    readonly id = SmSession.newId()) {}

  static newId(): string { return randomBytes(18).toString('base64url'); }

  /** The stream the session is on now (a no-op placeholder while suspended). */
  write(el: Element): void { if (!this.session.suspended && !this.session.closed) this.session.currentStream.write(el); }

  onInbound(): void { this.inbound = advance(this.inbound); }

  /** Tap on every outbound stanza: count, queue, enforce the limit, request acks now and then. */
  onOutbound(stanza: Element): void {
    this.queue.push(stanza);
    this.mirror?.push(stanza, Date.now());
    if (this.queue.length > this.opts.maxUnacked) {
      // Deferred: we are inside the session's write path.
      queueMicrotask(() => {
        if (this.session.closed) return;
        this.session.log.info({ unacked: this.queue.length }, 'too many unacknowledged stanzas');
        this.session.close(new StreamError(this.opts.queueOverflow, 'too many unacknowledged stanzas'));
      });
      return;
    }
    if (this.queue.length >= this.opts.requestAfter && !this.requestOutstanding) {
      this.requestOutstanding = true; // one <r/> for a burst, not one per stanza
      queueMicrotask(() => this.request());
    }
  }

  /** Send <r/> (after the stanza being written, hence the microtask in onOutbound). */
  request(now = Date.now()): void {
    if (this.session.suspended || this.session.closed || this.queue.length === 0) return;
    this.requestOutstanding = true;
    this.lastRequestAt = now;
    this.write(xml('r', NS_SM));
  }

  /** The client's <a h/>; a count ahead of what we sent ends the stream (§6). */
  onAck(hAttr: string | undefined): void {
    const h = parseH(hAttr);
    if (h === undefined) throw new StreamError('bad-format', "<a/> needs an 'h' attribute holding an unsignedInt");
    const r = this.queue.ack(h);
    if (!r.ok) throw handledCountTooHigh(h, r.sent);
    if (r.acked) this.mirror?.ack(r.acked);
    this.requestOutstanding = false;
  }

  ackElement(): Element { return xml('a', NS_SM, { h: String(this.inbound) }); }
}

export function handledCountTooHigh(h: number, sent: number): StreamError {
  return new StreamError('undefined-condition', 'the acknowledged count is higher than the number of stanzas sent',
    xml('handled-count-too-high', NS_SM, { h: String(h), 'send-count': String(sent) }));
}

export function failed(condition: string, h?: number): Element {
  return xml('failed', NS_SM, h !== undefined ? { h: String(h) } : {}, xml(condition, 'urn:ietf:params:xml:ns:xmpp-stanzas'));
}
