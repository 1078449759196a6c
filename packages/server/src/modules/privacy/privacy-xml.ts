// The jabber:iq:privacy wire format (XEP-0016 §2.1 syntax, §7 schema) to and from the stored
// items of the shared model (../blocking/privacy-rules.ts), with the validation §2.1 asks for:
// action allow|deny required; order a unique unsignedInt (bad-request otherwise); type
// jid|group|subscription with a value (a jid value must be a JID: jid-malformed; a subscription
// value one of both/to/from/none); no type = fall-through without a value; children only
// message, iq, presence-in, presence-out.

import { JID } from '@magpie/core/jid/jid';
import { xml, type Element } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { STANZA_KINDS, type PrivacyItem, type StanzaKind } from '../blocking/privacy-rules.js';

export const NS_PRIVACY = 'jabber:iq:privacy';

const SUBSCRIPTIONS = new Set(['both', 'to', 'from', 'none']);
const TYPES = new Set(['jid', 'group', 'subscription']);

export function parseItems(list: Element): PrivacyItem[] {
  const seen = new Set<number>();
  return list.getChildren('item', NS_PRIVACY).map((el): PrivacyItem => {
    const action = el.attr('action');
    if (action !== 'allow' && action !== 'deny') throw new StanzaError('bad-request', 'action must be allow or deny');
    const orderText = el.attr('order') ?? '';
    const order = /^\d{1,10}$/.test(orderText) ? Number(orderText) : NaN;
    if (!(order <= 0xffffffff)) throw new StanzaError('bad-request', 'order must be an unsignedInt');
    if (seen.has(order)) throw new StanzaError('bad-request', `order ${order} is used twice`);
    seen.add(order);
    const item: PrivacyItem = { action, order };
    const type = el.attr('type');
    const value = el.attr('value');
    if (type !== undefined) {
      if (!TYPES.has(type)) throw new StanzaError('bad-request', `unknown item type ${type}`);
      if (value === undefined) throw new StanzaError('bad-request', 'a typed item needs a value');
      item.type = type as PrivacyItem['type'];
      if (type === 'jid') {
        const j = JID.tryParse(value);
        if (!j) throw new StanzaError('jid-malformed', `not a JID: ${value}`);
        item.value = j.toString();
      } else {
        if (type === 'subscription' && !SUBSCRIPTIONS.has(value)) throw new StanzaError('bad-request', 'subscription must be both, to, from or none');
        item.value = value;
      }
    } else if (value !== undefined) {
      throw new StanzaError('bad-request', 'a fall-through item has no value');
    }
    const kinds: StanzaKind[] = [];
    for (const c of el.elements()) {
      if (c.xmlns !== NS_PRIVACY || !STANZA_KINDS.includes(c.name as StanzaKind)) throw new StanzaError('bad-request', `unexpected <${c.name}/> in an item`);
      if (!kinds.includes(c.name as StanzaKind)) kinds.push(c.name as StanzaKind);
    }
    if (kinds.length) item.kinds = kinds;
    return item;
  });
}

export function listElement(name: string, items: readonly PrivacyItem[]): Element {
  const list = xml('list', NS_PRIVACY, { name });
  for (const i of [...items].sort((a, b) => a.order - b.order)) {
    const el = list.c('item', { type: i.type, value: i.value, action: i.action, order: i.order });
    for (const k of i.kinds ?? []) el.c(k);
  }
  return list;
}
