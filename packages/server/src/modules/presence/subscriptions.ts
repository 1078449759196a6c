// Presence subscriptions on the server (RFC 6121 §3): the user's outbound subscribe (§3.1.2),
// subscribed (§3.1.5, §3.4), unsubscribe (§3.3.2) and unsubscribed (§3.2.2), and the same four
// arriving from a contact (§3.1.3, §3.1.6, §3.2.3, §3.3.3), driven by the Appendix A state
// machine (subscription-state.ts). Each stanza is one locked read-modify-write of the account's
// roster; the stanzas it causes (the forwarded stanza, an automatic answer, presence) are
// routed after the lock is released, since the peer's processing may lock this account.
//
// Inbound requests awaiting an answer are stored (with a XEP-0203 delay) and redelivered each
// time a resource of the account sends initial presence (§3.1.3), until answered.

import { parseFragment } from '@magpie/core/xml/parser';
import { serialize, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import { transition, stateName, type SubscriptionKind } from './subscription-state.js';
import { currentPresence, itemOf, presence, stateOf, unavailableFrom, type PresenceEnv } from './env.js';

export const SUBSCRIPTION_TYPES: ReadonlySet<string> = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);
export const isSubscription = (type: string | undefined): type is SubscriptionKind => type !== undefined && SUBSCRIPTION_TYPES.has(type);

export interface Subscriptions {
  outbound(ev: StanzaEvent, kind: SubscriptionKind): Promise<void>;
  inbound(ev: StanzaEvent, kind: SubscriptionKind): Promise<void>;
  /** Send a resource the stored requests it has not answered (§3.1.3). */
  redeliver(session: ClientSession): Promise<void>;
}

export function createSubscriptions(env: PresenceEnv): Subscriptions {
  const { api, roster } = env;
  const o = api.options;

  return {
    async outbound(ev, kind) {
      const user = ev.from.bare;
      const host = user.domain;
      const local = user.local;
      const userJid = user.toString();
      // §3.1.1: a subscription is between bare JIDs, whatever resource the client named.
      const contact = ev.to.bare.toString();
      if (contact === userJid) return; // one's own presence needs no subscription (roster.ts refuses the item too)
      const out: Element[] = [];
      await roster.lock(host, local, async () => {
        const item = await roster.get(host, local, contact);
        const pendingIn = (await roster.pendingFor(host, local, contact)) !== undefined;
        const before = stateOf(item, pendingIn);
        const t = transition(before, kind, 'outbound', { preApproval: o.preApproval });
        if (t.push && !item && (await roster.count(host, local)) >= roster.maxItems) {
          throw new StanzaError('not-allowed', `the roster is full (${roster.maxItems} items)`);
        }
        if (before.pendingIn && !t.state.pendingIn) await roster.setPending(host, local, contact, undefined);
        if (t.push) await roster.write(host, local, contact, itemOf(item, contact, t.state));
        // §3.1.2: the contact sees the request from the user's bare JID.
        if (t.deliver) out.push(forwarded(ev.stanza, userJid, contact));
        if (t.presence === 'available') out.push(...currentPresence(api, userJid, contact));
        if (t.presence === 'unavailable') out.push(...unavailableFrom(api, userJid, contact));
        api.log.debug({ user: userJid, contact, kind, from: stateName(before), to: stateName(t.state), routed: t.deliver }, 'outbound subscription');
      });
      for (const el of out) await api.send(el);
    },

    async inbound(ev, kind) {
      const user = ev.to.bare;
      const host = user.domain;
      const local = user.local;
      const userJid = user.toString();
      const contact = ev.from.bare.toString();
      if (!(await api.accounts.userExists(host, local))) {
        // §3.1.3: no such account: the request is refused on its behalf; the others are ignored.
        if (kind === 'subscribe') await api.send(presence('unsubscribed', userJid, contact));
        return;
      }
      if (contact === userJid) return;
      const out: Element[] = [];
      let deliver: Element | undefined;
      await roster.lock(host, local, async () => {
        const item = await roster.get(host, local, contact);
        const pendingIn = (await roster.pendingFor(host, local, contact)) !== undefined;
        const before = stateOf(item, pendingIn);
        const t = transition(before, kind, 'inbound', { preApproval: o.preApproval });
        const stamped = forwarded(ev.stanza, contact, userJid);
        if (t.state.pendingIn && !before.pendingIn) {
          // A flood of requests must not grow storage without bound: beyond the limit the
          // request is dropped (logged), as if it never arrived.
          if ((await roster.pending(host, local)).size >= o.maxPendingRequests) {
            api.log.warn({ user: userJid, contact }, 'too many pending subscription requests; request dropped');
            return;
          }
          const kept = stamped.clone();
          kept.c('delay', { from: host, stamp: new Date().toISOString() }, NS.DELAY);
          await roster.setPending(host, local, contact, serialize(kept));
        } else if (before.pendingIn && !t.state.pendingIn) {
          await roster.setPending(host, local, contact, undefined);
        }
        if (t.push) await roster.write(host, local, contact, itemOf(item, contact, t.state));
        if (t.deliver) deliver = stamped;
        if (t.reply) out.push(presence(t.reply, userJid, contact));
        if (t.presence === 'available') out.push(...currentPresence(api, userJid, contact));
        if (t.presence === 'unavailable') out.push(...unavailableFrom(api, userJid, contact));
        api.log.debug({ user: userJid, contact, kind, from: stateName(before), to: stateName(t.state), delivered: t.deliver }, 'inbound subscription');
      });
      // §3.1.3 and Appendix A "deliver": to every available resource (none: a request stays stored).
      if (deliver) for (const s of api.sessions.resources(userJid)) if (s.presence) s.send(deliver);
      for (const el of out) await api.send(el);
    },

    async redeliver(session) {
      const pending = await roster.pending(session.host, session.username);
      for (const [contact, text] of pending) {
        let el: Element;
        try { el = parseFragment(text); } catch (e) {
          api.log.warn({ user: session.jid.bareString(), contact, err: (e as Error).message }, 'unreadable stored subscription request');
          continue;
        }
        session.send(el);
      }
    },
  };
}

/** The subscription stanza as it travels on: from and to are bare JIDs (§3.1.2). */
function forwarded(stanza: Element, from: string, to: string): Element {
  const el = stanza.clone();
  el.attrs.from = from;
  el.attrs.to = to;
  return el;
}
