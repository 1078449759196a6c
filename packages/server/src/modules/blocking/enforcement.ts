// Applying the privacy model to stanzas (XEP-0191 §3.3, XEP-0016 §2.2 and §2.13/"Blocked Entity
// Attempts to Communicate with User"), as hooks at high priority so they run before any
// delivery rule (XEP-0016 §2.2: "Privacy lists MUST be the first delivery rule applied").
//
// Inbound, to a local account's bare or full JID from someone it blocks or denies: presence
// (notifications, subscriptions, probes) is dropped without an answer; a message gets
// service-unavailable (XEP-0016 1.7 and XEP-0191 §3.3: SHOULD, so the sender is not left in a
// "black hole"); an iq get/set gets service-unavailable, other iqs are dropped. The user then
// appears offline to the blocked entity. A full-JID stanza is judged by that session's active
// list; a bare-JID one by the default list (see the module header for why).
// Outbound, from a local client to someone it blocks: not routed; the client gets
// not-acceptable, with <blocked xmlns='urn:xmpp:blocking:errors'/> when the XEP-0191 blocklist
// is the reason (XEP-0191 §3.3) and without it for other privacy rules (XEP-0016 example).
// Kinds (XEP-0016 §2.1): inbound message → message, iq → iq, presence notification (no type or
// unavailable) → presence-in; outbound presence notification → presence-out; everything else
// (outbound message/iq, subscription presence) is matched only by items without kinds.
//
// Presence on change (XEP-0191 §3.3/§3.4, XEP-0016 §2.12): when a change makes a contact that
// may see the user's presence (roster subscription from/both) blocked for presence-out, each
// available resource sends it unavailable; when it is unblocked, each sends its current presence.

import { JID } from '@magpie/core/jid/jid';
import { xml } from '@magpie/core/xml/element';
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

export function installFilters(api: ModuleApi<unknown>, model: PrivacyModel): void {
  const dropped = api.metric('inbound-blocked');
  const refused = api.metric('outbound-blocked');

  const inbound = async (ev: StanzaEvent): Promise<true | undefined> => {
    const { to, from, stanza } = ev;
    if (!to.local || (from.local === to.local && from.domain === to.domain)) return undefined;
    const type = stanza.attrs.type;
    const kind: StanzaKind | undefined = stanza.name === 'message' ? 'message' : stanza.name === 'iq' ? 'iq'
      : isNotification(type) ? 'presence-in' : undefined;
    const session = to.resource ? api.sessions.get(to.toString()) : undefined;
    if (!(await model.decide(to.domain, to.local, from, kind, { session }))) return undefined;
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

  for (const kind of ['message', 'presence', 'iq'] as const) {
    for (const toType of ['bare', 'full'] as const) api.hook(`${kind}/${toType}` as 'message/bare', inbound, FILTER_PRIORITY);
    for (const toType of ['host', 'bare', 'full'] as const) api.hook(`pre-${kind}/${toType}` as 'pre-message/bare', outbound, FILTER_PRIORITY);
  }
}

/** Unavailable to contacts that stop seeing the user, current presence to those that start. */
export async function presenceOnChange(api: ModuleApi<unknown>, model: PrivacyModel, c: PrivacyChange): Promise<void> {
  const roster = api.service<RosterService>(ROSTER);
  if (!roster) return;
  const bare = `${c.user}@${c.host}`;
  const available = api.sessions.resources(bare).filter((s) => s.presence && (!c.active || c.active.session === s));
  if (available.length === 0) return;
  const contacts = (await roster.all(c.host, c.user)).filter((i) => i.subscription === 'from' || i.subscription === 'both');
  for (const s of available) {
    const listBefore = c.active ? (c.active.before !== undefined && c.before.lists.has(c.active.before) ? c.active.before : c.before.state.default) : model.applying(c.before, s);
    const listAfter = model.applying(c.after, s);
    for (const item of contacts) {
      const contact = JID.tryParse(item.jid);
      if (!contact) continue;
      const was = await model.decide(c.host, c.user, contact, 'presence-out', { compiled: c.before, list: listBefore ?? null });
      const now = await model.decide(c.host, c.user, contact, 'presence-out', { compiled: c.after, list: listAfter ?? null });
      if (!was === !now) continue;
      let p;
      if (now) p = xml('presence', NS.CLIENT, { type: 'unavailable' });
      else { p = s.presence!.clone(); delete p.attrs.id; }
      p.attrs.from = s.jid.toString();
      p.attrs.to = contact.toString();
      await api.send(p);
    }
  }
}
