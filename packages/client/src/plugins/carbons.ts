// Message Carbons (XEP-0280 v1.0): enable/disable (§4, §5), and received/sent copies unwrapped
// from their XEP-0297 <forwarded/>. A carbon is only believed when it comes from our own bare
// JID (§11: anyone else could forge one to inject messages into our conversations).

import { xml, type Element } from '@magpie/core/xml/element';
import type { Client } from '../client.js';
import { Emitter } from '../emitter.js';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';

export interface CarbonEvents { [k: string]: unknown[]; carbon: [info: { direction: 'received' | 'sent'; message: Element }] }

export class Carbons extends Emitter<CarbonEvents> {
  enabled = false;
  /** Re-enable on every new session (carbons are per session). Set by enable(). */
  private wanted = false;

  constructor(private readonly client: Client) {
    super();
    client.on('message', (el) => this.onMessage(el));
    client.on('online', ({ resumed }) => { if (!resumed && this.wanted) this.enable().catch((e: Error) => client.emit('error', e)); });
  }

  async enable(): Promise<void> {
    this.wanted = true;
    await this.client.iq('set', undefined, xml('enable', NS_CARBONS));
    this.enabled = true;
  }

  async disable(): Promise<void> {
    this.wanted = false;
    await this.client.iq('set', undefined, xml('disable', NS_CARBONS));
    this.enabled = false;
  }

  private onMessage(el: Element): void {
    const wrap = el.getChild('received', NS_CARBONS) ?? el.getChild('sent', NS_CARBONS);
    if (!wrap) return;
    const own = this.client.jid?.bareString();
    if (!own || el.attr('from') !== own) return;
    const inner = wrap.getChild('forwarded', NS_FORWARD)?.getChild('message', 'jabber:client');
    if (inner) this.emit('carbon', { direction: wrap.name as 'received' | 'sent', message: inner });
  }
}

export const carbons = (client: Client): Carbons => new Carbons(client);
