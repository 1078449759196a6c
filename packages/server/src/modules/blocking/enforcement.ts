// Applying the privacy model to stanzas (XEP-0191 §3.3, XEP-0016 §2.2 and §2.14/"Blocked Entity
// Attempts to Communicate with User"), as hooks at high priority so they run before any
// delivery rule (XEP-0016 §2.2: "Privacy lists MUST be the first delivery rule applied").
//
// Inbound, to a local account's bare or full JID from someone it blocks or denies: presence
// (notifications, subscriptions, probes) is dropped without an answer; a message gets
// service-unavailable (XEP-0016 1.7 and XEP-0191 §3.3: SHOULD, so the sender is not left in a
// "black hole"); an iq get/set gets service-unavailable, other iqs are dropped. The user then
// appears offline to the blocked entity. A full-JID stanza is judged by that session's list
// (its active list, else the default list, §2.2). A stanza the server handles for the account
// (an iq to the bare JID, a subscription, a probe) is judged by the default list ("applies to
// the user as a whole"). A message or presence notification that fans out to resources is
// judged per receiving resource: the delivery module (and carbons, offline, stream management)
// through 'deliver/refuse' below (../delivery/refusal.ts), the presence module through the
// BLOCKING service with the session; they leave out the resources that refuse it, and when
// every eligible resource refuses a message the sender gets service-unavailable and nothing is
// stored offline; with no eligible resource the default list decides (§2.2: "no current
// sessions"). Up front, here, such a stanza is refused only by the blocklist or when no
// resource applies a list other than the default one (then every judgement would be the
// default list's).
// Outbound, from a local client to someone it blocks: not routed; the client gets
// not-acceptable, with <blocked xmlns='urn:xmpp:blocking:errors'/> when the XEP-0191 blocklist
// is the reason (XEP-0191 §3.3) and without it for other privacy rules (XEP-0016 example).
// Kinds (XEP-0016 §2.1): inbound message → message, iq → iq, presence notification (no type or
// unavailable) → presence-in; outbound presence notification → presence-out; everything else
// (outbound message/iq, subscription presence) is matched only by items without kinds.
//
// Presence on change (XEP-0191 §3.3/§3.4, XEP-0016 §2.11 and §2.10): when a change makes a
// contact that may see the user's presence (roster subscription from/both) blocked for
// presence-out, each available resource the change applies to sends it unavailable; when it is
// unblocked, each sends its current presence. When a change makes a contact whose presence the
// user receives (subscription to/both) blocked for presence-in, each such resource is sent
// unavailable from the JIDs it had presence from (a local contact's available resources, a
// remote contact's bare JID); when it is unblocked, the contact is probed. Entities that are
// not such contacts (directed presence) are not tracked, so they get no unavailable. The
// XEP-0191 blocklist is left out of the presence-in part (it delivers nothing from the contact).

import { JID } from '@magpie/core/jid/jid';
import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ModuleApi } from '../module.js';
import { ROSTER, type RosterService } from '../im-services/services.js';
import type { PrivacyChange, PrivacyModel } from './privacy-model.js';
import type { StanzaKind } from './privacy-rules.js';

export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';
export const FILTER_PRIORITY = 1000;

const isNotification = (type: string | undefined) => type === undefined || type === 'unavailable';
/** The kind an inbound stanza is judged as (§2.1); subscriptions and probes have none. */
const inboundKind = (stanza: Element): StanzaKind | undefined => stanza.name === 'message' ? 'message' : stanza.name === 'iq' ? 'iq'
  : stanza.name === 'presence' && isNotification(stanza.attrs.type) ? 'presence-in' : undefined;

export function installFilters(api: ModuleApi<unknown>, model: PrivacyModel): void {
  const dropped = api.metric('inbound-blocked');
  const refused = api.metric('outbound-blocked');
  const refusedFor = api.metric('resource-refused');

  const inbound = async (ev: StanzaEvent): Promise<true | undefined> => {
    const { to, from, stanza } = ev;
    if (!to.local || (from.local === to.local && from.domain === to.domain)) return undefined;
    const type = stanza.attrs.type;
    const kind = inboundKind(stanza);
    const session = to.resource ? api.sessions.get(to.toString()) : undefined;
    const verdict = await model.decide(to.domain, to.local, from, kind, { session });
    if (!verdict) return undefined;
    // A message or presence notification that fans out to the account's resources (to the
    // bare JID, or to a resource that is not there) is judged per resource at delivery
    // ('deliver/refuse' below): a resource whose active list is not the default list may take
    // what the default list denies. The blocklist holds whatever list is active.
    if (verdict === 'denied' && !session && (kind === 'message' || kind === 'presence-in') && (await listsDiffer(to.domain, to.local))) return undefined;
    dropped.inc();
    if (stanza.name === 'message' || (stanza.name === 'iq' && (type === 'get' || type === 'set'))) {
      api.bounce(ev, new StanzaError('service-unavailable')); // never for type=error (errorReply)
    }
    return true;
  };

  const outbound = async (ev: StanzaEvent): Promise<true | undefined> => {
    const s = ev.session;
    if (!s || (ev.to.local === s.username && ev.to.domain === s.host)) return undefined;
    const kind: StanzaKind | undefined = ev.stanza.name === 'presence' && isNotification(ev.stanza.attrs.type) ? 'presence-out' : undefined;
    const verdict = await model.decide(s.host, s.username, ev.to, kind, { session: s });
    if (!verdict) return undefined;
    refused.inc();
    api.bounce(ev, new StanzaError('not-acceptable', undefined, 'cancel', verdict === 'blocked' ? xml('blocked', NS_BLOCKING_ERRORS) : undefined));
    return true;
  };

  /** Some resource of the account applies a list other than the default list. */
  const listsDiffer = async (host: string, user: string): Promise<boolean> => {
    const c = await model.get(host, user);
    return api.sessions.resources(`${user}@${host}`).some((s) => model.applying(c, s) !== c.state.default);
  };

  // XEP-0016 §2.2 per resource (../delivery/refusal.ts): the resource's active list, else the
  // default list; without a session (no resource takes it) the default list.
  api.hook('deliver/refuse', async ({ event, session }) => {
    const { to, from } = event;
    if (!to.local || (from.local === to.local && from.domain === to.domain)) return undefined;
    if (!(await model.decide(to.domain, to.local, from, inboundKind(event.stanza), session ? { session } : {}))) return undefined;
    refusedFor.inc();
    return true;
  }, FILTER_PRIORITY);

  for (const kind of ['message', 'presence', 'iq'] as const) {
    for (const toType of ['bare', 'full'] as const) api.hook(`${kind}/${toType}` as 'message/bare', inbound, FILTER_PRIORITY);
    for (const toType of ['host', 'bare', 'full'] as const) api.hook(`pre-${kind}/${toType}` as 'pre-message/bare', outbound, FILTER_PRIORITY);
  }
}

/**
 * Presence after a change, for each available resource whose list changed: unavailable to
 * contacts that stop seeing it and its current presence to those that start (presence-out);
 * unavailable to it from contacts it stops hearing, and a probe for those it starts hearing
 * again (presence-in).
 */
export async function presenceOnChange(api: ModuleApi<unknown>, model: PrivacyModel, c: PrivacyChange): Promise<void> {
  const roster = api.service<RosterService>(ROSTER);
  if (!roster) return;
  const bare = `${c.user}@${c.host}`;
  const available = api.sessions.resources(bare).filter((s) => s.presence && (!c.active || c.active.session === s));
  if (available.length === 0) return;
  const items = await roster.all(c.host, c.user);
  const subscribers = items.filter((i) => i.subscription === 'from' || i.subscription === 'both');
  // Contacts whose presence the user receives, with the JIDs it has from them: a local
  // contact's available resources; a remote contact's bare JID (its resources are not known
  // here, and unavailable from the bare JID stands for all of them, RFC 6121 §4.5).
  const heard: { contact: JID; from: JID[] }[] = [];
  for (const i of items) {
    const contact = i.subscription === 'to' || i.subscription === 'both' ? JID.tryParse(i.jid) : undefined;
    if (!contact) continue;
    const from = api.isLocalHost(contact.domain) ? api.sessions.resources(contact.bareString()).filter((r) => r.presence).map((r) => r.jid) : [contact];
    heard.push({ contact, from });
  }
  const probe = new Set<string>();
  for (const s of available) {
    const listBefore = c.active ? (c.active.before !== undefined && c.before.lists.has(c.active.before) ? c.active.before : c.before.state.default) : model.applying(c.before, s);
    const listAfter = model.applying(c.after, s);
    /** Was `kind` from/to `other` refused before the change, and is it now? */
    const judge = async (other: JID, kind: 'presence-in' | 'presence-out') => [
      await model.decide(c.host, c.user, other, kind, { compiled: c.before, list: listBefore ?? null }),
      await model.decide(c.host, c.user, other, kind, { compiled: c.after, list: listAfter ?? null }),
    ];
    for (const item of subscribers) {
      const contact = JID.tryParse(item.jid);
      if (!contact) continue;
      const [was, now] = await judge(contact, 'presence-out');
      if (!was === !now) continue;
      let p;
      if (now) p = xml('presence', NS.CLIENT, { type: 'unavailable' });
      else { p = s.presence!.clone(); delete p.attrs.id; }
      p.attrs.from = s.jid.toString();
      p.attrs.to = contact.toString();
      await api.send(p);
    }
    // XEP-0016 §2.10 (presence-in): "the user's server SHOULD send unavailable presence to the
    // user on behalf of that contact". Written to the session, not routed: the inbound filters
    // would now drop it. Not for the XEP-0191 blocklist (either side of the change): there
    // "the user's server MUST NOT deliver any XML stanzas from the contact" (§3.3).
    const heardChange = async (j: JID): Promise<'stops' | 'starts' | undefined> => {
      const [was, now] = await judge(j, 'presence-in');
      if (!was === !now || was === 'blocked' || now === 'blocked') return undefined;
      return now ? 'stops' : 'starts';
    };
    for (const { contact, from } of heard) {
      for (const j of from) {
        const change = await heardChange(j);
        if (change === 'stops') s.send(xml('presence', NS.CLIENT, { type: 'unavailable', from: j.toString(), to: s.jid.toString() }));
        else if (change === 'starts') probe.add(contact.bareString());
      }
      // A remote contact's resources are unknown, and an offline local contact has none: a
      // contact heard again is probed whatever it has, so the resource learns its presence.
      if (from.length === 0 && (await heardChange(contact)) === 'starts') probe.add(contact.bareString());
    }
  }
  // One probe per contact, from the bare JID (RFC 6121 §4.3): the answers reach every
  // available resource that accepts them (a duplicate for those that already had it).
  for (const jid of probe) await api.send(xml('presence', NS.CLIENT, { type: 'probe', from: bare, to: jid }));
}
