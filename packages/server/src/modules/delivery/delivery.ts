// Local delivery (RFC 6120 §10.5, RFC 6121 §8.5): what happens to a stanza addressed to a local
// account, by stanza kind and type, when no feature module claimed it first. These handlers run
// at low priority so feature modules (presence subscriptions, offline storage, MUC, ...) can
// take a stanza before it gets here.

import { z } from 'zod';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import { defineModule } from '../module.js';
import { accepting, refuses } from './refusal.js';

export const LOW_PRIORITY = -100;

/** Resources eligible for a bare-JID message: available, non-negative priority (§8.5.2.1.1). */
export function bareTargets(sessions: readonly ClientSession[], all: boolean): ClientSession[] {
  let best = -1;
  const out: ClientSession[] = [];
  for (const s of sessions) {
    if (!s.presence || s.priority < 0) continue;
    if (all) { out.push(s); continue; }
    if (s.priority > best) { best = s.priority; out.length = 0; out.push(s); } else if (s.priority === best) out.push(s);
  }
  return out;
}

export default defineModule({
  manifest: {
    name: 'delivery',
    description: 'Delivery of stanzas to local accounts and resources',
    specs: [
      { spec: 'RFC 6120', version: '§10.5', status: 'complete' },
      { spec: 'RFC 6121', version: '§8.5', status: 'partial', notes: 'delivery rules for message and iq, and presence to a full JID; presence to a bare JID is the presence module\'s (§3, §4)' },
    ],
    options: z.object({
      /** Deliver a chat/normal message to a bare JID to every non-negative resource, not only the highest priority ones. */
      bareMessageToAll: z.boolean().default(false),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const sessions = api.sessions;

    // Modules that act on what reached which resource (carbons, XEP-0280 §7) observe this
    // rather than repeat these rules.
    const delivered = async (ev: StanzaEvent, to: readonly ClientSession[]): Promise<true> => {
      // The message is delivered whatever an observer does: its failure is logged, never
      // turned into an error for the sender.
      try { await api.fire('message/delivered', { event: ev, sessions: to }); } catch (e) {
        api.log.error({ err: e }, 'a message/delivered handler failed');
      }
      return true;
    };
    const deliver = (ev: StanzaEvent, to: readonly ClientSession[]): Promise<true> => {
      for (const s of to) s.send(ev.stanza);
      return delivered(ev, to);
    };

    const messageToBare = async (ev: StanzaEvent): Promise<true> => {
      const type = ev.stanza.attrs.type ?? 'normal';
      const to = ev.to;
      if (!(await api.accounts.userExists(to.domain, to.local))) {
        // §8.5.1: no such account.
        if (type !== 'error' && type !== 'headline') api.bounce(ev, new StanzaError('service-unavailable'));
        return true;
      }
      if (type === 'groupchat') { api.bounce(ev, new StanzaError('service-unavailable')); return true; }
      if (type === 'error') return true;
      // Privacy lists come first (XEP-0016 §2.2, ./refusal.ts): a resource that refuses the
      // sender is left out before priorities are compared, so the message goes to the best
      // resource that takes it. When every eligible resource refuses, the sender is told the
      // user is unavailable (XEP-0016 "Blocked Entity Attempts to Communicate with User") and
      // nothing is stored: offline storage would hand it to one of those resources later. With
      // no eligible resource, the account as a whole (the default list) decides before storage.
      const eligible = bareTargets(sessions.resources(to.bareString()), true);
      const online = await accepting(api, ev, eligible);
      if (eligible.length ? online.length === 0 : await refuses(api, ev)) {
        api.bounce(ev, new StanzaError('service-unavailable'));
        return true;
      }
      if (type === 'headline') {
        if (online.length) return deliver(ev, online);
        // Nobody to show it to: dropped (§8.5.2.1.1), unless offline storage takes it because
        // the sender asked for it (XEP-0334 <store/>; the offline policy decides).
        if ((await api.fire('message/offline', ev)) !== undefined) return delivered(ev, []);
        return true;
      }
      // normal, chat, and unknown types treated as normal (RFC 6121 §5.2.2).
      const targets = bareTargets(online, api.options.bareMessageToAll);
      if (targets.length) return deliver(ev, targets);
      if ((await api.fire('message/offline', ev)) !== undefined) return delivered(ev, []);
      api.bounce(ev, new StanzaError('service-unavailable', 'the recipient is offline'));
      return true;
    };

    api.hook('message/full', async (ev) => {
      const s = sessions.get(ev.to.toString());
      if (s) return deliver(ev, [s]);
      // §8.5.3.2.1: no such resource.
      const type = ev.stanza.attrs.type ?? 'normal';
      if (type === 'groupchat') { api.bounce(ev, new StanzaError('service-unavailable')); return true; }
      if (type === 'error' || type === 'headline') return true;
      return messageToBare(ev);
    }, LOW_PRIORITY);
    api.hook('message/bare', messageToBare, LOW_PRIORITY);

    api.hook('iq/full', async (ev) => {
      const s = sessions.get(ev.to.toString());
      if (s) { s.send(ev.stanza); return true; }
      const type = ev.stanza.attrs.type;
      if (type === 'get' || type === 'set') {
        const exists = await api.accounts.userExists(ev.to.domain, ev.to.local);
        api.bounce(ev, new StanzaError('service-unavailable', exists ? 'the resource is offline' : undefined));
      }
      return true;
    }, LOW_PRIORITY);

    api.hook('presence/full', (ev) => {
      sessions.get(ev.to.toString())?.send(ev.stanza);
      return true;
    }, LOW_PRIORITY);
    // Presence to an account's bare JID (broadcast, subscriptions, probes) is the presence
    // module's (RFC 6121 §3, §4); without it such presence is dropped (docs/routing.md step 4).
  },
});
