// Message Archive Management (XEP-0313 1.1.3) for local accounts, with unique stanza ids
// (XEP-0359 0.7), result set management (XEP-0059 1.0) and archiving preferences (XEP-0441 0.2).
//
// Archiving, for each LOCAL party of a one-to-one message (./policy.ts says which messages):
// - the sender's copy on `pre-message/bare|full` (outgoing), at a priority below the outbound
//   filters (blocking/privacy at 1000), so only messages that are really routed get archived;
//   messages to one's own account are archived once, as incoming;
// - the recipient's copy on `message/bare|full` at priority -50: below inbound filters (1000),
//   above the delivery module (-100), so a message for an offline recipient, which delivery
//   hands to offline storage, is archived and carries its stanza-id there too.
// Remote peers count: a message to a remote domain is archived on the sender's side, one from a
// remote domain on the recipient's.
//
// Queries (§4) go to the account's own bare JID; anyone else gets forbidden (§8.1 data privacy).
// Results are written straight to the querying session, before the iq result, so they cannot be
// reordered with it nor pass through message hooks (which would treat them as new messages).

import { z } from 'zod';
import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import { defineModule, type ModuleApi } from '../module.js';
import { addStanzaId, archivable, NS_MAM, NS_MAM_EXTENDED, NS_SID, stripForgedStanzaIds } from './policy.js';
import { parsePrefs, prefsXml } from './prefs.js';
import { queryForm } from './query.js';
import { Archiver, type MamOptions } from './archiver.js';
import { StorageError } from '../../storage/storage.js';
import { formatDateTime } from '@magpie/core/protocol/datetime';

export const MAM_SERVICE = 'mam';
const OUTGOING_PRIORITY = -500;
const INCOMING_PRIORITY = -50;

const own = (ev: StanzaEvent): void => {
  // §8.1: an archive belongs to its account; other users (and remote entities) may not read it.
  if (ev.from.bareString() !== ev.to.bareString()) throw new StanzaError('forbidden', 'you may only access your own archive');
};

export default defineModule({
  manifest: {
    name: 'mam',
    description: 'Message archive of each account (one-to-one chats), queried with MAM and RSM; stanza ids on delivered messages',
    specs: [
      { spec: 'XEP-0313', version: '1.1.3', status: 'partial', notes: 'user archives of chat/normal messages with a body; filters with/start/end/before-id/after-id/ids, RSM paging, flip-page, form fetch, metadata; no groupchat in user archives (room archives are the muc module\'s, on the room JID)' },
      { spec: 'XEP-0359', version: '0.7.0', status: 'complete', notes: 'stanza-id (by = the account) on archived incoming messages; forged stanza-ids with our by are removed; origin-id kept' },
      { spec: 'XEP-0059', version: '1.0', status: 'complete', notes: 'in MAM queries: max/after/before/empty before (last page), count (left out beyond countLimit: it is optional), first index on pages from the start and on jumps; <index/> jumps (§2.5) up to maxIndex, refused beyond it with feature-not-implemented as §2.5 allows' },
      { spec: 'XEP-0441', version: '0.2.0', status: 'complete', notes: 'default always/never/roster with always/never lists' },
      { spec: 'XEP-0334', version: '1.0.0', status: 'partial', notes: 'no-store / no-permanent-store keep a message out of the archive; store archives one without a body' },
    ],
    options: z.object({
      /** Archiving default for accounts that never set preferences (XEP-0441). */
      defaultPolicy: z.enum(['always', 'never', 'roster']).default('always'),
      /** Page size when a query gives no RSM <max/>. */
      defaultPageSize: z.number().int().min(1).max(10_000).default(50),
      /** Largest page sent for one query; a larger <max/> is capped. */
      maxPageSize: z.number().int().min(1).max(10_000).default(250),
      /** Most ids in one 'ids' field. */
      maxIds: z.number().int().min(1).max(10_000).default(250),
      /** Most JIDs in each preference list. */
      maxPrefsJids: z.number().int().min(0).default(1000),
      /** Largest RSM <index/> a query may jump to (XEP-0059 §2.5): the items before it are read
          to find the page, so a larger one is refused with feature-not-implemented. */
      maxIndex: z.number().int().min(0).max(1_000_000).default(5000),
      /** RSM <count/> counts at most this many matches; beyond it <count/> is left out (it is optional). */
      countLimit: z.number().int().min(0).default(10_000),
      /** Delete archived messages older than this many days; 0 keeps them forever. */
      retentionDays: z.number().min(0).default(0),
      /** How often the retention purge runs. */
      purgeIntervalMinutes: z.number().min(1).default(60),
      /** Rows deleted per purge statement (keeps each transaction short). */
      purgeBatch: z.number().int().min(1).default(5000),
      /** Keep at most this many messages per account, deleting the oldest; 0 = no limit. */
      maxMessagesPerUser: z.number().int().min(0).default(0),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const archiver = new Archiver(api as ModuleApi<MamOptions>);
    const o = api.options;
    api.provide(MAM_SERVICE, archiver);
    // Rows still queued when the server stops are written before storage closes.
    api.onUnload(() => archiver.settled());
    api.discoFeature(NS_MAM, 'account');
    api.discoFeature(NS_MAM_EXTENDED, 'account');
    api.discoFeature(NS_SID, 'account');

    const outgoing = async (ev: StanzaEvent): Promise<undefined> => {
      const s = ev.session;
      if (!s || !archivable(ev.stanza)) return undefined;
      // To oneself: archived once, when it arrives (incoming).
      if (ev.to.bareString() === s.jid.bareString() || !ev.to.local) return undefined;
      await archiver.archive(s.jid.bare, ev.to, ev.stanza, 'out');
      return undefined;
    };
    api.hook('pre-message/bare', outgoing, OUTGOING_PRIORITY);
    api.hook('pre-message/full', outgoing, OUTGOING_PRIORITY);

    const incoming = async (ev: StanzaEvent): Promise<undefined> => {
      const owner = ev.to.bare;
      stripForgedStanzaIds(ev.stanza, owner.toString());
      if (!archivable(ev.stanza)) return undefined;
      let exists: boolean;
      try { exists = await api.accounts.userExists(owner.domain, owner.local); } catch (e) {
        if (e instanceof StorageError) return undefined; // storage down: delivered, not archived (archiver.ts)
        throw e;
      }
      if (!exists) return undefined;
      const id = await archiver.archive(owner, ev.from, ev.stanza, 'in');
      if (id !== undefined) addStanzaId(ev.stanza, id, owner.toString());
      return undefined;
    };
    api.hook('message/bare', incoming, INCOMING_PRIORITY);
    api.hook('message/full', incoming, INCOMING_PRIORITY);

    api.hook('account/deleted', ({ host, username }) => archiver.deleteAccount(host, username));

    // §4.1.6: the fields a client may use.
    api.iq({ type: 'get', scope: 'bare', xmlns: NS_MAM, name: 'query' }, (ev) => {
      own(ev);
      return xml('query', NS_MAM, {}, queryForm());
    });

    api.iq({ type: 'set', scope: 'bare', xmlns: NS_MAM, name: 'query' }, async (ev, query) => {
      own(ev);
      return archiver.answer(query, { owner: ev.to.bare, from: ev.to.bareString(), to: ev.from.toString() }, (m) => ev.session?.send(m));
    });

    // §5 (extended): first and last item of the archive.
    api.iq({ type: 'get', scope: 'bare', xmlns: NS_MAM, name: 'metadata' }, async (ev) => {
      own(ev);
      await archiver.settled();
      const { archive } = api.stores;
      const { domain, local } = ev.to;
      const [first, last] = await Promise.all([
        archive.query(domain, local, 'mam', { limit: 1, countUpTo: 0 }),
        archive.query(domain, local, 'mam', { limit: 1, reverse: true, countUpTo: 0 }),
      ]);
      const md = xml('metadata', NS_MAM);
      const a = first.items[0], b = last.items[0];
      if (a && b) md.append(xml('start', NS_MAM, { id: a.id, timestamp: formatDateTime(a.when) }), xml('end', NS_MAM, { id: b.id, timestamp: formatDateTime(b.when) }));
      return md;
    });

    api.iq({ type: 'get', scope: 'bare', xmlns: NS_MAM, name: 'prefs' }, async (ev) => {
      own(ev);
      return prefsXml(await archiver.prefs(ev.to.domain, ev.to.local));
    });
    api.iq({ type: 'set', scope: 'bare', xmlns: NS_MAM, name: 'prefs' }, async (ev, el: Element) => {
      own(ev);
      const p = parsePrefs(el, o.maxPrefsJids);
      await archiver.setPrefs(ev.to.domain, ev.to.local, p);
      return prefsXml(p);
    });

    if (o.retentionDays > 0) {
      const run = (): void => {
        archiver.purge().then((n) => { if (n > 0) api.log.info({ deleted: n }, 'archive retention purge'); })
          .catch((e) => api.log.error({ err: e }, 'archive retention purge failed'));
      };
      api.every(o.purgeIntervalMinutes * 60_000, run);
      api.after(10_000, run);
    }
  },
});
