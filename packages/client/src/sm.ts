// Client side of XEP-0198 Stream Management (v1.6): the two counters and the unacknowledged
// queue. §4 (handled counts are unsigned 32-bit and wrap), §4 (<a h/> acknowledges every stanza up
// to h; an h beyond what was sent is a protocol violation), §5 (resumption: <resumed h/> says
// what the server got, the rest is retransmitted). Pure state, no I/O: the connection drives it.

import type { Element } from '@magpie/core/xml/element';

export const SM_NS = 'urn:xmpp:sm:3';
const MOD = 2 ** 32;

export function isStanza(el: Element): boolean {
  return (el.name === 'message' || el.name === 'presence' || el.name === 'iq') && (el.xmlns === 'jabber:client' || el.xmlns === '');
}

export class HandledCountError extends Error {
  override readonly name = 'HandledCountError';
  constructor(readonly h: number, readonly sent: number) { super(`server acknowledged ${h} stanzas but only ${sent} were sent`); }
}

export class StreamManagementState {
  /** Stanzas received and handled since enable (the h we report). */
  inbound = 0;
  /** Stanzas sent since enable, modulo 2^32. */
  private outbound = 0;
  /** What the server last acknowledged, modulo 2^32. */
  private acked = 0;
  /** Sent and not yet acknowledged, oldest first. */
  private unacked: Element[] = [];
  /** Outbound counting is on (<enable/> sent, or a session resumed). */
  enabled = false;
  /** Inbound counting is on: the server counts from its <enabled/>, so we count what follows it. */
  counting = false;
  /** Resumption id from <enabled id resume='true'/>. */
  id: string | undefined;
  /** Server-given resumption window, seconds. */
  max: number | undefined;
  /** Preferred reconnection address (<enabled location/>). */
  location: string | undefined;

  get resumable(): boolean { return this.enabled && this.id !== undefined; }
  get pending(): readonly Element[] { return this.unacked; }
  get sentCount(): number { return this.outbound; }
  get ackedCount(): number { return this.acked; }

  /** <enable/> has been written: from now on both directions count. */
  start(): void {
    this.enabled = true;
    this.counting = false;
    this.inbound = 0;
    this.outbound = 0;
    this.acked = 0;
    this.unacked = [];
    this.id = undefined;
  }

  /** <enabled/> arrived. */
  confirm(el: Element): void {
    this.counting = true;
    this.id = el.attr('resume') === 'true' || el.attr('resume') === '1' ? el.attr('id') : undefined;
    const max = Number(el.attr('max'));
    this.max = Number.isFinite(max) && max > 0 ? max : undefined;
    this.location = el.attr('location');
  }

  /** Forget everything (resumption failed or the session ended); returns what was unacknowledged. */
  reset(): Element[] {
    const left = this.unacked;
    this.enabled = false;
    this.counting = false;
    this.id = undefined;
    this.inbound = this.outbound = this.acked = 0;
    this.unacked = [];
    return left;
  }

  onInbound(el: Element): void {
    if (this.counting && isStanza(el)) this.inbound = (this.inbound + 1) % MOD;
  }

  onOutbound(el: Element): void {
    if (!this.enabled || !isStanza(el)) return;
    this.outbound = (this.outbound + 1) % MOD;
    this.unacked.push(el);
  }

  /** Apply <a h/> or the h of <resumed/>/<failed/>: drop what it covers; returns the dropped
      stanzas. Throws HandledCountError when h acknowledges more than was sent. */
  ack(h: number): Element[] {
    if (!Number.isInteger(h) || h < 0 || h >= MOD) throw new HandledCountError(h, this.outbound);
    const n = (h - this.acked + MOD) % MOD;
    if (n > this.unacked.length) throw new HandledCountError(h, this.outbound);
    this.acked = h;
    return this.unacked.splice(0, n);
  }

  /** After <resumed h/>: the stanzas to write again, counted again as they are re-sent. */
  resumed(h: number): Element[] {
    this.ack(h);
    const again = this.unacked;
    this.unacked = [];
    this.outbound = this.acked;
    return again;
  }
}
