// Presence availability (RFC 6121 §4): the user's initial presence (§4.2: broadcast, probes,
// the other resources' presence, stored subscription requests, then 'session/available'),
// subsequent presence (§4.4), unavailable presence, explicit or on a closed connection (§4.5),
// probes from contacts (§4.3.2), directed presence and its tracking (§4.6), and inbound
// presence for local accounts (§4.4.3, §4.5.3, §8.5.2.1.2 / §8.5.3.1).
//
// The user's own broadcast is handled on the outbound side ('pre-presence/bare'); the stanzas
// it produces for contacts are routed (api.send) so local and remote contacts are treated alike,
// and reach a local contact through the inbound side below. Blocked contacts (BLOCKING service)
// are skipped in broadcasts and probes, judged by the list of the resource concerned (XEP-0016
// §2.2: its active list, else the default list); inbound presence is not delivered to a
// resource whose list refuses it.

import type { Element } from '@magpie/core/xml/element';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import type { RosterItem } from '../im-services/services.js';
import type { Subscriptions } from './subscriptions.js';
import { addressed, hasFrom, hasTo, presence, type PresenceEnv } from './env.js';

const DATA = 'presence';
interface SessionPresence {
  /** Full or bare JIDs that got directed available presence and no subscription covers (§4.6.3). */
  directed: Set<string>;
}

/** §4.7.2.3: an integer from -128 to 127; anything else counts as 0. */
export function parsePriority(p: Element): number {
  const text = p.getChildText('priority');
  if (text === undefined) return 0;
  const n = Number(text.trim());
  return Number.isInteger(n) ? Math.max(-128, Math.min(127, n)) : 0;
}

export interface Availability {
  /** A presence without 'to' (or to the account's own bare JID) from a local resource. */
  broadcast(session: ClientSession, stanza: Element): Promise<void>;
  /** Note directed presence on its way out (it is routed by the router as usual). */
  directed(ev: StanzaEvent): Promise<void>;
  /** The connection closed: unavailable on the resource's behalf (§4.5.2). */
  closed(session: ClientSession): Promise<void>;
  /** A probe for a local account (§4.3.2). */
  probe(ev: StanzaEvent): Promise<void>;
  /** Available, unavailable or error presence for a local account or resource. */
  deliver(ev: StanzaEvent): Promise<void>;
}

export function createAvailability(env: PresenceEnv, subs: Subscriptions): Availability {
  const { api, roster, isBlocked } = env;
  const o = api.options;

  const state = (s: ClientSession): SessionPresence => {
    let st = s.data.get(DATA) as SessionPresence | undefined;
    if (!st) { st = { directed: new Set() }; s.data.set(DATA, st); }
    return st;
  };

  /** Send `p` to each contact allowed to see it (subscription from/both), not blocked. */
  const toSubscribers = async (s: ClientSession, items: RosterItem[], p: Element): Promise<Set<string>> => {
    const sent = new Set<string>();
    for (const it of items) {
      if (!hasFrom(it)) continue;
      if (await isBlocked(s.host, s.username, it.jid, 'presence-out', s)) continue;
      sent.add(it.jid);
      await api.send(addressed(p, it.jid));
    }
    return sent;
  };

  /** §4.2.2/§4.4.2: the account's available resources see the presence, the sender included. */
  const toOwnResources = (s: ClientSession, p: Element): void => {
    for (const r of api.sessions.resources(s.jid.bareString())) if (r.presence || r === s) r.send(addressed(p, r.jid.toString()));
  };

  const unavailable = async (s: ClientSession, p: Element, echo: boolean): Promise<void> => {
    const was = s.presence !== undefined;
    s.presence = undefined;
    const st = state(s);
    const directed = [...st.directed];
    st.directed.clear();
    let covered = new Set<string>();
    if (was) covered = await toSubscribers(s, await roster.all(s.host, s.username), p);
    // §4.6.3: whoever got directed presence learns that the resource is gone.
    for (const d of directed) {
      const slash = d.indexOf('/');
      if (covered.has(slash < 0 ? d : d.slice(0, slash))) continue;
      await api.send(addressed(p, d));
    }
    if (was) {
      for (const r of api.sessions.resources(s.jid.bareString())) if ((r.presence && r !== s) || (r === s && echo)) r.send(addressed(p, r.jid.toString()));
      await api.fire('session/unavailable', { session: s });
    }
  };

  return {
    async broadcast(s, stanza) {
      const full = s.jid.toString();
      const bare = s.jid.bareString();
      const p = stanza.clone();
      delete p.attrs.to;
      p.attrs.from = full;
      if (p.attrs.type === 'unavailable') return unavailable(s, p, true);
      if (p.attrs.type !== undefined) return; // other types never reach here (presence.ts)
      const initial = s.presence === undefined;
      s.presence = p;
      s.priority = parsePriority(p);
      const items = await roster.all(s.host, s.username);
      await toSubscribers(s, items, p);
      toOwnResources(s, p);
      if (!initial) return;
      // §4.2.2: the new resource learns of the account's other available resources.
      for (const r of api.sessions.resources(bare)) if (r !== s && r.presence) s.send(addressed(r.presence, full));
      // §4.2.2: probes, from the bare JID, to every contact whose presence the user receives.
      for (const it of items) {
        if (!hasTo(it)) continue;
        if (await isBlocked(s.host, s.username, it.jid, 'presence-in', s)) continue;
        await api.send(presence('probe', bare, it.jid));
      }
      await subs.redeliver(s);
      // Last, so what the offline store holds arrives after the presence state (offline module).
      await api.fire('session/available', { session: s });
    },

    async directed(ev) {
      const s = ev.session;
      if (!s) return;
      const to = ev.to;
      if (to.bareString() === s.jid.bareString()) return; // the account's own resources
      if (!to.local && api.isLocalHost(to.domain)) return; // the server itself keeps no presence
      const target = to.toString();
      const st = state(s);
      if (ev.stanza.attrs.type === 'unavailable') { st.directed.delete(target); return; }
      if (ev.stanza.attrs.type !== undefined || st.directed.has(target)) return;
      // A subscriber gets the unavailable broadcast anyway; only others need remembering.
      if (await roster.hasFrom(s.host, s.username, to.bareString())) return;
      if (st.directed.size >= o.maxDirected) {
        api.log.debug({ jid: s.jid.toString(), target }, 'directed presence not tracked: limit reached');
        return;
      }
      st.directed.add(target);
    },

    async closed(s) {
      const st = s.data.get(DATA) as SessionPresence | undefined;
      if (s.presence === undefined && !st?.directed.size) return;
      await unavailable(s, presence('unavailable', s.jid.toString()), false);
    },

    async probe(ev) {
      const user = ev.to.bare;
      const userJid = user.toString();
      const prober = ev.from.bare.toString();
      if (prober === userJid) return;
      const reply = ev.from.toString();
      if (!(await api.accounts.userExists(user.domain, user.local))) {
        await api.send(presence('unsubscribed', userJid, prober));
        return;
      }
      const item = await roster.get(user.domain, user.local, prober);
      if (hasFrom(item)) {
        // Each available resource answers unless its own list refuses presence-out to the
        // prober (XEP-0016 §2.2: its active list, else the default). A blocked contact learns
        // nothing, not even that it is blocked: when every available resource refuses, or
        // none is available and the default list refuses.
        const available = api.sessions.resources(userJid).filter((r) => r.presence);
        const shown: ClientSession[] = [];
        for (const r of available) if (!(await isBlocked(user.domain, user.local, reply, 'presence-out', r))) shown.push(r);
        if (available.length ? shown.length === 0 : await isBlocked(user.domain, user.local, reply, 'presence-out')) return;
        const out = shown.map((r) => addressed(r.presence!, reply, r.jid.toString()));
        // §4.3.2: no available resource: unavailable from the bare JID.
        if (out.length === 0) out.push(presence('unavailable', userJid, reply));
        for (const el of out) await api.send(el);
        return;
      }
      if (await isBlocked(user.domain, user.local, reply, 'presence-out')) return;
      // §4.3.2: not authorised: 'unsubscribed' lets the prober's server correct its state. Not
      // while the prober's own request is pending here: that would cancel the request.
      if ((await roster.pendingFor(user.domain, user.local, prober)) !== undefined) return;
      await api.send(presence('unsubscribed', userJid, prober));
    },

    async deliver(ev) {
      const type = ev.stanza.attrs.type;
      if (type !== undefined && type !== 'unavailable' && type !== 'error') return; // unknown: c2s rejects these
      // Blocked or denied presence is left out per receiving resource (XEP-0016 §2.2: its
      // active list, else the default list), errors excepted.
      const refused = (r: ClientSession) => type !== 'error' && isBlocked(ev.to.domain, ev.to.local, ev.from.toString(), 'presence-in', r);
      if (ev.to.resource) {
        // §8.5.3.1: to that resource if it is online; otherwise ignored (§8.5.3.2.3).
        const s = api.sessions.get(ev.to.toString());
        if (s && !(await refused(s))) s.send(ev.stanza);
        return;
      }
      if (type === 'error') return; // an error for the bare JID has no resource to go to
      // §8.5.2.1.2: every available resource, whatever its priority.
      for (const r of api.sessions.resources(ev.to.bareString())) if (r.presence && !(await refused(r))) r.send(ev.stanza);
    },
  };
}
