// XEP-0198 §5 resumption on another cluster node (issue #8). Behind a TCP load balancer a client
// that reconnects lands on any node; the SM-ID says which node holds its session (the contract
// with the cluster is ../../session/handover.ts; on a single node none of this runs).
//
// On the holder (A), `exportSession` answers another node's request: the SM-ID must be known and
// belong to the account the new stream authenticated as (§5: any other account gets
// item-not-found, exactly like a made-up id); a stale connection still holding the session is
// closed with <conflict/> as for a local resumption, but the session is parked, not ended: no
// unavailable presence, no death policy. Modules add their per-session state ('session/export'),
// then the snapshot is taken: full JID, presence, priority, roster interest, both counters and
// the unacknowledged stanzas. When the new node has the session, what reached the parked one
// since the snapshot is forwarded to it and the session ends here silently ('session/moved').
//
// On the new node (B), `importSession` binds the same full JID locally (its registry update
// tells every node that B owns it now), restores the counters and queue, lets modules take their
// state back ('session/import'), answers <resumed h=''/> and retransmits what is unacknowledged.

import { JID } from '@magpie/core/jid/jid';
import { serialize, xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { StreamError } from '@magpie/core/protocol/errors';
import { LocalClientSession, type SessionStream } from '../../stream/client-session.js';
import type { NegotiationEvent } from '../../hooks/events.js';
import type { ModuleApi } from '../module.js';
import type { FetchResult, HandoverRequest, LocalExport, SessionSnapshot } from '../../session/handover.js';
import { WRAP } from './counter.js';
import { DATA_KEY, NS_SM, SmSession, failed, handledCountTooHigh, type SmOptions } from './sm-session.js';

export interface CrossNodeContext {
  api: ModuleApi<unknown>;
  opts: SmOptions;
  byId: Map<string, SmSession>;
  active: Set<SmSession>;
  /** The id ended here recently: its last 'h' (for <failed h=''/>). */
  expiredH(previd: string, host: string, username: string): number | undefined;
  /** Start the resumption timer of a hibernated session again. */
  armExpiry(sm: SmSession): void;
  /** Install the counting taps and hibernation on a session that has its SmSession. */
  attach(sm: SmSession): void;
}

/** A: another node asks for one of our sessions. Undefined when the id is unknown here. */
export async function exportSession(ctx: CrossNodeContext, req: HandoverRequest): Promise<LocalExport | undefined> {
  const { api, byId, active } = ctx;
  const sm = byId.get(req.previd);
  const mine = (x: { host: string; username: string }) => x.host === req.host && x.username === req.username;
  if (!sm || sm.session.closed) {
    const h = ctx.expiredH(req.previd, req.host, req.username);
    return h === undefined ? undefined : { reply: { ok: false, h } };
  }
  if (!mine(sm.session) || sm.parked) return { reply: { ok: false } };
  const session = sm.session;
  sm.parked = true;
  if (sm.expiry) clearTimeout(sm.expiry);
  sm.expiry = undefined;
  // A connection that still holds the session is stale (§5): it loses it, as for a local
  // resumption; hibernation keeps the session because it is parked.
  if (!session.suspended) session.close(new StreamError('conflict', 'the session was resumed on another connection'));
  if (!session.suspended || session.closed) { sm.parked = false; return { reply: { ok: false } }; }
  const modules: Record<string, unknown> = {};
  await api.fire('session/export', { session, state: modules });
  if (session.closed) { sm.parked = false; return { reply: { ok: false } }; }
  const pending = sm.queue.pending();
  const mark = pending.length;
  const state: SessionSnapshot = {
    full: session.jid.toString(), priority: session.priority, presence: session.presence ? serialize(session.presence) : null, interested: session.interested,
    sm: { inbound: sm.inbound, sent: sm.queue.sent, acked: sm.queue.acked, timeoutSeconds: sm.timeoutSeconds, unacked: pending.map((u) => ({ x: serialize(u.stanza), when: u.when })) },
    modules,
    shared: session.shared.toRecord(),
  };
  return {
    reply: { ok: true, state },
    commit: () => {
      const later = sm.queue.pending().slice(mark).map((u) => u.stanza);
      sm.parked = false;
      byId.delete(sm.id);
      active.delete(sm);
      sm.queue.drain();
      sm.mirror?.close(); // the new node starts its own copy
      session.markClosed();
      api.sessions.remove(session);
      session.log.info({ forwarded: later.length }, 'session moved to another cluster node');
      void api.fire('session/moved', { session }).catch((e: unknown) => api.log.error({ err: e }, 'session/moved handler failed'));
      return later;
    },
    abort: () => {
      sm.parked = false;
      if (!session.closed && session.suspended) ctx.armExpiry(sm);
    },
  };
}

/**
 * B: the session of `previd` was fetched from another node; attach it to this stream. Writes
 * the answer (<resumed/> or <failed/>) itself; throws handled-count-too-high like a local one.
 */
export async function importSession(ctx: CrossNodeContext, ev: NegotiationEvent, previd: string, h: number, r: FetchResult): Promise<boolean> {
  const { api, opts } = ctx;
  if (!r.ok) { ev.stream.send(failed('item-not-found', r.h)); return false; }
  const st = r.state;
  const jid = JID.tryParse(st.full);
  if (!jid || jid.local !== ev.stream.username || jid.domain !== ev.stream.host) { r.settle(false); ev.stream.send(failed('item-not-found')); return false; }
  const placeholder: SessionStream = { write: () => {}, close: () => {}, transport: { secure: true, remoteAddress: '' } };
  const session = new LocalClientSession(jid, api.log.child({ jid: st.full }), placeholder);
  session.priority = st.priority;
  session.interested = st.interested;
  if (st.presence !== null) session.presence = parseFragment(st.presence);
  const sm = new SmSession(session, true, Math.min(st.sm.timeoutSeconds, opts.maxResumeSeconds), opts, previd);
  sm.inbound = st.sm.inbound;
  const n = st.sm.unacked.length;
  sm.queue.acked = st.sm.acked;
  sm.queue.sent = (st.sm.sent - n + WRAP) % WRAP;
  for (const u of st.sm.unacked) sm.queue.push(parseFragment(u.x), u.when);
  const ack = sm.queue.ack(h);
  if (!ack.ok) { r.settle(false); throw handledCountTooHigh(h, ack.sent); }
  session.data.set(DATA_KEY, sm);
  session.shared.replace(st.shared as Parameters<typeof session.shared.replace>[0]);
  await api.fire('session/import', { session, state: st.modules });
  // A session bound here meanwhile under the same full JID loses it (RFC 6120 §7.7.2.2).
  const clash = api.sessions.get(st.full);
  if (clash && !(clash as { remote?: boolean }).remote && !clash.closed) clash.close(new StreamError('conflict', 'replaced by a resumed session'));
  const ok = ev.stream.adopt(session, () => {
    api.sessions.add(session); // the registry tells every node this one owns the JID now
    ctx.attach(sm);
    ev.stream.send(xml('resumed', NS_SM, { previd, h: String(sm.inbound) }));
    const pending = sm.queue.pending();
    for (const u of pending) ev.stream.send(u.stanza);
    if (pending.length) queueMicrotask(() => sm.request());
  });
  if (!ok) { r.settle(false); ev.stream.send(failed('unexpected-request')); return false; }
  r.settle(true);
  sm.claimed = true;
  session.log.info({ retransmitted: sm.queue.length }, 'session resumed from another cluster node');
  return true;
}
