// Blocking Command (XEP-0191 1.3): the blocklist (§3.2), block (§3.3), unblock (§3.4), unblock
// all (§3.5), pushes to the resources that requested the blocklist, and enforcement
// (./enforcement.ts). The blocklist is a view of one XEP-0016 privacy list in the shared model
// (./privacy-model.ts, ./privacy-rules.ts), so the privacy module (XEP-0016) and this one see
// each other's edits (XEP-0191 §5: "MUST use the same back-end data store"):
// - the list is named by the `listName` option (default 'urn:xmpp:blocking'); the first block
//   creates it and makes it the default list when the user has none (a user who set another
//   default list keeps it: the blocklist is enforced anyway, see privacy-model.ts);
// - blocking a JID adds a jid/deny item without stanza kinds ahead of the list's other items;
//   unblocking removes that item; unblock-all removes every such item (other items stay); a
//   list left empty is deleted (and stops being the default);
// - a XEP-0016 edit that adds or removes such an item in that list is pushed to blocklist
//   clients as block/unblock.
// This module provides the BLOCKING service (isBlocked: blocklist + default list) and the
// model itself (PRIVACY_MODEL) for the privacy module. The roster (for presence on block and
// for group/subscription items) is looked up when needed, so it is optional. Stanzas that fan
// out to several resources are judged per resource ('deliver/refuse', ./enforcement.ts).

import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import { JID } from '@magpie/core/jid/jid';
import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import { BLOCKING, ROSTER, type BlockingService, type RosterService } from '../im-services/services.js';
import { defineModule, type ModuleApi } from '../module.js';
import { PRIVACY_MODEL, PrivacyModel } from './privacy-model.js';
import { addBlocks, removeBlocks } from './privacy-rules.js';
import { installFilters, presenceOnChange } from './enforcement.js';

export const NS_BLOCKING = 'urn:xmpp:blocking';

// Shared session state: a block made on another node pushes to this resource too.
const requested = (s: ClientSession) => s.shared.get('blocking') === true;

export default defineModule({
  manifest: {
    name: 'blocking',
    description: 'Blocking command: block and unblock JIDs, enforced on every stanza',
    specs: [{ spec: 'XEP-0191', version: '1.3', status: 'complete', notes: 'stored as a XEP-0016 privacy list (shared with the privacy module); presence on block/unblock needs the roster module' }],
    options: z.object({
      /** Name of the XEP-0016 privacy list that holds the blocklist. */
      listName: z.string().min(1).max(256).default('urn:xmpp:blocking'),
      /** Most items one privacy list may hold (also bounds the blocklist). */
      maxItems: z.number().int().positive().default(1000),
      /** Accounts whose lists are kept in memory. */
      cacheSize: z.number().int().positive().default(10000),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const { listName, maxItems, cacheSize } = api.options;
    const model = new PrivacyModel(api.stores.map, api.sessions, {
      listName, cacheSize,
      isLocalHost: (d) => api.isLocalHost(d),
      roster: () => api.service<RosterService>(ROSTER),
    });
    api.provide(PRIVACY_MODEL, model);
    api.provide<BlockingService>(BLOCKING, {
      async isBlocked(host, user, jid, kind, session) {
        const other = JID.tryParse(jid);
        return other ? (await model.decide(host, user, other, kind, session ? { session } : {})) !== undefined : false;
      },
    });
    api.discoFeature(NS_BLOCKING);
    installFilters(api as ModuleApi<unknown>, model);
    api.hook('account/deleted', ({ host, username }) => { model.forget(host, username); });
    // Lists cached on other cluster nodes are dropped when they change here (and vice versa).
    api.hook('cache/invalidate', ({ scope, host, user, remote }) => { if (scope === 'privacy' && remote) model.forget(host, user); });

    const push = (bare: string, payload: Element): void => {
      for (const s of api.sessions.resources(bare)) {
        if (requested(s)) s.send(xml('iq', NS.CLIENT, { type: 'set', id: 'block-' + randomBytes(6).toString('base64url'), from: bare, to: s.jid.toString() }, payload.clone()));
      }
    };
    const items = (name: string, jids: string[]) => xml(name, NS_BLOCKING, {}, ...jids.map((jid) => xml('item', NS_BLOCKING, { jid })));

    // Pushes follow the stored change, whichever protocol made it (XEP-0191 §3.3-§3.5).
    model.onChange(async (c) => {
      await api.fire('cache/invalidate', { scope: 'privacy', host: c.host, user: c.user });
      const before = model.blocklist(c.before), after = model.blocklist(c.after);
      const bare = `${c.user}@${c.host}`;
      if (c.unblockAll) push(bare, xml('unblock', NS_BLOCKING));
      else {
        const added = after.filter((j) => !before.includes(j));
        const removed = before.filter((j) => !after.includes(j));
        if (added.length) push(bare, items('block', added));
        if (removed.length) push(bare, items('unblock', removed));
      }
      await presenceOnChange(api as ModuleApi<unknown>, model, c).catch((e) => api.log.warn({ err: e }, 'presence after a privacy change failed'));
    });

    const owner = (ev: StanzaEvent): { host: string; user: string; session: ClientSession } => {
      if (!ev.session || ev.to.bareString() !== ev.from.bareString()) throw new StanzaError('forbidden', 'a blocklist belongs to its account');
      return { host: ev.to.domain, user: ev.to.local, session: ev.session };
    };
    /** The items' JIDs, normalised (RFC 7622); jid-malformed for any that is not a JID. */
    const jids = (el: Element): string[] => el.getChildren('item', NS_BLOCKING).map((i) => {
      const j = JID.tryParse(i.attr('jid'));
      if (!j) throw new StanzaError('jid-malformed', `not a JID: ${i.attr('jid') ?? '(missing)'}`);
      return j.toString();
    });

    // A session moving to another cluster node still receives blocking pushes there (§3.2).
    api.hook('session/export', ({ session, state }) => { if (requested(session)) state.blocking = true; });
    api.hook('session/import', ({ session, state }) => { if (state.blocking === true) session.shared.set('blocking', true); });

    api.iq({ type: 'get', scope: 'bare', xmlns: NS_BLOCKING, name: 'blocklist' }, async (ev) => {
      const { host, user, session } = owner(ev);
      session.shared.set('blocking', true); // §3.2: this resource now receives pushes
      return items('blocklist', model.blocklist(await model.get(host, user)));
    });

    api.iq({ type: 'set', scope: 'bare', xmlns: NS_BLOCKING, name: 'block' }, async (ev, el) => {
      const { host, user } = owner(ev);
      const add = jids(el);
      if (add.length === 0) throw new StanzaError('bad-request', 'block needs at least one item'); // §3.3
      await model.update(host, user, 'blocking', (s) => {
        const list = addBlocks(s.lists.get(listName) ?? [], add);
        if (!list) return undefined;
        if (list.length > maxItems) throw new StanzaError('policy-violation', `at most ${maxItems} items`);
        s.lists.set(listName, list);
        s.default ??= listName;
        return s;
      });
    });

    api.iq({ type: 'set', scope: 'bare', xmlns: NS_BLOCKING, name: 'unblock' }, async (ev, el) => {
      const { host, user } = owner(ev);
      const remove = jids(el);
      const all = remove.length === 0; // §3.5: an empty unblock unblocks everyone
      await model.update(host, user, 'blocking', (s) => {
        const current = s.lists.get(listName);
        const list = current && removeBlocks(current, all ? 'all' : remove);
        if (!list) return undefined;
        if (list.length) s.lists.set(listName, list);
        else {
          s.lists.delete(listName);
          if (s.default === listName) s.default = undefined;
        }
        return s;
      }, { unblockAll: all });
    });
  },
});
