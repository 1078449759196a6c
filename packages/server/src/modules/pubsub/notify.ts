// Event notifications (XEP-0060 1.26 §7.1.2.1 items, §7.2.2.1 retract, §8.4.2 delete, §8.5.2
// purge, §8.2.5 configuration): the <event/> payload and the <message/> that carries it, of the
// node's notification_type (§16.4.4; 'headline' by default). Item payloads are stored serialised
// and parsed again for each event; one that no longer parses is sent without its payload.
// Also the messages about subscriptions themselves: a change of state (§13.14) and the
// authorization request to a node's owners (§8.6, pubsub#subscribe_authorization).

import { randomUUID } from 'node:crypto';
import { Element, xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import type { EventKind } from './engine.js';
import type { Item, NodeRecord } from './node-store.js';
import { NS_PUBSUB } from './node-config.js';
import { writeForm } from './forms.js';

export const NS_EVENT = `${NS_PUBSUB}#event`;
export const NS_SUBSCRIBE_AUTHORIZATION = `${NS_PUBSUB}#subscribe_authorization`;

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

/** §13.14: <event><subscription node jid subscription [subid]/></event>, to the subscribed JID. */
export function subscriptionMessage(from: string, node: string, jid: string, state: 'subscribed' | 'none', subid?: string): Element {
  return xml('message', NS.CLIENT, { from, to: jid, id: randomUUID() },
    xml('event', NS_EVENT, {}, xml('subscription', NS_EVENT, { node, jid, subscription: state, subid })));
}

/**
 * §8.6: the authorization form for one pending request. A normal message with a body, so that
 * an owner who is offline finds it in offline storage (§13.13) and a client without forms
 * support still says what it is about.
 */
export function authorizationMessage(from: string, owner: string, node: string, jid: string, subid: string): Element {
  const form = writeForm('form', NS_SUBSCRIBE_AUTHORIZATION, [
    { var: 'pubsub#subid', type: 'hidden', values: [subid] },
    { var: 'pubsub#node', type: 'text-single', label: 'Node ID', values: [node] },
    { var: 'pubsub#subscriber_jid', type: 'jid-single', label: 'Subscriber Address', values: [jid] },
    { var: 'pubsub#allow', type: 'boolean', label: 'Allow this JID to subscribe to this pubsub node?', values: ['false'] },
  ]);
  form.children.unshift(xml('title', form.xmlns, {}, 'PubSub subscriber request'),
    xml('instructions', form.xmlns, {}, 'To approve this subscription request, set "allow" and submit the form; to deny it, submit it with "allow" unset.'));
  return xml('message', NS.CLIENT, { from, to: owner, id: randomUUID() },
    xml('body', NS.CLIENT, {}, `${jid} asks to subscribe to the node ${node} of ${from}.`), form);
}
