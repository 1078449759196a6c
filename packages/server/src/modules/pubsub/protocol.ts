// The XEP-0060 1.26 requests, for PEP and the generic service alike: entity use cases (§6:
// subscribe, unsubscribe, items, own subscriptions and affiliations; §7: publish with
// publish-options, retract), and owner use cases (§8: create with configure, configure,
// default, delete, purge, subscriptions, affiliations) on the pubsub#owner namespace.
// Subscription options (§6.3) and pending subscriptions are not offered (feature-not-implemented).

import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import type { PubSubService } from './engine.js';
import { readForm } from './forms.js';
import { NS_CONFIG, NS_PUBLISH_OPTIONS, NS_PUBSUB, configForm, pubsubError, unsupported } from './node-config.js';
import { AFFILIATIONS, type Affiliation } from './node-store.js';
import { itemElement } from './notify.js';

export const NS_OWNER = `${NS_PUBSUB}#owner`;

const nodeOf = (el: Element): string => {
  const n = el.attr('node');
  if (!n) throw pubsubError('bad-request', 'nodeid-required');
  return n;
};
const jidOf = (s: string | undefined): JID => {
  const j = JID.tryParse(s);
  if (!j) throw pubsubError('bad-request', 'invalid-jid');
  return j;
};
/** The fields of the x:data form inside `wrapper` (configure, publish-options), if any. */
function formIn(wrapper: Element | undefined, formType: string): Map<string, string[]> | undefined {
  const x = wrapper?.getChild('x', 'jabber:x:data');
  if (!x) return undefined;
  const f = readForm(x);
  if (f.type === 'cancel') return undefined;
  if (f.formType !== undefined && f.formType !== formType) throw new StanzaError('bad-request', `the form type must be ${formType}`);
  return f.fields;
}

export async function handlePubsub(svc: PubSubService, type: 'get' | 'set', from: JID, ps: Element): Promise<Element | undefined> {
  const children = ps.elements();
  const action = children.find((c) => c.name !== 'configure' && c.name !== 'publish-options' && c.name !== 'options');
  if (!action) throw new StanzaError('bad-request', 'no pubsub request');
  const want = (t: 'get' | 'set'): void => { if (type !== t) throw new StanzaError('bad-request', `${action.name} is an iq ${t}`); };
  switch (action.name) {
    case 'create': {
      want('set');
      const config = formIn(ps.getChild('configure'), NS_CONFIG);
      const name = await svc.create(action.attr('node') || undefined, from, config);
      return action.attr('node') ? undefined : xml('pubsub', NS_PUBSUB, {}, xml('create', NS_PUBSUB, { node: name }));
    }
    case 'publish': {
      want('set');
      const node = nodeOf(action);
      const items = action.getChildren('item');
      // §7.1.3.6: exactly one item (a persistent node needs it; transient notification-only ones may omit the payload).
      if (items.length > 1) throw pubsubError('bad-request', 'invalid-payload');
      const item = items[0];
      const payloads = item?.elements() ?? [];
      if (payloads.length > 1) throw pubsubError('bad-request', 'invalid-payload');
      const options = formIn(ps.getChild('publish-options'), NS_PUBLISH_OPTIONS);
      const id = await svc.publish(node, from, item?.attr('id') || undefined, payloads[0]?.toString() ?? '', options);
      return xml('pubsub', NS_PUBSUB, {}, xml('publish', NS_PUBSUB, { node }, xml('item', NS_PUBSUB, { id })));
    }
    case 'retract': {
      want('set');
      const node = nodeOf(action);
      const ids = action.getChildren('item').map((i) => i.attr('id') ?? '');
      if (ids.length === 0 || ids.includes('')) throw pubsubError('bad-request', 'item-required');
      await svc.retract(node, from, ids, action.attr('notify') === 'true' || action.attr('notify') === '1');
      return undefined;
    }
    case 'subscribe': {
      want('set');
      const node = nodeOf(action);
      const jid = jidOf(action.attr('jid'));
      const subid = await svc.subscribe(node, from, jid);
      return xml('pubsub', NS_PUBSUB, {}, xml('subscription', NS_PUBSUB, { node, jid: jid.toString(), subid, subscription: 'subscribed' }));
    }
    case 'unsubscribe': {
      want('set');
      await svc.unsubscribe(nodeOf(action), from, jidOf(action.attr('jid')));
      return undefined;
    }
    case 'items': {
      want('get');
      const node = nodeOf(action);
      const ids = action.getChildren('item').map((i) => i.attr('id')).filter((i): i is string => !!i);
      const maxAttr = action.attr('max_items');
      const max = maxAttr === undefined ? undefined : Number(maxAttr);
      if (max !== undefined && (!Number.isInteger(max) || max < 0)) throw new StanzaError('bad-request', 'max_items must be a non-negative integer');
      const items = await svc.items(node, from, { ids, max });
      return xml('pubsub', NS_PUBSUB, {}, xml('items', NS_PUBSUB, { node }, ...items.map((i) => itemElement(NS_PUBSUB, i))));
    }
    case 'subscriptions': {
      want('get');
      const only = action.attr('node');
      const out = xml('subscriptions', NS_PUBSUB, { node: only });
      for (const node of only ? [only] : await svc.nodeNames()) {
        const rec = await svc.record(node);
        if (!rec) { if (only) throw new StanzaError('item-not-found'); continue; }
        for (const [jid, subid] of Object.entries(rec.subscriptions)) {
          if (JID.tryParse(jid)?.bareString() === from.bareString()) out.c('subscription', { node, jid, subid, subscription: 'subscribed' });
        }
      }
      return xml('pubsub', NS_PUBSUB, {}, out);
    }
    case 'affiliations': {
      want('get');
      const only = action.attr('node');
      const out = xml('affiliations', NS_PUBSUB, { node: only });
      for (const node of only ? [only] : await svc.nodeNames()) {
        const rec = await svc.record(node);
        if (!rec) { if (only) throw new StanzaError('item-not-found'); continue; }
        const aff = svc.affiliation(rec, from.bareString());
        if (aff !== 'none') out.c('affiliation', { node, affiliation: aff });
      }
      return xml('pubsub', NS_PUBSUB, {}, out);
    }
    case 'default': throw unsupported('retrieve-default-sub');
    default: throw new StanzaError('feature-not-implemented', `pubsub <${action.name}/> is not supported`);
  }
}

export async function handleOwner(svc: PubSubService, type: 'get' | 'set', from: JID, ps: Element): Promise<Element | undefined> {
  const action = ps.elements()[0];
  if (!action) throw new StanzaError('bad-request', 'no pubsub#owner request');
  switch (action.name) {
    case 'configure': {
      const node = nodeOf(action);
      const rec = await svc.record(node);
      if (!rec) throw new StanzaError('item-not-found');
      svc.requireOwner(rec, from);
      if (type === 'get') return xml('pubsub', NS_OWNER, {}, xml('configure', NS_OWNER, { node }, configForm(rec.config)));
      const fields = formIn(action, NS_CONFIG);
      if (!action.getChild('x', 'jabber:x:data')) throw new StanzaError('bad-request', 'a configuration form is required');
      if (fields) await svc.configure(node, from, fields);
      return undefined;
    }
    case 'default': {
      if (type !== 'get') throw new StanzaError('bad-request');
      return xml('pubsub', NS_OWNER, {}, xml('default', NS_OWNER, {}, configForm(svc.spec.defaults)));
    }
    case 'delete': {
      if (type !== 'set') throw new StanzaError('bad-request');
      await svc.remove(nodeOf(action), from);
      return undefined;
    }
    case 'purge': {
      if (type !== 'set') throw new StanzaError('bad-request');
      await svc.purge(nodeOf(action), from);
      return undefined;
    }
    case 'subscriptions': {
      const node = nodeOf(action);
      const rec = await svc.record(node);
      if (!rec) throw new StanzaError('item-not-found');
      svc.requireOwner(rec, from);
      if (type === 'get') {
        const out = xml('subscriptions', NS_OWNER, { node });
        for (const [jid, subid] of Object.entries(rec.subscriptions)) out.c('subscription', { jid, subid, subscription: 'subscribed' });
        return xml('pubsub', NS_OWNER, {}, out);
      }
      const changes = action.getChildren('subscription').map((s): [string, 'subscribed' | 'none'] => {
        const state = s.attr('subscription');
        if (state !== 'subscribed' && state !== 'none') throw unsupported('manage-subscriptions');
        return [jidOf(s.attr('jid')).toString(), state];
      });
      await svc.setSubscriptions(node, from, changes);
      return undefined;
    }
    case 'affiliations': {
      const node = nodeOf(action);
      const rec = await svc.record(node);
      if (!rec) throw new StanzaError('item-not-found');
      svc.requireOwner(rec, from);
      if (type === 'get') {
        const out = xml('affiliations', NS_OWNER, { node });
        if (svc.spec.owner) out.c('affiliation', { jid: svc.spec.owner, affiliation: 'owner' });
        for (const [jid, affiliation] of Object.entries(rec.affiliations)) out.c('affiliation', { jid, affiliation });
        return xml('pubsub', NS_OWNER, {}, out);
      }
      const changes = action.getChildren('affiliation').map((a): [string, Affiliation] => {
        const aff = a.attr('affiliation') as Affiliation;
        if (!AFFILIATIONS.includes(aff)) throw new StanzaError('bad-request', 'unknown affiliation');
        return [jidOf(a.attr('jid')).bareString(), aff];
      });
      await svc.setAffiliations(node, from, changes);
      return undefined;
    }
    default: throw new StanzaError('feature-not-implemented', `pubsub#owner <${action.name}/> is not supported`);
  }
}
