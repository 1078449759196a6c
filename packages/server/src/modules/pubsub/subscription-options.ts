// Subscription options (XEP-0060 1.26 §6.3, and the pubsub#subscribe_options FORM_TYPE):
// the form, reading a submitted one, and whom a subscription's notifications go to. Only what
// is honoured is offered: pubsub#deliver, and pubsub#show-values for subscribers on this server
// (whose presence the server knows; a remote subscriber's presence is not known to the service,
// so the field is neither shown nor accepted for it). Digests, bodies, leases and the collection
// fields (subscription_type/depth) are not implemented and not listed.
// show-values with no value selected means "whatever my presence" (the default), as an empty
// list could otherwise only mean "never", which pubsub#deliver=false already says.

import type { Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { parseBoolean, writeForm, type FormField } from './forms.js';
import { NS_PUBSUB, pubsubError } from './node-config.js';
import type { SubOptions } from './node-store.js';

export const NS_SUBSCRIBE_OPTIONS = `${NS_PUBSUB}#subscribe_options`;
/** RFC 6121 §4.7.2.1 show values, and 'online' for an available presence without <show/>. */
export const SHOW_VALUES = ['away', 'chat', 'dnd', 'online', 'xa'] as const;

export const DEFAULT_SUB_OPTIONS: SubOptions = { deliver: true, show: [] };

const invalid = (text: string) => pubsubError('bad-request', 'invalid-options', text);

/**
 * `base` with the submitted fields applied. `presenceKnown`: the subscriber is on this server,
 * so show-values can be honoured. Anything else is refused with bad-request + invalid-options
 * (§6.3.6.2), leaving the subscription as it was.
 */
export function applySubOptions(base: SubOptions, fields: Map<string, string[]>, presenceKnown: boolean): SubOptions {
  const o: SubOptions = { deliver: base.deliver, show: [...base.show] };
  for (const [name, values] of fields) {
    switch (name) {
      case 'pubsub#deliver': {
        const b = parseBoolean(values[0]);
        if (b === undefined || values.length !== 1) throw invalid('pubsub#deliver must be a boolean');
        o.deliver = b;
        break;
      }
      case 'pubsub#show-values': {
        if (!presenceKnown) throw invalid('pubsub#show-values is offered only to subscribers on this server');
        const bad = values.find((v) => !(SHOW_VALUES as readonly string[]).includes(v));
        if (bad !== undefined) throw invalid(`unknown show value ${bad}`);
        o.show = [...new Set(values)].sort();
        break;
      }
      default: throw invalid(`the subscription option ${name} is not supported`);
    }
  }
  return o;
}

export function subOptionsForm(o: SubOptions, type: 'form' | 'result', presenceKnown: boolean): Element {
  const fields: FormField[] = [{ var: 'pubsub#deliver', type: 'boolean', label: 'Enable delivery?', values: [o.deliver ? '1' : '0'] }];
  if (presenceKnown) {
    fields.push({ var: 'pubsub#show-values', type: 'list-multi', label: 'Deliver only while my presence is one of these (none selected: whatever my presence)', values: o.show, options: [...SHOW_VALUES] });
  }
  return writeForm(type, NS_SUBSCRIBE_OPTIONS, fields);
}

/** What storage keeps: nothing for the defaults. */
export const isDefault = (o: SubOptions): boolean => o.deliver && o.show.length === 0;

/** The show value of an available presence ('online' without <show/>); undefined when unavailable. */
export function showOf(presence: Element | undefined): string | undefined {
  if (!presence) return undefined;
  return presence.getChildText('show') || 'online';
}

/** The sessions a subscriber's presence is read from (the server's session registry). */
export interface PresenceSource {
  resources(bareJid: string): readonly { jid: { toString(): string }; presence: Element | undefined }[];
}

/**
 * Where an event notification for the subscription of `jid` goes: nowhere with deliver=false;
 * with show-values, to each of the subscriber's resources (its one resource for a full JID)
 * whose current show is selected, so a resource in 'dnd' is not disturbed while another in
 * 'chat' hears it; otherwise to the subscribed JID itself (§13.3).
 */
export function deliveryTargets(sessions: PresenceSource, jid: string, o: SubOptions | undefined): string[] {
  if (!o) return [jid];
  if (!o.deliver) return [];
  if (o.show.length === 0) return [jid];
  const j = JID.tryParse(jid);
  if (!j) return [];
  const wanted = new Set(o.show);
  return sessions.resources(j.bareString())
    .filter((s) => (j.isBare || s.jid.toString() === jid) && wanted.has(showOf(s.presence) ?? ''))
    .map((s) => s.jid.toString());
}
