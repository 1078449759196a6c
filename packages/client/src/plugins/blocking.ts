// Blocking Command (XEP-0191 v1.3): the blocklist (§3.1), block (§3.2) and unblock (§3.3, all
// when no item is given), and the server's pushes to every resource (§3.2, §3.3).

import { xml, type Element } from '@magpie/core/xml/element';
import type { Client } from '../client.js';
import { Emitter } from '../emitter.js';
import { XmppError } from '../errors.js';

export const NS_BLOCKING = 'urn:xmpp:blocking';

export interface BlockingEvents { [k: string]: unknown[]; blocked: [jids: string[]]; unblocked: [jids: string[] | 'all'] }

export class Blocking extends Emitter<BlockingEvents> {
  readonly blocked = new Set<string>();

  constructor(private readonly client: Client) {
    super();
    client.handleIq('set', NS_BLOCKING, 'block', (iq) => this.onPush(iq, 'block'));
    client.handleIq('set', NS_BLOCKING, 'unblock', (iq) => this.onPush(iq, 'unblock'));
  }

  async list(): Promise<string[]> {
    const res = await this.client.iq('get', undefined, xml('blocklist', NS_BLOCKING));
    const jids = (res.getChild('blocklist', NS_BLOCKING)?.getChildren('item', NS_BLOCKING) ?? []).map((i) => i.attr('jid') ?? '').filter(Boolean);
    this.blocked.clear();
    for (const j of jids) this.blocked.add(j);
    return jids;
  }

  async block(...jids: string[]): Promise<void> {
    if (jids.length === 0) throw new Error('block needs at least one JID');
    await this.client.iq('set', undefined, xml('block', NS_BLOCKING, {}, ...jids.map((jid) => xml('item', NS_BLOCKING, { jid }))));
  }

  /** Unblock these JIDs, or everyone when none is given. */
  async unblock(...jids: string[]): Promise<void> {
    await this.client.iq('set', undefined, xml('unblock', NS_BLOCKING, {}, ...jids.map((jid) => xml('item', NS_BLOCKING, { jid }))));
  }

  private onPush(iq: Element, kind: 'block' | 'unblock'): undefined {
    const own = this.client.jid;
    const from = iq.attr('from');
    if (from !== undefined && from !== own?.bareString()) throw XmppError.of('service-unavailable');
    const jids = (iq.getChild(kind, NS_BLOCKING)?.getChildren('item', NS_BLOCKING) ?? []).map((i) => i.attr('jid') ?? '').filter(Boolean);
    if (kind === 'block') { for (const j of jids) this.blocked.add(j); this.emit('blocked', jids); return undefined; }
    if (jids.length === 0) { this.blocked.clear(); this.emit('unblocked', 'all'); return undefined; }
    for (const j of jids) this.blocked.delete(j);
    this.emit('unblocked', jids);
    return undefined;
  }
}

export const blocking = (client: Client): Blocking => new Blocking(client);
