// The XEP-0060 1.26 requests, for PEP and the generic service alike: entity use cases (§6:
// subscribe, with options §6.3.7, unsubscribe, subscription options §6.3, items (paged with
// RSM, §6.5.4: items-page.ts), own
// subscriptions and affiliations; §7: publish with publish-options, retract), owner use cases
// (§8: create with configure, configure, default, delete, purge, subscriptions including
// pending ones, affiliations) on the pubsub#owner namespace, and the owners' answers to
// authorization requests (§8.6, a message with a pubsub#subscribe_authorization form).
// Not offered: default subscription options (§6.4), get-pending (§8.7, there is no XEP-0050
// here) and collections.
// §8.8.1 says pending subscriptions SHOULD NOT be listed to owners; they are, marked 'pending',
// because without get-pending this list is the owner's only way to find requests again (after
// losing the authorization message), and 'subscribed'/'none' there approve or deny them.

import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import type { PubSubService } from './engine.js';
import { parseBoolean, readForm } from './forms.js';
import { NS_CONFIG, NS_PUBLISH_OPTIONS, NS_PUBSUB, configForm, pubsubError, unsupported } from './node-config.js';
import { AFFILIATIONS, type Affiliation } from './node-store.js';
import { NS_SUBSCRIBE_AUTHORIZATION, itemElement } from './notify.js';
import { NS_SUBSCRIBE_OPTIONS, subOptionsForm } from './subscription-options.js';
import { NS_RSM, parseRsm, buildRsm, RsmError } from '@magpie/core/protocol/rsm';
import { pageItems } from './items-page.js';

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

/**
 * The fields of a submitted subscribe_options form in `options` (undefined: none, or cancelled).
 * A malformed one is bad-request + invalid-options (§6.3.6.2).
 */
function optionsForm(options: Element): Map<string, string[]> | undefined {
  const xs = options.getChildren('x', 'jabber:x:data');
  if (xs.length === 0) return undefined;
  const invalid = (text: string) => pubsubError('bad-request', 'invalid-options', text);
  if (xs.length > 1) throw invalid('one form at a time');
  const f = readForm(xs[0]!);
  if (f.type === 'cancel') return undefined;
  if (f.type !== 'submit') throw invalid('the options form must be submitted (type submit)');
  if (f.formType !== NS_SUBSCRIBE_OPTIONS) throw invalid(`the form type must be ${NS_SUBSCRIBE_OPTIONS}`);
  return f.fields;
}

/** §6.3: <options node jid [subid]/> alone: get the form, or set it (the form inside). */
async function handleOptions(svc: PubSubService, type: 'get' | 'set', from: JID, options: Element): Promise<Element | undefined> {
  const node = nodeOf(options);
  const jidAttr = options.attr('jid');
  if (!jidAttr) throw pubsubError('bad-request', 'jid-required');
  const jid = jidOf(jidAttr);
  const subid = options.attr('subid') || undefined;
  if (type === 'get') {
    // A get changes nothing: a form submitted in one would silently be lost.
    if (options.getChild('x', 'jabber:x:data')) throw new StanzaError('bad-request', 'subscription options are submitted with an iq of type set');
    const cur = await svc.subscriptionOptions(node, from, jid, subid);
    return xml('pubsub', NS_PUBSUB, {}, xml('options', NS_PUBSUB, { node, jid: jid.toString(), subid: cur.subid }, subOptionsForm(cur.options, 'form', cur.presenceKnown)));
  }
  if (!options.getChild('x', 'jabber:x:data')) throw pubsubError('bad-request', 'invalid-options', 'an options form is required');
  const fields = optionsForm(options);
  if (fields) await svc.setSubscriptionOptions(node, from, jid, subid, fields);
  else await svc.subscriptionOptions(node, from, jid, subid); // a cancelled form: the same checks, no change
  return undefined;
}

export async function handlePubsub(svc: PubSubService, type: 'get' | 'set', from: JID, ps: Element): Promise<Element | undefined> {
  const children = ps.elements();
  const action = children.find((c) => c.name !== 'configure' && c.name !== 'publish-options' && c.name !== 'options' && c.xmlns !== NS_RSM);
  if (!action) {
    const options = children.filter((c) => c.name === 'options');
    if (options.length === 1) return handleOptions(svc, type, from, options[0]!);
    throw new StanzaError('bad-request', 'no pubsub request');
  }
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
      // §6.3.7: options follow the subscribe and name neither node nor JID (the subscribe does).
      const options = children.filter((c) => c.name === 'options');
      if (options.length > 1) throw new StanzaError('bad-request', 'one <options/> at a time');
      const opt = options[0];
      if (opt && (opt.attr('node') !== undefined || opt.attr('jid') !== undefined || children.indexOf(opt) < children.indexOf(action))) {
        throw new StanzaError('bad-request', '<options/> with a subscribe follows it and has no node or jid');
      }
      const fields = opt ? optionsForm(opt) : undefined;
      const r = await svc.subscribe(node, from, jid, fields);
      const out = xml('pubsub', NS_PUBSUB, {}, xml('subscription', NS_PUBSUB, { node, jid: jid.toString(), subid: r.subid, subscription: r.state }));
      if (fields) out.append(xml('options', NS_PUBSUB, {}, subOptionsForm(r.options, 'result', r.presenceKnown)));
      return out;
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
      let rsm;
      try { rsm = parseRsm(ps.getChild('set', NS_RSM)); } catch (e) { throw new StanzaError('bad-request', (e as RsmError).message); }
      const items = await svc.items(node, from, { ids, max });
      if (!rsm) return xml('pubsub', NS_PUBSUB, {}, xml('items', NS_PUBSUB, { node }, ...items.map((i) => itemElement(NS_PUBSUB, i))));
      // §6.5.4: a page of the selected items, described by an RSM <set/> after <items/>.
      const page = pageItems(items, rsm);
      return xml('pubsub', NS_PUBSUB, {}, xml('items', NS_PUBSUB, { node }, ...page.items.map((i) => itemElement(NS_PUBSUB, i))), buildRsm(page.rsm));
    }
    case 'subscriptions': {
      want('get');
      const only = action.attr('node');
      const out = xml('subscriptions', NS_PUBSUB, { node: only });
      for (const node of only ? [only] : await svc.nodeNames()) {
        const rec = await svc.record(node);
        if (!rec) { if (only) throw new StanzaError('item-not-found'); continue; }
        const mine = (jid: string): boolean => JID.tryParse(jid)?.bareString() === from.bareString();
        for (const [jid, subid] of Object.entries(rec.subscriptions)) if (mine(jid)) out.c('subscription', { node, jid, subid, subscription: 'subscribed' });
        for (const [jid, subid] of Object.entries(rec.pending ?? {})) if (mine(jid)) out.c('subscription', { node, jid, subid, subscription: 'pending' });
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
      if (type === 'get') return xml('pubsub', NS_OWNER, {}, xml('configure', NS_OWNER, { node }, configForm(rec.config, 'form', svc.accessModels)));
      const fields = formIn(action, NS_CONFIG);
      if (!action.getChild('x', 'jabber:x:data')) throw new StanzaError('bad-request', 'a configuration form is required');
      if (fields) await svc.configure(node, from, fields);
      return undefined;
    }
    case 'default': {
      if (type !== 'get') throw new StanzaError('bad-request');
      return xml('pubsub', NS_OWNER, {}, xml('default', NS_OWNER, {}, configForm(svc.spec.defaults, 'form', svc.accessModels)));
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
        for (const [jid, subid] of Object.entries(rec.pending ?? {})) out.c('subscription', { jid, subid, subscription: 'pending' });
        return xml('pubsub', NS_OWNER, {}, out);
      }
      // §8.8.2: only 'subscribed' and 'none' can be set (a subscription cannot be made pending
      // again); without the attribute nothing changes. An invalid entry fails the whole request.
      const changes: [string, 'subscribed' | 'none'][] = [];
      for (const s of action.getChildren('subscription')) {
        const state = s.attr('subscription');
        const jid = jidOf(s.attr('jid')).toString();
        if (state === undefined) continue;
        if (state !== 'subscribed' && state !== 'none') throw new StanzaError('not-acceptable', `the subscription of ${jid} cannot be set to ${state}`);
        changes.push([jid, state]);
      }
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

/**
 * §8.6: a message to the service with an owner's answer to an authorization request. Returns
 * false when the message carries no such form (the caller refuses it). A cancelled form leaves
 * the request pending; errors are thrown for the caller to bounce to the owner.
 */
export async function handleAuthorization(svc: PubSubService, from: JID, message: Element): Promise<boolean> {
  const x = message.getChildren('x', 'jabber:x:data').find((f) => readForm(f).formType === NS_SUBSCRIBE_AUTHORIZATION);
  if (!x) return false;
  const f = readForm(x);
  if (f.type === 'cancel') return true;
  if (f.type !== 'submit') throw new StanzaError('bad-request', 'the authorization form must be submitted');
  const one = (name: string): string | undefined => f.fields.get(name)?.[0];
  const node = one('pubsub#node');
  if (!node) throw pubsubError('bad-request', 'nodeid-required');
  const subscriber = JID.tryParse(one('pubsub#subscriber_jid'));
  if (!subscriber) throw pubsubError('bad-request', 'invalid-jid');
  const allow = parseBoolean(one('pubsub#allow'));
  if (allow === undefined) throw new StanzaError('bad-request', 'pubsub#allow must be a boolean');
  await svc.decide(node, from, subscriber.toString(), one('pubsub#subid') || undefined, allow);
  return true;
}
