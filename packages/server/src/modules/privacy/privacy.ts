// Privacy Lists (XEP-0016 1.7, the RFC 3921 §10 protocol): list names with the active and
// default list (§2.3), one list (§2.3), active list per session (§2.4), default list (§2.5),
// create/replace (§2.6, §2.7) and remove (§2.8) a list, pushes of the changed list's name to
// the connected resources (§2.2), and the §2.2 conflicts: a list that applies to another
// connected resource cannot be removed, and the default list cannot be changed or declined
// while it applies to another connected resource (one with no active list).
//
// Storage, evaluation and enforcement are the blocking module's (../blocking/privacy-model.ts):
// XEP-0191 §5 requires one back-end for both protocols, and the blocklist is the list named by
// the blocking module's `listName` option. A jid/deny item without stanza kinds added to that
// list here is blocked for XEP-0191 clients (pushed to them); other items are privacy rules
// only. Pushes go to every connected resource for edits made here (§2.2), and only to
// resources that have used this protocol for edits made by the blocking command (so that
// XEP-0191-only clients are not sent iqs they do not understand).
// Group items must name a group of the user's roster (§2.1: item-not-found otherwise).

import { z } from 'zod';
import { randomBytes } from 'node:crypto';
import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import { ROSTER, type RosterService } from '../im-services/services.js';
import { defineModule } from '../module.js';
import { PRIVACY_MODEL, type PrivacyModel } from '../blocking/privacy-model.js';
import type { PrivacyItem, PrivacyState } from '../blocking/privacy-rules.js';
import { NS_PRIVACY, listElement, parseItems } from './privacy-xml.js';

export default defineModule({
  manifest: {
    name: 'privacy',
    description: 'Privacy lists: allow and deny rules by JID, roster group or subscription, per stanza kind',
    specs: [{ spec: 'XEP-0016', version: '1.7', status: 'complete', notes: 'shares its store with the blocking command (XEP-0191); a message or presence that fans out to several resources is judged by each receiving resource\'s list (active, else default; every resource refusing a message: service-unavailable, not stored offline); iqs, subscriptions and probes to the bare JID by the default list; unavailable presence when presence-in becomes blocked is sent for roster contacts (subscription to/both), from the bare JID of a remote contact' }],
    options: z.object({
      /** Lists per account. */
      maxLists: z.number().int().positive().default(32),
      /** Items per list. */
      maxItems: z.number().int().positive().default(1000),
      /** Longest list name, in characters. */
      maxNameLength: z.number().int().positive().default(256),
    }).strict(),
    depends: ['blocking'],
    defaultEnabled: true,
  },
  setup(api) {
    const model = api.service<PrivacyModel>(PRIVACY_MODEL);
    if (!model) throw new Error('the privacy module needs the blocking module');
    const { maxLists, maxItems, maxNameLength } = api.options;
    api.discoFeature(NS_PRIVACY);

    const owner = (ev: StanzaEvent): { host: string; user: string; session: ClientSession } => {
      if (!ev.session || ev.to.bareString() !== ev.from.bareString()) throw new StanzaError('forbidden', 'privacy lists belong to their account');
      model.markInterested(ev.session);
      return { host: ev.to.domain, user: ev.to.local, session: ev.session };
    };
    const listName = (el: Element): string => {
      const name = el.attr('name');
      if (name === undefined || name === '') throw new StanzaError('bad-request', 'a list needs a name');
      if (name.length > maxNameLength) throw new StanzaError('policy-violation', `list names are at most ${maxNameLength} characters`);
      return name;
    };
    /** The list that applies to a session under `st` (its active list, else the default). */
    const applies = (st: PrivacyState, s: ClientSession): string | undefined => {
      const a = model.active(s);
      return a !== undefined && st.lists.has(a) ? a : st.default;
    };
    const others = (s: ClientSession) => api.sessions.resources(s.jid.bareString()).filter((o) => o !== s);

    // §2.2 privacy list pushes: the name of each list whose definition changed.
    model.onChange(async (c) => {
      const changed = new Set<string>();
      for (const [n, items] of c.after.state.lists) if (c.before.state.lists.get(n) !== items) changed.add(n);
      for (const n of c.before.state.lists.keys()) if (!c.after.state.lists.has(n)) changed.add(n);
      if (changed.size === 0) return;
      for (const s of api.sessions.resources(`${c.user}@${c.host}`)) {
        if (c.by === 'blocking' && !model.interested(s)) continue;
        for (const name of changed) {
          s.send(xml('iq', NS.CLIENT, { type: 'set', id: 'privacy-' + randomBytes(6).toString('base64url'), from: s.jid.bareString(), to: s.jid.toString() },
            xml('query', NS_PRIVACY, {}, xml('list', NS_PRIVACY, { name }))));
        }
      }
    });

    api.iq({ type: 'get', scope: 'bare', xmlns: NS_PRIVACY, name: 'query' }, async (ev, q) => {
      const { host, user, session } = owner(ev);
      const lists = q.getChildren('list', NS_PRIVACY);
      if (q.elements().length !== lists.length || lists.length > 1) throw new StanzaError('bad-request', 'ask for the names, or for one list'); // §2.3
      const { state } = await model.get(host, user);
      if (lists.length === 1) {
        const name = listName(lists[0]!);
        const items = state.lists.get(name);
        if (!items) throw new StanzaError('item-not-found');
        return xml('query', NS_PRIVACY, {}, listElement(name, items));
      }
      const r = xml('query', NS_PRIVACY);
      const active = model.active(session);
      if (active !== undefined && state.lists.has(active)) r.c('active', { name: active });
      if (state.default !== undefined) r.c('default', { name: state.default });
      for (const name of state.lists.keys()) r.c('list', { name });
      return r;
    });

    api.iq({ type: 'set', scope: 'bare', xmlns: NS_PRIVACY, name: 'query' }, async (ev, q) => {
      const { host, user, session } = owner(ev);
      const children = q.elements();
      const el = children[0];
      if (children.length !== 1 || el!.xmlns !== NS_PRIVACY) throw new StanzaError('bad-request', 'exactly one of active, default or list'); // §2.1
      switch (el!.name) {
        case 'active': return setActive(host, user, session, el!);
        case 'default': return setDefault(host, user, session, el!);
        case 'list': return editList(host, user, session, el!);
        default: throw new StanzaError('bad-request', `unexpected <${el!.name}/>`);
      }
    });

    // §2.4: the session's active list (or none, with no name).
    async function setActive(host: string, user: string, session: ClientSession, el: Element): Promise<undefined> {
      const name = el.attr('name');
      if (name !== undefined && !(await model!.get(host, user)).state.lists.has(name)) throw new StanzaError('item-not-found');
      const before = model!.active(session);
      model!.setActive(session, name);
      if (before !== name) await model!.activeChanged(session, before, 'privacy');
      return undefined;
    }

    // §2.5: the default list (or none, with no name); conflict while it applies to another resource.
    async function setDefault(host: string, user: string, session: ClientSession, el: Element): Promise<undefined> {
      const name = el.attr('name');
      await model!.update(host, user, 'privacy', (st) => {
        if (name !== undefined && !st.lists.has(name)) throw new StanzaError('item-not-found');
        if (st.default === name) return undefined;
        if (st.default !== undefined && others(session).some((o) => applies(st, o) === st.default)) {
          throw new StanzaError('conflict', 'the default list applies to another resource');
        }
        st.default = name;
        return st;
      });
      return undefined;
    }

    // §2.6-§2.8: create or replace (with items), remove (without).
    async function editList(host: string, user: string, session: ClientSession, el: Element): Promise<undefined> {
      const name = listName(el);
      const items = parseItems(el);
      if (items.length > maxItems) throw new StanzaError('policy-violation', `at most ${maxItems} items`);
      if (items.some((i) => i.type === 'group')) await checkGroups(host, user, items);
      await model!.update(host, user, 'privacy', (st) => {
        if (items.length === 0) {
          if (!st.lists.has(name)) throw new StanzaError('item-not-found');
          if (others(session).some((o) => applies(st, o) === name)) throw new StanzaError('conflict', 'the list applies to another resource');
          st.lists.delete(name);
          if (st.default === name) st.default = undefined;
          return st;
        }
        if (!st.lists.has(name) && st.lists.size >= maxLists) throw new StanzaError('policy-violation', `at most ${maxLists} lists`);
        st.lists.set(name, items);
        return st;
      });
      return undefined;
    }

    async function checkGroups(host: string, user: string, items: PrivacyItem[]): Promise<void> {
      const roster = api.service<RosterService>(ROSTER);
      const groups = new Set((roster ? await roster.all(host, user) : []).flatMap((i) => i.groups));
      for (const i of items) if (i.type === 'group' && !groups.has(i.value!)) throw new StanzaError('item-not-found', `no roster group ${i.value}`);
    }
  },
});
