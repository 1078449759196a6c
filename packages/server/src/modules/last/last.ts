// Last Activity (XEP-0012 2.0, jabber:iq:last).
// §6 (server query): the server answers with its uptime in seconds, no text.
// §4 (offline user query, to a bare JID): the server answers for the account. Only requesters
// authorised to see the user's presence (subscription 'from' or 'both' per the roster service,
// or the user themselves) get an answer; anyone else gets <forbidden/>. With a connected or
// available resource the answer is seconds='0'; otherwise the seconds since the last logout and
// the status text of the last unavailable presence. A missing account is <service-unavailable/>
// (§5 last paragraph defers to RFC 6121 §8.5.1); an account with nothing recorded yet is
// <item-not-found/> (there is no activity to report).
// §5 (online user query, to a full JID): delivering it is the delivery module's job; this module
// only refuses it with <forbidden/> for an unauthorised requester, as §5 and §9 require ("MUST
// NOT deliver the IQ-get"), so that it is no presence leak.
// Logouts are recorded on 'session/unavailable' (the presence module) and on 'session/closed'
// (fallback), in the kv store 'last' so that they survive restarts; the status text comes from
// the session's last unavailable presence, seen on its way out ('pre-presence/bare').

import { z } from 'zod';
import { xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { JID } from '@magpie/core/jid/jid';
import { isKnownEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import { defineModule } from '../module.js';
import { BLOCKING, ROSTER, type BlockingService, type RosterService } from '../im-services/services.js';

export const NS_LAST = 'jabber:iq:last';
const STORE = 'last';
const DATA = 'last';

/** What is stored per account: when it last logged out (ms since epoch) and its status then. */
export type LastRecord = { t: number; status?: string };

export default defineModule({
  manifest: {
    name: 'last',
    description: 'Last activity: server uptime, and when an account was last online (to its contacts)',
    specs: [{ spec: 'XEP-0012', version: '2.0', status: 'complete', notes: 'bare-JID answers from recorded logouts; full-JID queries reach the client only from authorised requesters' }],
    options: z.object({
      /** Longest status text kept from the last unavailable presence, in characters. */
      maxStatusLength: z.number().int().nonnegative().default(1024),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const store = api.stores.kv(STORE);
    const startedAt = Date.now();
    api.discoFeature(NS_LAST, 'host');
    api.discoFeature(NS_LAST, 'account');

    /** §4, §9: the user, or a contact with a presence subscription to the user (not blocked). */
    const authorised = async (from: JID, user: JID): Promise<boolean> => {
      if (from.bareString() === user.bareString()) return true;
      const roster = api.service<RosterService>(ROSTER);
      if (!roster || !(await roster.hasFrom(user.domain, user.local, from.bareString()))) return false;
      const blocking = api.service<BlockingService>(BLOCKING);
      return !blocking || !(await blocking.isBlocked(user.domain, user.local, from.toString(), 'presence-out'));
    };

    api.iq({ type: 'get', scope: 'host', xmlns: NS_LAST, name: 'query' }, () =>
      xml('query', NS_LAST, { seconds: Math.floor((Date.now() - startedAt) / 1000) }));

    api.iq({ type: 'get', scope: 'bare', xmlns: NS_LAST, name: 'query' }, async (ev) => {
      const user = ev.to;
      if (!(await api.accounts.userExists(user.domain, user.local))) throw new StanzaError('service-unavailable');
      if (!(await authorised(ev.from, user))) throw new StanzaError('forbidden');
      if (api.sessions.resources(user.bareString()).length > 0) return xml('query', NS_LAST, { seconds: 0 });
      const rec = await store.get<LastRecord>(user.domain, user.local);
      if (!rec) throw new StanzaError('item-not-found', 'no activity recorded');
      const q = xml('query', NS_LAST, { seconds: Math.max(0, Math.floor((Date.now() - rec.t) / 1000)) });
      if (rec.status) q.t(rec.status);
      return q;
    });

    // §5: before delivery (priority -100), refuse unauthorised queries to a resource.
    api.hook('iq/full', async (ev) => {
      if (ev.stanza.attrs.type !== 'get' || !ev.stanza.getChild('query', NS_LAST)) return undefined;
      if (await authorised(ev.from, ev.to.bare)) return undefined;
      api.bounce(ev, new StanzaError('forbidden'));
      return true;
    }, 10);

    // The status text of the session's unavailable presence, for the record written when it
    // goes; an available presence clears it. Never stops the presence.
    api.hook('pre-presence/bare', (ev) => {
      const s = ev.session;
      if (!s || ev.to.bareString() !== ev.from.bareString()) return undefined;
      const type = ev.stanza.attrs.type;
      if (type === 'unavailable') s.data.set(DATA, (ev.stanza.getChildText('status') ?? '').slice(0, o.maxStatusLength));
      else if (type === undefined) s.data.delete(DATA);
      return undefined;
    }, 50);

    const record = async (s: ClientSession): Promise<void> => {
      const status = s.data.get(DATA) as string | undefined;
      const rec: LastRecord = status ? { t: Date.now(), status } : { t: Date.now() };
      try { await store.set(s.host, s.username, rec); } catch (e) {
        api.log.warn({ err: (e as Error).message, user: s.jid.bareString() }, 'could not record last activity');
      }
    };
    // 'session/unavailable' is declared in events.ts but missing from its list of known names,
    // so subscribing to it throws until that is fixed; 'session/closed' covers every logout.
    if (isKnownEvent('session/unavailable')) api.hook('session/unavailable', ({ session }) => record(session));
    api.hook('session/closed', ({ session }) => record(session));
  },
});
