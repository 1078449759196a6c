// Offline message storage (XEP-0160 1.0.1, RFC 6121 §8.5.2.1.1) with delayed delivery
// notation (XEP-0203 2.0): a chat/normal message for an account with no available resource is
// stored (see ./offline-policy.ts for which ones) and delivered, in order and once, with
// <delay/> to the first resource that sends available presence with a non-negative priority
// (XEP-0160 §3 "When the recipient next sends non-negative available presence"). Over quota,
// or not worth storing, the hook passes and the delivery module answers service-unavailable
// (XEP-0160 §3: "as if offline storage were not available"). The delivery guarantee is
// documented in ./offline-queue.ts. XEP-0013 (flexible retrieval) is not implemented.

import { z } from 'zod';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import { defineModule, type ModuleApi } from '../module.js';
import { offlineDecision } from './offline-policy.js';
import { OfflineQueue, type OfflineOptions } from './offline-queue.js';

/** Per-session state, in session.data under the module's name. */
interface SessionState {
  /** The session sent unavailable presence after being available. */
  unavailable: boolean;
  /** A delivery run for this session finished: later arrivals go live, or are flushed by store(). */
  flushed: boolean;
}

function state(s: ClientSession): SessionState {
  let st = s.data.get('offline') as SessionState | undefined;
  if (!st) { st = { unavailable: false, flushed: false }; s.data.set('offline', st); }
  return st;
}

/** A session moving to another cluster node keeps this state (it must not get its stored
    messages again on the new node, nor miss them). */
function exportState(s: ClientSession, out: Record<string, unknown>): void {
  const st = s.data.get('offline') as SessionState | undefined;
  if (st) out.offline = { ...st };
}
function importState(s: ClientSession, from: Record<string, unknown>): void {
  const st = from.offline as Partial<SessionState> | undefined;
  if (st) s.data.set('offline', { unavailable: st.unavailable === true, flushed: st.flushed === true });
}

function priorityOf(stanza: StanzaEvent['stanza']): number {
  const p = Number.parseInt(stanza.getChildText('priority') ?? '0', 10);
  return Number.isFinite(p) ? p : 0;
}

export default defineModule({
  manifest: {
    name: 'offline',
    description: 'Stores messages for offline users and delivers them at their next available presence',
    specs: [
      { spec: 'XEP-0160', version: '1.0.1', status: 'complete', notes: 'durable (SQLite/PostgreSQL archive), per-user quota (maxMessages, maxBytes), XEP-0334 store/no-store hints; XEP-0013 flexible retrieval is not offered' },
      { spec: 'XEP-0203', version: '2.0', status: 'partial', notes: 'delay stamped on messages delivered from offline storage' },
    ],
    options: z.object({
      /** Messages kept per account; beyond it the sender gets service-unavailable. */
      maxMessages: z.number().int().min(0).default(1000),
      /** Bytes (serialised stanzas) kept per account. */
      maxBytes: z.number().int().min(0).default(10 * 1024 * 1024),
      /** Messages read from storage per delivery round; each round is written to the session in one go. */
      batchSize: z.number().int().min(1).max(1000).default(50),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const queue = new OfflineQueue(api as ModuleApi<OfflineOptions>);
    const stored = api.metric('stored');
    const refused = api.metric('refused');
    api.discoFeature('msgoffline');
    api.hook('session/export', ({ session, state }) => exportState(session, state));
    api.hook('session/import', ({ session, state }) => importState(session, state));

    const deliver = (s: ClientSession): void => {
      const st = state(s);
      // Eligible while open and not gone unavailable; a negative priority never receives
      // bare-JID messages (RFC 6121 §8.5.2.1.1), so it gets no offline messages either.
      const eligible = () => !s.closed && !st.unavailable && !(s.presence !== undefined && s.priority < 0);
      queue.deliver(s, eligible)
        .then(() => { if (eligible()) st.flushed = true; })
        .catch((e) => api.log.error({ err: e, jid: s.jid.toString() }, 'offline delivery failed; the messages stay stored'));
    };

    api.hook('message/offline', async (ev) => {
      if (!offlineDecision(ev.stanza).store) return undefined;
      const { domain: host, local: user } = ev.to;
      if (!(await queue.store(host, user, ev.stanza, ev.from))) {
        refused.inc();
        api.log.info({ to: ev.to.bareString() }, 'offline quota full; message refused');
        return undefined;
      }
      stored.inc();
      // A resource may have become available (and been flushed) while the delivery module was
      // deciding this one was offline: hand it over now rather than at the next login.
      for (const s of api.sessions.resources(ev.to.bareString())) {
        if (s.presence && s.priority >= 0 && state(s).flushed) { deliver(s); break; }
      }
      return true;
    });

    // When a resource becomes eligible (available, priority >= 0; XEP-0160 §3 "When the
    // recipient next sends non-negative available presence"), its queue is delivered:
    // - initial presence with the presence module: 'session/available', which that module fires
    //   after the broadcast, so stored messages follow the presence state;
    // - initial presence without a presence module (the delivery module's fallback handles the
    //   user's presence): observed on 'presence/bare' just above that fallback (the presence
    //   module claims the user's own presence earlier, on 'pre-presence/bare');
    // - a change from a negative to a non-negative priority: observed on 'pre-presence/bare'
    //   (session/available fires only for the initial presence).
    // Observed presence is delivered after it has been routed (setImmediate). Delivery is
    // idempotent: the per-account lock makes any second run find nothing left.
    api.hook('session/available', ({ session }) => { if (session.priority >= 0) deliver(session); });

    const observe = (ev: StanzaEvent, stage: 'pre' | 'fallback'): undefined => {
      const s = ev.session;
      if (!s || ev.to.bareString() !== s.jid.bareString() || ev.to.resource) return undefined;
      const st = state(s);
      const type = ev.stanza.attrs.type;
      if (type === 'unavailable') { st.unavailable = true; st.flushed = false; return undefined; }
      if (type !== undefined) return undefined;
      const wasAvailable = s.presence !== undefined && !st.unavailable;
      const initial = !wasAvailable && stage === 'fallback';
      const raised = wasAvailable && s.priority < 0 && stage === 'pre';
      if (stage === 'pre') st.unavailable = false;
      if ((initial || raised) && priorityOf(ev.stanza) >= 0) setImmediate(() => deliver(s));
      return undefined;
    };
    // Observers that never claim the stanza: before every filter, and just above the fallback.
    api.hook('pre-presence/bare', (ev) => observe(ev, 'pre'), 2000);
    api.hook('presence/bare', (ev) => observe(ev, 'fallback'), -90);
  },
});
