// The generic PubSub service (XEP-0060 1.26) on its own domain (pubsub.<host> by default),
// reached through 'route/component': discovery of the service, its nodes (§5.1–§5.5, with the
// pubsub#meta-data form of §5.4) and a node's items (§5.5), the entity and owner requests of
// ./protocol.ts, and notifications to explicit subscribers only, as their subscription options
// say (§6.3; presence_based_delivery, a node option, is not implemented). Messages to the service
// carry the owners' answers to authorization requests (§8.6); any other message is refused.

import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ModuleApi } from '../module.js';
import type { Notifier, PubSubService } from './engine.js';
import type { NodeRecord } from './node-store.js';
import { authorizationMessage, eventElement, eventMessage, subscriptionMessage } from './notify.js';
import { handleAuthorization, handleOwner, handlePubsub, NS_OWNER } from './protocol.js';
import { NS_PUBSUB } from './node-config.js';
import { writeForm } from './forms.js';
import { deliveryTargets } from './subscription-options.js';

export function serviceNotifier(api: ModuleApi<unknown>): Notifier {
  return {
    async event(svc, node, rec, kind, items) {
      const ev = eventElement(node, rec, kind, items);
      for (const jid of Object.keys(rec.subscriptions)) {
        // The deletion ends the subscription: it is told whatever the options say.
        if (kind === 'delete') { await api.send(eventMessage(svc.jid, jid, rec, ev)); continue; }
        if (!(await svc.mayAccess(rec, jid))) continue;
        for (const to of deliveryTargets(api.sessions, jid, rec.subOptions?.[jid])) await api.send(eventMessage(svc.jid, to, rec, ev));
      }
    },
    async lastItems(svc, node, rec, to, items) {
      for (const t of deliveryTargets(api.sessions, to, rec.subOptions?.[to])) {
        for (const item of items) await api.send(eventMessage(svc.jid, t, rec, eventElement(node, rec, 'items', [item])));
      }
    },
    subscription: (svc, node, jid, state, subid) => api.send(subscriptionMessage(svc.jid, node, jid, state, subid)),
    async authorizationRequest(svc, node, owners, jid, subid) {
      for (const o of owners) await api.send(authorizationMessage(svc.jid, o, node, jid, subid));
    },
  };
}

/** disco#info of one node: a leaf with the pubsub#meta-data form (XEP-0060 §5.4). */
export function nodeInfo(node: string, rec: NodeRecord, owners: string[]): Element {
  const q = xml('query', NS.DISCO_INFO, { node });
  q.c('identity', { category: 'pubsub', type: 'leaf' });
  q.c('feature', { var: NS_PUBSUB });
  q.append(writeForm('result', `${NS_PUBSUB}#meta-data`, [
    { var: 'pubsub#title', values: [rec.config.title] },
    { var: 'pubsub#description', values: [rec.config.description] },
    { var: 'pubsub#type', values: [rec.config.type] },
    { var: 'pubsub#access_model', values: [rec.config.access_model] },
    { var: 'pubsub#publish_model', values: [rec.config.publish_model] },
    { var: 'pubsub#owner', type: 'jid-multi', values: owners },
    { var: 'pubsub#creation_date', values: [new Date(rec.created).toISOString()] },
  ]));
  return q;
}

export function serviceRouter(api: ModuleApi<unknown>, serviceFor: (domain: string) => PubSubService | undefined, features: string[]) {
  const info = async (svc: PubSubService, ev: StanzaEvent, node: string | undefined): Promise<Element> => {
    const q = xml('query', NS.DISCO_INFO, { node });
    if (node === undefined) {
      q.c('identity', { category: 'pubsub', type: 'service', name: 'Publish-Subscribe' });
      for (const f of [NS.DISCO_INFO, NS.DISCO_ITEMS, NS_PUBSUB, ...features].sort()) q.c('feature', { var: f });
      return q;
    }
    const rec = await svc.record(node);
    if (!rec || !(await svc.mayDiscover(rec, ev.from.toString()))) throw new StanzaError('item-not-found');
    return nodeInfo(node, rec, Object.keys(rec.affiliations).filter((j) => rec.affiliations[j] === 'owner'));
  };

  const items = async (svc: PubSubService, ev: StanzaEvent, node: string | undefined): Promise<Element> => {
    const q = xml('query', NS.DISCO_ITEMS, { node });
    if (node === undefined) {
      for (const n of (await svc.nodeNames()).sort()) {
        const rec = await svc.record(n);
        if (rec && (await svc.mayDiscover(rec, ev.from.toString()))) q.c('item', { jid: svc.jid, node: n, name: rec.config.title || undefined });
      }
      return q;
    }
    const rec = await svc.record(node);
    if (!rec || !(await svc.mayAccess(rec, ev.from.toString()))) throw new StanzaError('item-not-found');
    for (const it of await svc.itemsOf(node)) q.c('item', { jid: svc.jid, name: it.id });
    return q;
  };

  const answer = async (svc: PubSubService, ev: StanzaEvent, type: 'get' | 'set', p: Element | undefined): Promise<Element | undefined> => {
    if (ev.to.local || ev.to.resource || !p) throw new StanzaError('service-unavailable');
    if (p.name === 'query' && p.xmlns === NS.DISCO_INFO && type === 'get') return info(svc, ev, p.attr('node'));
    if (p.name === 'query' && p.xmlns === NS.DISCO_ITEMS && type === 'get') return items(svc, ev, p.attr('node'));
    if (p.name === 'pubsub' && p.xmlns === NS_PUBSUB) return handlePubsub(svc, type, ev.from, p);
    if (p.name === 'pubsub' && p.xmlns === NS_OWNER) return handleOwner(svc, type, ev.from, p);
    throw new StanzaError('service-unavailable');
  };

  api.hook('route/component', async (ev) => {
    const svc = serviceFor(ev.to.domain);
    if (!svc) return undefined;
    const s = ev.stanza;
    if (s.name === 'message' && s.attrs.type !== 'error') {
      try {
        if (!(await handleAuthorization(svc, ev.from, s))) throw new StanzaError('service-unavailable');
      } catch (e) {
        if (!(e instanceof StanzaError)) api.log.error({ err: e }, 'pubsub authorization answer failed');
        api.bounce(ev, e instanceof StanzaError ? e : new StanzaError('internal-server-error'));
      }
      return true;
    }
    if (s.name !== 'iq') return true;
    const type = s.attrs.type;
    if (type !== 'get' && type !== 'set') return true;
    let result: Element | undefined;
    try {
      result = await answer(svc, ev, type, s.elements()[0]);
    } catch (e) {
      if (!(e instanceof StanzaError)) api.log.error({ err: e }, 'pubsub request failed');
      api.bounce(ev, e instanceof StanzaError ? e : new StanzaError('internal-server-error'));
      return true;
    }
    await api.send(xml('iq', s.xmlns, { type: 'result', id: s.attrs.id, from: ev.to.toString(), to: ev.from.toString() }, result));
    return true;
  });
}
