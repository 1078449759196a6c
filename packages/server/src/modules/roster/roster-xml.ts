// Roster items on the wire (RFC 6121 §2.1.2) and the validation of a client's roster set
// (§2.3.3, §2.5): what a set may carry, with the limits as module options.

import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import type { RosterItem } from '../im-services/services.js';

export const NS_ROSTER = NS.ROSTER;
/** Stream feature of roster versioning (RFC 6121 §2.6.1). */
export const NS_ROSTERVER = 'urn:xmpp:features:rosterver';

/** The <item/> of a roster result or push. `approved` appears only when true (§2.1.2.1). */
export function itemElement(item: RosterItem): Element {
  const el = xml('item', NS_ROSTER, {
    jid: item.jid, name: item.name, subscription: item.subscription, ask: item.ask,
    approved: item.approved ? 'true' : undefined,
  });
  for (const g of item.groups) el.c('group').t(g);
  return el;
}

/** The <item/> of the push announcing a removal (§2.5.2). */
export function removedElement(jid: string): Element {
  return xml('item', NS_ROSTER, { jid, subscription: 'remove' });
}

export function queryElement(items: Element[], ver?: string): Element {
  return xml('query', NS_ROSTER, { ver }, ...items);
}

export interface RosterLimits { maxNameLength: number; maxGroupLength: number; maxGroups: number }

export type RosterSet =
  | { remove: true; jid: string }
  | { remove: false; jid: string; name?: string; groups: string[] };

/** Length in characters (code points), as a user counts them, not UTF-16 units. */
const chars = (s: string): number => { let n = 0; for (const _ of s) n++; return n; };

/**
 * Validate the <query/> of a roster set and return what it asks for; throws the StanzaError
 * the RFC names for each violation.
 */
export function parseRosterSet(query: Element, limits: RosterLimits): RosterSet {
  const children = query.elements();
  const items = children.filter((e) => e.name === 'item' && e.xmlns === NS_ROSTER);
  // §2.3.3: a roster set carries exactly one item.
  if (items.length !== 1 || children.length !== 1) throw new StanzaError('bad-request', 'a roster set carries exactly one item');
  const item = items[0]!;
  const raw = item.attr('jid');
  if (raw === undefined || raw === '') throw new StanzaError('bad-request', 'the item has no jid');
  const jid = JID.tryParse(raw);
  if (!jid) throw new StanzaError('jid-malformed', 'the item\'s jid is not a valid JID');
  // Items are kept by bare JID (subscriptions are between accounts, §3); a full JID would make
  // two items for one contact.
  if (jid.resource) throw new StanzaError('bad-request', 'a roster item\'s jid is a bare JID');
  const sub = item.attr('subscription');
  if (sub === 'remove') return { remove: true, jid: jid.toString() };
  // §2.1.2.5: in a roster set the server ignores the state values (a client may echo the
  // item's current state, as slixmpp does); anything else is not a subscription value.
  if (sub !== undefined && !['none', 'to', 'from', 'both'].includes(sub)) throw new StanzaError('bad-request', `'${sub}' is not a subscription value`);
  // §2.1.2.2: 'ask' is the server's to set, never the client's.
  if (item.attr('ask') !== undefined) throw new StanzaError('bad-request', 'the ask attribute is set by the server');
  // 'approved' in a set is ignored: §2.1.2.1 has clients pre-approve with presence (§3.4).
  let name = item.attr('name');
  if (name === '') name = undefined;
  if (name !== undefined && chars(name) > limits.maxNameLength) throw new StanzaError('not-acceptable', `the name is longer than ${limits.maxNameLength} characters`);
  const groups: string[] = [];
  for (const g of item.elements()) {
    if (g.name !== 'group' || g.xmlns !== NS_ROSTER) continue;
    const text = g.text();
    // §2.1.2.4 / §2.3.3: an empty group and an over-long group are not acceptable.
    if (text === '') throw new StanzaError('not-acceptable', 'a group name is empty');
    if (chars(text) > limits.maxGroupLength) throw new StanzaError('not-acceptable', `a group name is longer than ${limits.maxGroupLength} characters`);
    if (groups.includes(text)) throw new StanzaError('bad-request', `the group '${text}' appears twice`);
    groups.push(text);
  }
  if (groups.length > limits.maxGroups) throw new StanzaError('not-acceptable', `an item may be in at most ${limits.maxGroups} groups`);
  const out: RosterSet = { remove: false, jid: jid.toString(), groups };
  if (name !== undefined) out.name = name;
  return out;
}
