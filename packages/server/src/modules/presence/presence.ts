// Presence (RFC 6121 §3 subscriptions, §4 exchanging presence, Appendix A state tables) on the
// roster module's storage. Outbound presence from local clients is taken on 'pre-presence/*';
// presence addressed to local accounts on 'presence/bare' and 'presence/full'. Both run at
// PRIORITY, below the usual 0 so filters and observers (blocking, privacy, caps, last
// activity) see a stanza first, and above the delivery module's -100 fallbacks.
//
// Decisions where the RFC leaves room:
// - a subscription stanza addressed to a full JID is treated as addressed to the bare JID (§3.1.1);
// - subscription stanzas and probes to the account's own JID are ignored;
// - a probe a client sends (§4.3.1 discourages it) is routed from its full JID, so the answer
//   reaches that resource;
// - an unauthorised probe is answered with 'unsubscribed' (§4.3.2), except while the prober's
//   subscription request is pending here, and nothing is said to a blocked prober;
// - a user's own resources receive its broadcasts, the sending resource included (§4.2.2);
// - pre-approval (§3.4) is on by default (option preApproval) and advertised as a stream
//   feature here rather than in the roster module, since this module implements it; an
//   'unsubscribed' withdraws a pre-approval.

import { z } from 'zod';
import { ROSTER, BLOCKING, type BlockingService } from '../im-services/services.js';
import { defineModule } from '../module.js';
import type { StanzaEvent } from '../../hooks/events.js';
import type { RosterManager } from '../roster/roster-store.js';
import { createSubscriptions, isSubscription } from './subscriptions.js';
import { createAvailability } from './availability.js';
import type { PresenceEnv } from './env.js';

export const PRIORITY = -50;
export const NS_PREAPPROVAL = 'urn:xmpp:features:pre-approval';

export default defineModule({
  manifest: {
    name: 'presence',
    description: 'Presence subscriptions, broadcast, probes and directed presence',
    specs: [
      { spec: 'RFC 6121', version: '§3, §4, Appendix A', status: 'complete', notes: 'the Appendix A state machine with pre-approval (§3.4); inbound requests stored and redelivered at initial presence; broadcast, probes, directed presence; a probe of an account with no available resource gets a plain unavailable (no last status kept)' },
    ],
    options: z.object({
      /** Offer subscription pre-approval (RFC 6121 §3.4). */
      preApproval: z.boolean().default(true),
      /** Most entities one resource's directed presence is remembered for (§4.6.3). */
      maxDirected: z.number().int().positive().default(1000),
      /** Most unanswered inbound subscription requests stored per account (more are dropped). */
      maxPendingRequests: z.number().int().positive().default(1000),
    }).strict(),
    depends: ['roster'],
    defaultEnabled: true,
  },
  async setup(api) {
    const roster = api.service<RosterManager>(ROSTER);
    if (!roster) throw new Error('the presence module needs the roster module');
    const env: PresenceEnv = {
      api, roster,
      // Looked up per call: the blocking module may be loaded after this one, or not at all.
      isBlocked: async (host, user, jid, kind, session) => {
        const b = api.service<BlockingService>(BLOCKING);
        return b ? b.isBlocked(host, user, jid, kind, session) : false;
      },
    };
    const subs = createSubscriptions(env);
    const avail = createAvailability(env, subs);

    // Work started by 'session/closed' runs detached from any stanza; unloading waits for it so
    // it never outlives the storage it writes to.
    const inFlight = new Set<Promise<unknown>>();
    const track = (p: Promise<unknown>): void => {
      const q = p.catch((e) => api.log.warn({ err: (e as Error).message }, 'presence work failed')).finally(() => inFlight.delete(q));
      inFlight.add(q);
    };
    api.onUnload(async () => { await Promise.all([...inFlight]); });

    if (api.options.preApproval) {
      api.hook('stream/features', (ev) => {
        if (ev.authenticated) ev.features.c('sub', {}, NS_PREAPPROVAL);
      });
    }

    const outbound = async (ev: StanzaEvent): Promise<true | undefined> => {
      const s = ev.session;
      if (!s) return undefined;
      const type = ev.stanza.attrs.type;
      if (isSubscription(type)) { await subs.outbound(ev, type); return true; }
      const own = ev.to.bareString() === ev.from.bareString();
      // A client's probe keeps its full JID, so the answer reaches the resource that asked
      // even before it is available; a probe of one's own account means nothing.
      if (type === 'probe') return own ? true : undefined;
      if ((type === undefined || type === 'unavailable') && own && !ev.to.resource) {
        await avail.broadcast(s, ev.stanza);
        return true;
      }
      // Directed presence (§4.6) and errors travel on through the router.
      await avail.directed(ev);
      return undefined;
    };
    api.hook('pre-presence/bare', outbound, PRIORITY);
    api.hook('pre-presence/full', outbound, PRIORITY);
    api.hook('pre-presence/host', outbound, PRIORITY);

    const inbound = async (ev: StanzaEvent): Promise<true> => {
      const type = ev.stanza.attrs.type;
      if (isSubscription(type)) await subs.inbound(ev, type);
      else if (type === 'probe') await avail.probe(ev);
      else await avail.deliver(ev);
      return true;
    };
    api.hook('presence/bare', inbound, PRIORITY);
    api.hook('presence/full', inbound, PRIORITY);

    // §4.5.2: a connection that ends without unavailable presence sends it anyway.
    api.hook('session/closed', ({ session }) => { track(avail.closed(session)); });
    // A session moving to another cluster node: who got directed presence goes with it (§4.6.3).
    api.hook('session/export', ({ session, state }) => {
      const st = session.data.get('presence') as { directed: Set<string> } | undefined;
      if (st?.directed.size) state.presence = { directed: [...st.directed] };
    });
    api.hook('session/import', ({ session, state }) => {
      const d = (state.presence as { directed?: unknown } | undefined)?.directed;
      if (Array.isArray(d)) session.data.set('presence', { directed: new Set(d.filter((x): x is string => typeof x === 'string')) });
    });
  },
});
