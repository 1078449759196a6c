// Presence and subscriptions (RFC 6121 §3, §4): the client's own availability (re-announced on
// every new session, not on a resumed one, since the server kept it: XEP-0198 §5), the presence
// of contacts per full JID, and subscription requests, approvals and cancellations.

import { xml, type Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { NS } from '@magpie/core/protocol/namespaces';
import type { Client } from '../client.js';
import { Emitter } from '../emitter.js';

export type Show = 'chat' | 'away' | 'xa' | 'dnd';
export interface PresenceInfo { from: string; available: boolean; show: Show | undefined; status: string | undefined; priority: number; element: Element }
export interface OwnPresence { show?: Show; status?: string; priority?: number }

export interface PresenceEvents {
  [k: string]: unknown[];
  /** A contact's resource came online, changed, or went offline. */
  presence: [p: PresenceInfo];
  /** Someone asks to see our presence (RFC 6121 §3.1.3): approve() or deny(). */
  'subscription-request': [info: { from: string; element: Element }];
  subscribed: [info: { from: string }];
  unsubscribed: [info: { from: string }];
  error: [info: { from: string; element: Element }];
}

export function parsePresence(el: Element): PresenceInfo {
  const prio = Number(el.getChildText('priority'));
  return {
    from: el.attr('from') ?? '', available: el.attr('type') === undefined,
    show: el.getChildText('show') as Show | undefined, status: el.getChildText('status'),
    priority: Number.isInteger(prio) && prio >= -128 && prio <= 127 ? prio : 0, element: el,
  };
}

export class Presence extends Emitter<PresenceEvents> {
  private own: OwnPresence | false = {};
  /** Available resources per bare JID. */
  readonly contacts = new Map<string, Map<string, PresenceInfo>>();
  /** Hooks that add payload to every outgoing availability presence (entity caps, …). */
  readonly decorators: ((p: Element) => void)[] = [];

  constructor(private readonly client: Client) {
    super();
    client.on('online', ({ resumed }) => { if (!resumed && this.own !== false) this.sendOwn(); });
    client.on('offline', () => this.contacts.clear());
    client.on('presence', (el) => this.onPresence(el));
  }

  /** Set and broadcast our availability (RFC 6121 §4.2, §4.4). */
  set(p: OwnPresence = {}): void {
    this.own = p;
    this.sendOwn();
  }

  /** Do not announce presence on login (a bot that only sends). */
  disableInitial(): void { this.own = false; }

  /** Go unavailable without closing the stream (RFC 6121 §4.5). */
  unavailable(status?: string): void {
    this.own = false;
    this.client.send(xml('presence', NS.CLIENT, { type: 'unavailable' }, status ? xml('status', NS.CLIENT, {}, status) : undefined));
  }

  subscribe(jid: string): void { this.client.send(xml('presence', NS.CLIENT, { to: bare(jid), type: 'subscribe' })); }
  unsubscribe(jid: string): void { this.client.send(xml('presence', NS.CLIENT, { to: bare(jid), type: 'unsubscribe' })); }
  approve(jid: string): void { this.client.send(xml('presence', NS.CLIENT, { to: bare(jid), type: 'subscribed' })); }
  deny(jid: string): void { this.client.send(xml('presence', NS.CLIENT, { to: bare(jid), type: 'unsubscribed' })); }

  /** Send directed presence (to a MUC room, or an entity not in the roster). */
  sendTo(to: string, extra: Element[] = [], p: OwnPresence = {}): void {
    this.client.send(this.build(p, to, extra));
  }

  /** The best available resource of a contact (highest priority), if any. */
  best(jid: string): PresenceInfo | undefined {
    const m = this.contacts.get(bare(jid));
    if (!m) return undefined;
    return [...m.values()].sort((a, b) => b.priority - a.priority)[0];
  }

  build(p: OwnPresence, to?: string, extra: Element[] = []): Element {
    const el = xml('presence', NS.CLIENT, { to },
      p.show ? xml('show', NS.CLIENT, {}, p.show) : undefined,
      p.status ? xml('status', NS.CLIENT, {}, p.status) : undefined,
      p.priority !== undefined ? xml('priority', NS.CLIENT, {}, String(p.priority)) : undefined, ...extra);
    for (const d of this.decorators) d(el);
    return el;
  }

  private sendOwn(): void {
    if (this.own === false) return;
    this.client.send(this.build(this.own));
  }

  private onPresence(el: Element): void {
    const type = el.attr('type');
    const from = el.attr('from') ?? '';
    switch (type) {
      case 'subscribe': this.emit('subscription-request', { from, element: el }); return;
      case 'subscribed': this.emit('subscribed', { from }); return;
      case 'unsubscribed': this.emit('unsubscribed', { from }); return;
      case 'error': this.emit('error', { from, element: el }); return;
      case undefined: case 'unavailable': break;
      default: return; // probe/unsubscribe are for servers
    }
    const p = parsePresence(el);
    const b = bare(from);
    let m = this.contacts.get(b);
    if (p.available) { if (!m) this.contacts.set(b, (m = new Map())); m.set(from, p); }
    else if (m) { m.delete(from); if (JID.tryParse(from)?.isBare) m.clear(); if (m.size === 0) this.contacts.delete(b); }
    this.emit('presence', p);
  }
}

function bare(jid: string): string { return JID.tryParse(jid)?.bareString() ?? jid.split('/')[0]!; }

export const presence = (client: Client): Presence => new Presence(client);
