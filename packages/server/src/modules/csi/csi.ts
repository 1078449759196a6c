// Client State Indication (XEP-0352 1.0.0): the <csi/> stream feature after authentication
// (§3), the <inactive/> and <active/> nonzas (§4), and traffic held back while a client is
// inactive (§6; what is held is decided in ./importance.ts). The state changes before the next
// element of the stream is processed (§5: nonzas are handled in stream order by c2s), and
// becoming active writes everything held before anything that follows.
//
// Holding is an output filter on the session, installed at the first <inactive/>:
// - it is put FIRST in the session's filter chain and, when it flushes, passes each held stanza
//   through the filters AFTER it only, then writes it. So a filter that must see exactly what
//   goes on the wire (XEP-0198 counting and its resend queue) sees held stanzas when they are
//   finally written, in order, and never twice; filters added later still run after this one;
// - when something urgent is written while stanzas are held, the held ones go out first, so the
//   client never sees a newer stanza before an older one;
// - the number held per session is capped (maxHeld): reaching it flushes everything;
// - held stanzas of a session that closes are dropped (presence and chat states only: the next
//   session gets current presence anyway); the count is in the 'dropped' metric.

import { z } from 'zod';
import { xml, type Element } from '@magpie/core/xml/element';
import type { ClientSession } from '../../session/session.js';
import type { OutputFilter } from '../../stream/client-session.js';
import { defineModule } from '../module.js';
import { HeldStanzas } from './held-stanzas.js';
import { importance } from './importance.js';

export const NS_CSI = 'urn:xmpp:csi:0';

/** What a session needs for holding; LocalClientSession has it (other kinds are never held). */
interface FilterableSession extends ClientSession {
  readonly filters: OutputFilter[];
  sendRaw(stanza: Element): void;
}
const filterable = (s: ClientSession): s is FilterableSession =>
  Array.isArray((s as Partial<FilterableSession>).filters) && typeof (s as Partial<FilterableSession>).sendRaw === 'function';

interface CsiState { inactive: boolean; held: HeldStanzas }

export default defineModule({
  manifest: {
    name: 'csi',
    description: 'Client state indication: holds back presence updates and chat states while a client is inactive',
    specs: [{ spec: 'XEP-0352', version: '1.0.0', status: 'complete', notes: 'presence updates held and collapsed per sender; chat-state-only messages held (holdChatStates); everything else, carbons judged by what they forward, is delivered at once after what was held; maxHeld per session' }],
    options: z.object({
      /** Stanzas held per inactive session; reaching it delivers them all. */
      maxHeld: z.number().int().min(1).max(100_000).default(200),
      /** Hold messages that carry only XEP-0085 chat states. */
      holdChatStates: z.boolean().default(true),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const { maxHeld, holdChatStates } = api.options;
    const held = api.metric('held');
    const collapsed = api.metric('collapsed');
    const flushed = api.metric('flushed');
    const dropped = api.metric('dropped');
    const inactiveNow = api.metric('inactive-sessions');
    const states = new Map<ClientSession, CsiState>();
    const countInactive = () => { let n = 0; for (const st of states.values()) if (st.inactive) n++; inactiveNow.set(n); };

    const filter: OutputFilter = (stanza, session) => {
      const st = states.get(session);
      if (!st?.inactive) return stanza;
      const kind = importance(stanza, { holdChatStates });
      if (kind === 'urgent') { flush(session); return stanza; }
      // Held stanzas are written later: a copy, so a later change to a shared tree cannot leak in.
      if (st.held.add(stanza.clone(), kind === 'collapse' ? (stanza.attrs.from ?? '') : undefined)) collapsed.inc();
      held.inc();
      if (st.held.size >= maxHeld) flush(session);
      return null;
    };

    /** Write what is held, through the filters after this one (see the header). */
    const flush = (session: ClientSession): void => {
      const st = states.get(session);
      if (!st || st.held.size === 0 || !filterable(session)) return;
      const items = st.held.take();
      flushed.inc(items.length);
      const after = session.filters.slice(session.filters.indexOf(filter) + 1);
      for (const s of items) {
        let out: Element | null = s;
        for (const f of after) { out = f(out, session); if (out === null) break; }
        if (out !== null) session.sendRaw(out);
      }
    };

    api.hook('stream/features', (ev) => {
      if (ev.authenticated) ev.features.append(xml('csi', NS_CSI));
    });

    api.hook('stream/negotiation', (ev) => {
      const el = ev.element;
      if (el.xmlns !== NS_CSI || (el.name !== 'inactive' && el.name !== 'active')) return undefined;
      const s = ev.session;
      // Before resource binding there is nothing to hold (§4 assumes a bound stream); accepted
      // silently, as the nonza has no answer anyway.
      if (!s || !filterable(s) || s.closed) return true;
      let st = states.get(s);
      if (el.name === 'inactive') {
        if (!st) {
          st = { inactive: false, held: new HeldStanzas() };
          states.set(s, st);
          s.filters.unshift(filter);
        }
        st.inactive = true;
      } else if (st?.inactive) {
        flush(s);
        st.inactive = false;
      }
      countInactive();
      return true;
    });

    // A session moving to another cluster node (XEP-0198 resumption there): what is held is
    // written now (suspended, so stream management queues it and the snapshot carries it); the
    // client's state follows, so the new node keeps holding for an inactive client.
    api.hook('session/export', ({ session, state }) => {
      const st = states.get(session);
      if (!st) return;
      flush(session);
      if (st.inactive) state.csi = { inactive: true };
    });
    api.hook('session/import', ({ session, state }) => {
      if ((state.csi as { inactive?: unknown } | undefined)?.inactive !== true || !filterable(session)) return;
      states.set(session, { inactive: true, held: new HeldStanzas() });
      session.filters.unshift(filter);
      countInactive();
    });
    api.hook('session/moved', ({ session }) => {
      if (states.delete(session)) countInactive();
    });

    api.hook('session/closed', ({ session }) => {
      const st = states.get(session);
      if (!st) return;
      dropped.inc(st.held.take().length);
      states.delete(session);
      countInactive();
    });

    api.onUnload(() => {
      for (const [s, st] of states) {
        if (!s.closed) flush(s);
        st.inactive = false;
        if (filterable(s)) { const i = s.filters.indexOf(filter); if (i >= 0) s.filters.splice(i, 1); }
      }
      states.clear();
    });
  },
});
