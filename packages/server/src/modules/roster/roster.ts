// Roster management (RFC 6121 §2): jabber:iq:roster get (§2.2) and set (§2.3 add/update, §2.5
// delete), roster pushes to interested resources (§2.1.6), roster versioning (§2.6), and the
// ROSTER service the IM modules share (im-services/services.ts).
//
// Decisions where the RFC leaves room:
// - §2.6.3 allows answering an outdated `ver` with the whole roster or with pushes of the
//   changes; Magpie returns the whole roster (always correct, no change log to keep). The
//   current `ver` gets an empty result and nothing after it.
// - A result always carries `ver`, also to clients that sent none (they ignore it).
// - §2.3.3 lets a server refuse an item for the user's own JID: Magpie does (`not-allowed`);
//   a user's own resources already see each other's presence (§4.2.2), and a subscription to
//   oneself has no meaning in Appendix A.
// - Removing an item (§2.5.2) cancels the subscriptions both ways: `unsubscribe` when the user
//   was subscribed or asking (to, both, ask), `unsubscribed` when the contact was subscribed or
//   asking (from, both, a stored request), and unavailable presence from the user's available
//   resources when the contact could see them. These are routed from the user's bare JID
//   after the item is deleted and pushed, and before the result. A stored request without a
//   roster item is no item: removing it is item-not-found (deny it with 'unsubscribed').
// - A set may echo the item's subscription state (none/to/from/both: ignored, §2.1.2.5, as
//   slixmpp's update_roster does); any other value, and 'ask', are bad-request; 'approved' is
//   ignored. Items are bare JIDs (a full JID is bad-request).

import { z } from 'zod';
import { xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { Element } from '@magpie/core/xml/element';
import type { StanzaEvent } from '../../hooks/events.js';
import { ROSTER, type RosterItem } from '../im-services/services.js';
import { defineModule } from '../module.js';
import { NS_ROSTER, NS_ROSTERVER, itemElement, parseRosterSet, queryElement } from './roster-xml.js';
import { RosterStore } from './roster-store.js';

export default defineModule({
  manifest: {
    name: 'roster',
    description: 'Contact lists: roster get, set, delete, pushes and versioning',
    specs: [
      { spec: 'RFC 6121', version: '§2', status: 'complete', notes: 'roster get/set/remove, pushes to interested resources, versioning (an outdated ver gets the whole roster); items for the user\'s own JID are refused' },
    ],
    options: z.object({
      /** Most items one roster may hold; adding one more is refused with not-allowed. */
      maxItems: z.number().int().positive().default(1000),
      /** Longest item name, in characters (not-acceptable beyond). */
      maxNameLength: z.number().int().positive().default(1024),
      /** Longest group name, in characters (not-acceptable beyond). */
      maxGroupLength: z.number().int().positive().default(1024),
      /** Most groups per item (not-acceptable beyond). */
      maxGroups: z.number().int().positive().default(64),
      /** Advertise roster versioning (RFC 6121 §2.6) as a stream feature. */
      versioning: z.boolean().default(true),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const roster = new RosterStore(api.stores, api.sessions, o.maxItems);
    api.provide(ROSTER, roster);

    if (o.versioning) {
      api.hook('stream/features', (ev) => {
        if (ev.authenticated) ev.features.c('ver', {}, NS_ROSTERVER);
      });
    }

    /** §2.2.2/§2.3.2: only the account itself reads or changes its roster. */
    const owner = (ev: StanzaEvent): { host: string; user: string } => {
      if (!ev.session || ev.to.bareString() !== ev.from.bareString()) throw new StanzaError('forbidden', 'a roster belongs to its account');
      return { host: ev.to.domain, user: ev.to.local };
    };

    api.iq({ type: 'get', scope: 'bare', xmlns: NS_ROSTER, name: 'query' }, async (ev, q) => {
      const { host, user } = owner(ev);
      // §2.1.6: a resource that asked for the roster is interested in its pushes.
      ev.session!.interested = true;
      const asked = q.attr('ver');
      return roster.lock(host, user, async () => {
        const ver = await roster.version(host, user);
        // §2.6.3: the client's copy is current: an empty result, and no pushes to catch up.
        if (asked !== undefined && asked === ver) return undefined;
        const items = await roster.all(host, user);
        items.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0));
        return queryElement(items.map(itemElement), ver);
      });
    });

    api.iq({ type: 'set', scope: 'bare', xmlns: NS_ROSTER, name: 'query' }, async (ev, q) => {
      const { host, user } = owner(ev);
      const req = parseRosterSet(q, o);
      if (req.jid === ev.to.bareString()) throw new StanzaError('not-allowed', 'the account\'s own JID is not a roster item');
      if (!req.remove) {
        await roster.lock(host, user, async () => {
          const old = await roster.get(host, user, req.jid);
          if (!old && (await roster.count(host, user)) >= o.maxItems) throw new StanzaError('not-allowed', `a roster holds at most ${o.maxItems} items`);
          // §2.3.2: the client sets name and groups; the subscription state stays the server's.
          const item: RosterItem = { jid: req.jid, subscription: old?.subscription ?? 'none', groups: req.groups };
          if (req.name !== undefined) item.name = req.name;
          if (old?.ask) item.ask = old.ask;
          if (old?.approved) item.approved = true;
          await roster.write(host, user, req.jid, item);
        });
        return undefined;
      }
      const out: Element[] = [];
      await roster.lock(host, user, async () => {
        const old = await roster.get(host, user, req.jid);
        if (!old) throw new StanzaError('item-not-found', 'no such roster item');
        const pendingIn = (await roster.pendingFor(host, user, req.jid)) !== undefined;
        if (pendingIn) await roster.setPending(host, user, req.jid, undefined);
        await roster.write(host, user, req.jid, undefined);
        const bare = ev.to.bareString();
        const to = old.subscription === 'to' || old.subscription === 'both';
        const from = old.subscription === 'from' || old.subscription === 'both';
        if (to || old.ask) out.push(xml('presence', NS.CLIENT, { type: 'unsubscribe', from: bare, to: req.jid }));
        if (from || pendingIn) out.push(xml('presence', NS.CLIENT, { type: 'unsubscribed', from: bare, to: req.jid }));
        if (from) {
          for (const s of api.sessions.resources(bare)) {
            if (s.presence) out.push(xml('presence', NS.CLIENT, { type: 'unavailable', from: s.jid.toString(), to: req.jid }));
          }
        }
      });
      for (const el of out) await api.send(el);
      return undefined;
    });
  },
});
