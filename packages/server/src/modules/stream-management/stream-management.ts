// Stream Management (XEP-0198 1.6.3, urn:xmpp:sm:3) for c2s streams: the feature after
// authentication (§2), <enable/> after resource binding (§3), <r/>/<a/> counting both ways
// with 2^32 wrap-around (§4), resumption of a hibernated or still-connected session on a new
// stream (§5), <failed/> and handled-count-too-high (§6). What was never acknowledged when a
// session ends for good follows ./death-policy.ts.
//
// The core gives this module four generic handles: taps on every stanza in and out of a
// LocalClientSession, a `hibernation` callback consulted when the session's stream ends
// (returning true keeps the session registered, presence and all, while nothing is written),
// and `adopt` on an authenticated stream's negotiation handle to attach such a session to it.
// In cluster mode the node offers a 'session-handover' service and a session can be resumed on
// another node (./cross-node.ts); without it nothing here changes.

import { z } from 'zod';
import { xml } from '@magpie/core/xml/element';
import { StreamError } from '@magpie/core/protocol/errors';
import { LocalClientSession, type StreamEnding } from '../../stream/client-session.js';
import type { ClientSession } from '../../session/session.js';
import type { NegotiationEvent } from '../../hooks/events.js';
import { defineModule } from '../module.js';
import { parseH } from './counter.js';
import { handleUnacked } from './death-policy.js';
import { DATA_KEY, NS_SM, SmSession, failed, handledCountTooHigh, type SmOptions } from './sm-session.js';
import { SESSION_HANDOVER_SERVICE, type SessionHandoverService } from '../../session/handover.js';
import { exportSession, importSession, type CrossNodeContext } from './cross-node.js';
import { UNACKED_MIRROR_SERVICE, type UnackedMirrorService } from '../../session/unacked-mirror.js';

interface Expired { h: number; host: string; username: string; at: number }

const smOf = (s: ClientSession): SmSession | undefined => s.data.get(DATA_KEY) as SmSession | undefined;

export default defineModule({
  manifest: {
    name: 'stream-management',
    description: 'Acknowledgements and resumption of c2s streams (XEP-0198)',
    specs: [{ spec: 'XEP-0198', version: '1.6.3', status: 'complete',
      notes: 'c2s only; resumption of hibernated sessions and takeover of a stale connection, in a cluster also on another node than the one holding the session; unacknowledged messages are re-routed, stored offline or bounced when a session ends (in a cluster also when its node is killed: queues mirrored in Redis); no `location`; SM-IDs do not survive a restart' }],
    options: z.object({
      /** Offer resumption (<enable resume='true'/>). */
      resume: z.boolean().default(true),
      /** Longest time a session waits for resumption after its connection drops (the `max` offered). */
      maxResumeSeconds: z.number().int().min(1).max(86400).default(300),
      /** Unacknowledged stanzas kept per session; beyond it the stream ends with `queueOverflow`. */
      maxUnacked: z.number().int().min(1).default(1000),
      queueOverflow: z.enum(['policy-violation', 'resource-constraint']).default('resource-constraint'),
      /** The server sends <r/> once this many stanzas are unacknowledged (and none is pending). */
      requestAfter: z.number().int().min(1).default(5),
      /** ...and at least this often while anything is unacknowledged. */
      requestIntervalSeconds: z.number().int().min(1).default(30),
      /** Hibernated sessions per account; a new one ends the oldest. 0 disables hibernation. */
      maxHibernatedPerAccount: z.number().int().min(0).default(3),
      /** Ended SM-IDs remembered (for <failed h=''/>, §5), each for maxResumeSeconds. */
      rememberExpired: z.number().int().min(0).default(10000),
      /** Cluster mode: how long a node waits for the node holding a session to hand it over
          before answering <failed/> (the client then binds anew). */
      handoverTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
      /** Cluster mode: how long the record "this node now holds SM-ID x" of a session that moved
          here outlives a crash of this node (it is refreshed on hibernation, deleted at the end). */
      movedIdTtlSeconds: z.number().int().min(60).max(30 * 86400).default(86400),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const opts: SmOptions = api.options;
    const byId = new Map<string, SmSession>();
    const active = new Set<SmSession>();
    const expired = new Map<string, Expired>();
    const m = { enabled: api.metric('enabled'), resumed: api.metric('resumed'), suspended: api.metric('suspended'), expired: api.metric('expired'), unacked: api.metric('unacked_on_close'),
      movedIn: api.metric('moved_in'), orphaned: api.metric('orphaned_unacked') };
    /** Cluster mode only: sessions resumed on another node than the one holding them. */
    const handover = api.service<SessionHandoverService>(SESSION_HANDOVER_SERVICE);
    /** Cluster mode only (cluster.mirrorUnacked): every queue copied out of this process, so a
        node reaping this one after a kill -9 can hand what it held to the death policy. */
    const mirror = api.service<UnackedMirrorService>(UNACKED_MIRROR_SERVICE);

    api.hook('stream/features', (ev) => { if (ev.authenticated && !ev.bound) ev.features.c('sm', {}, NS_SM); });

    api.hook('stream/negotiation', (ev) => {
      const el = ev.element;
      if (el.xmlns !== NS_SM) return undefined;
      const sm = ev.session ? smOf(ev.session) : undefined;
      switch (el.name) {
        case 'enable': enable(ev); return true;
        case 'resume': return resume(ev).then(() => true);
        case 'r': if (sm) ev.stream.send(sm.ackElement()); return true;
        case 'a': sm?.onAck(el.attrs.h); return true;
        default: return undefined;
      }
    });

    function enable(ev: NegotiationEvent): void {
      const session = ev.session;
      // §3: only after binding (a resumed session was bound), and only once.
      if (!(session instanceof LocalClientSession) || smOf(session)) { ev.stream.send(failed('unexpected-request')); return; }
      const el = ev.element;
      const wanted = el.attrs.resume === 'true' || el.attrs.resume === '1';
      const resumable = wanted && opts.resume && opts.maxHibernatedPerAccount > 0;
      const asked = el.attrs.max !== undefined ? Number.parseInt(el.attrs.max, 10) : NaN;
      const timeout = Number.isFinite(asked) && asked > 0 ? Math.min(asked, opts.maxResumeSeconds) : opts.maxResumeSeconds;
      const sm = new SmSession(session, resumable, timeout, opts, handover ? SmSession.newId() + handover.idSuffix : undefined);
      session.data.set(DATA_KEY, sm);
      ev.stream.send(xml('enabled', NS_SM, resumable ? { id: sm.id, resume: 'true', max: String(timeout) } : { id: sm.id }));
      // Both counters start now (§4 note): taps see only what follows <enabled/>.
      attach(sm);
      m.enabled.inc();
    }

    function attach(sm: SmSession): void {
      const session = sm.session;
      session.inbound.push(() => sm.onInbound());
      session.outbound.push((st) => sm.onOutbound(st));
      if (mirror && !sm.mirror) {
        // Room for the overflow tolerated until the stream is closed (sm-session.ts).
        sm.mirror = mirror.open(sm.id, session.jid.toString(), 2 * opts.maxUnacked);
        for (const u of sm.queue.pending()) sm.mirror.push(u.stanza, u.when); // a session that moved here
      }
      if (sm.resumable) {
        byId.set(sm.id, sm);
        session.hibernation = (ending) => hibernate(sm, ending);
      }
      active.add(sm);
    }

    const mine = (x: { host: string; username: string }, host: string, username: string | undefined) => x.username === username && x.host === host;
    const cross: CrossNodeContext = {
      api: api as never, opts, byId, active, attach,
      expiredH: (previd, host, username) => {
        const gone = expired.get(previd);
        return gone && mine(gone, host, username) && Date.now() - gone.at < opts.maxResumeSeconds * 1000 ? gone.h : undefined;
      },
      armExpiry: (sm) => armExpiry(sm),
    };
    if (handover) {
      handover.setExporter((req) => exportSession(cross, req));
      api.onUnload(() => handover.setExporter(undefined));
    }

    async function resume(ev: NegotiationEvent): Promise<void> {
      const el = ev.element;
      if (ev.session || !ev.stream.authenticated) { ev.stream.send(failed('unexpected-request')); return; }
      const previd = el.attrs.previd;
      const h = parseH(el.attrs.h);
      if (!previd || h === undefined) { ev.stream.send(failed('bad-request')); return; }
      const sm = byId.get(previd);
      if (!sm || sm.session.closed || sm.parked || !mine(sm.session, ev.stream.host, ev.stream.username)) {
        // Not here: maybe on another cluster node (which checks the account the same way).
        const elsewhere = !sm && handover ? await handover.fetch({ previd, host: ev.stream.host, username: ev.stream.username! }, opts.handoverTimeoutMs) : undefined;
        if (elsewhere) {
          if (await importSession(cross, ev, previd, h, elsewhere)) {
            handover!.claim(previd, Math.max(opts.movedIdTtlSeconds, opts.maxResumeSeconds));
            m.resumed.inc();
            m.movedIn.inc();
          }
          return;
        }
        // Another account's SM-ID is as unknown as a made-up one; our own expired one says h.
        ev.stream.send(failed('item-not-found', cross.expiredH(previd, ev.stream.host, ev.stream.username!)));
        return;
      }
      const r = sm.queue.ack(h);
      if (!r.ok) throw handledCountTooHigh(h, r.sent);
      if (r.acked) sm.mirror?.ack(r.acked);
      const ok = ev.stream.adopt(sm.session, () => {
        if (sm.expiry) clearTimeout(sm.expiry);
        sm.expiry = undefined;
        sm.suspendedAt = 0;
        sm.requestOutstanding = false;
        ev.stream.send(xml('resumed', NS_SM, { previd, h: String(sm.inbound) }));
        // §5: everything still unacknowledged, in order; already counted when first sent.
        const pending = sm.queue.pending();
        for (const u of pending) ev.stream.send(u.stanza);
        if (pending.length) queueMicrotask(() => sm.request());
      });
      if (!ok) { ev.stream.send(failed('unexpected-request')); return; }
      sm.session.log.info({ retransmitted: sm.queue.length }, 'session resumed');
      m.resumed.inc();
    }

    function hibernate(sm: SmSession, ending: StreamEnding): boolean {
      // Being handed to another node (its stale connection closed with <conflict/>, or lost
      // meanwhile): kept, without a timer, until that node's verdict.
      if (sm.parked) { sm.suspendedAt = Date.now(); return true; }
      // A client that closed its stream meant to end the session; a server-side error ends it
      // too, except the keepalive's verdict that the connection is dead.
      if (ending.cause === 'client-closed') return false;
      if (ending.cause === 'server-closed' && ending.error?.condition !== 'connection-timeout') return false;
      const session = sm.session;
      const others = api.sessions.resources(session.jid.bareString())
        .map(smOf).filter((x): x is SmSession => !!x && x !== sm && x.session.suspended)
        .sort((a, b) => a.suspendedAt - b.suspendedAt);
      while (others.length >= opts.maxHibernatedPerAccount) others.shift()!.session.close();
      sm.suspendedAt = Date.now();
      sm.requestOutstanding = false;
      armExpiry(sm);
      if (sm.claimed) handover?.claim(sm.id, Math.max(opts.movedIdTtlSeconds, sm.timeoutSeconds));
      m.suspended.inc();
      return true;
    }

    function armExpiry(sm: SmSession): void {
      if (sm.expiry) clearTimeout(sm.expiry);
      sm.expiry = setTimeout(() => {
        sm.session.log.info('not resumed in time');
        m.expired.inc();
        sm.session.close();
      }, sm.timeoutSeconds * 1000);
      sm.expiry.unref();
    }

    // Output a transport could never hand over (a BOSH session that died with stanzas not yet
    // fetched): with SM on they are in the unacknowledged queue already (handled at the end or
    // retransmitted on resumption); without it they get the same death policy.
    api.hook('session/undelivered', async ({ session, stanzas }) => {
      const sm = smOf(session);
      if (sm && active.has(sm)) return undefined;
      const now = Date.now();
      const outcome = await handleUnacked(api as never, session, stanzas.map((stanza) => ({ stanza, when: now })));
      session.log.info(outcome, 'stanzas the transport never delivered handled');
      return undefined;
    });

    // Death-policy runs still writing to storage, awaited before the module unloads.
    const running = new Set<Promise<void>>();
    api.hook('session/closed', ({ session }) => {
      const sm = smOf(session);
      if (!sm || !active.has(sm)) return undefined;
      const p = ended(session, sm)
        .catch((e) => api.log.error({ err: e, jid: session.jid.toString() }, 'stream management cleanup failed'))
        .finally(() => running.delete(p));
      running.add(p);
      return undefined; // not awaited by the bus: other session/closed handlers need not wait
    });

    async function ended(session: ClientSession, sm: SmSession): Promise<void> {
      active.delete(sm);
      if (sm.expiry) clearTimeout(sm.expiry);
      if (sm.claimed) handover?.release(sm.id);
      if (byId.delete(sm.id) && opts.rememberExpired > 0) {
        expired.set(sm.id, { h: sm.inbound, host: session.host, username: session.username, at: Date.now() });
        while (expired.size > opts.rememberExpired) expired.delete(expired.keys().next().value!);
      }
      const items = sm.queue.drain();
      // The mirror goes once the stanzas are handled: a node killed meanwhile leaves them to
      // the node reaping it (handled twice rather than lost).
      try {
        if (!items.length) return;
        m.unacked.inc(items.length);
        const outcome = await handleUnacked(api as never, session, items);
        session.log.info(outcome, 'unacknowledged stanzas handled');
      } finally { sm.mirror?.close(); }
    }
    // Cluster mode: the queue of a session of a node that was killed, read back from its mirror
    // on the node reaping it; the same policy as for a session that ended here. The session is
    // a closed proxy out of the registry, so re-routing never sends them back to it.
    api.hook('session/orphaned', async ({ session, stanzas }) => {
      if (!stanzas.length) return undefined;
      m.orphaned.inc(stanzas.length);
      const outcome = await handleUnacked(api as never, session, stanzas);
      api.log.info({ jid: session.jid.toString(), ...outcome }, 'unacknowledged stanzas of a session on a dead cluster node handled');
      return undefined;
    });

    // Periodic <r/> while anything is unacknowledged, so a silent client still lets us trim.
    const every = opts.requestIntervalSeconds * 1000;
    api.every(Math.min(every, 5000), () => {
      const now = Date.now();
      for (const sm of active) if (sm.queue.length && now - sm.lastRequestAt >= every) sm.request(now);
      for (const [id, e] of expired) { if (now - e.at < opts.maxResumeSeconds * 1000) break; expired.delete(id); }
    });

    // At shutdown hibernated sessions end like expired ones (their stanzas stored or bounced)
    // while storage is still open; streams closed by the shutdown are waited for too.
    const endAll = async (): Promise<void> => {
      for (const sm of [...active]) if (sm.session.suspended) sm.session.close(new StreamError('system-shutdown'));
      await Promise.allSettled([...running]);
    };
    api.hook('server/stopping', endAll);
    api.onUnload(async () => {
      await endAll();
      for (const sm of active) if (sm.expiry) clearTimeout(sm.expiry);
    });
  },
});
