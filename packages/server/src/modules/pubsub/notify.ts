// Event notifications (XEP-0060 1.26 §7.1.2.1 items, §7.2.2.1 retract, §8.4.2 delete, §8.5.2
// purge, §8.2.5 configuration): the <event/> payload and the <message/> that carries it, of the
// node's notification_type (§16.4.4; 'headline' by default). Item payloads are stored serialised
// and parsed again for each event; one that no longer parses is sent without its payload.

import { randomUUID } from 'node:crypto';
import { Element, xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import type { EventKind } from './engine.js';
import type { Item, NodeRecord } from './node-store.js';
import { NS_PUBSUB } from './node-config.js';

export const NS_EVENT = `${NS_PUBSUB}#event`;

export function payloadOf(item: Item): Element | undefined {
  if (!item.payload) return undefined;
  try { return parseFragment(item.payload); } catch { return undefined; }
}

/** <item id='…'>payload</item> in the given namespace (pubsub for results, pubsub#event for events). */
export function itemElement(ns: string, item: Item, withPayload = true): Element {
  return xml('item', ns, { id: item.id }, withPayload ? payloadOf(item) : undefined);
}

export function eventElement(node: string, rec: NodeRecord, kind: EventKind, items: Item[]): Element {
  const ev = xml('event', NS_EVENT);
  switch (kind) {
    case 'items': ev.append(xml('items', NS_EVENT, { node }, ...items.map((i) => itemElement(NS_EVENT, i, rec.config.deliver_payloads)))); break;
    case 'retract': ev.append(xml('items', NS_EVENT, { node }, ...items.map((i) => xml('retract', NS_EVENT, { id: i.id })))); break;
    case 'delete': ev.c('delete', { node }); break;
    case 'purge': ev.c('purge', { node }); break;
    case 'config': ev.c('configuration', { node }); break;
  }
  return ev;
}

export function eventMessage(from: string, to: string, rec: NodeRecord, event: Element): Element {
  return xml('message', NS.CLIENT, { from, to, type: rec.config.notification_type, id: randomUUID() }, event.clone());
}
