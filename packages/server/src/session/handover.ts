// Moving a live session to another cluster node (issue #8: XEP-0198 §5 resumption on a node
// other than the one the client was on). The stream management module knows sessions and their
// counters; the cluster knows nodes and how to reach them. This file is the whole contract
// between the two, so neither imports the other: in cluster mode the node offers a
// SessionHandoverService to modules ('session-handover', api.service); on a single node there
// is none and resumption stays purely local.
//
// The exchange, B being the node the client reconnected to and A the node holding the session:
//   B: fetch(request)       -> A: the exporter checks the SM-ID and the account, parks the
//                               session (no unavailable broadcast) and answers a snapshot
//   B: binds the same full JID, answers <resumed/>, settle(true)
//                            -> A: commit(): what reached the parked session since the snapshot
//                               is forwarded to B; the session ends on A without a trace
//   (or settle(false) / A's own timeout -> abort(): the session stays hibernated on A)

import type { Element } from '@magpie/core/xml/element';

export const SESSION_HANDOVER_SERVICE = 'session-handover';

export interface HandoverRequest {
  /** The SM-ID the client sent in <resume previd=''/>. */
  previd: string;
  /** The account the resuming stream authenticated as (XEP-0198 §5: only the same account). */
  host: string;
  username: string;
}

/** What moves with a session (everything JSON, every stanza serialised). */
export interface SessionSnapshot {
  full: string;
  priority: number;
  /** The last available presence, serialised; null while unavailable. */
  presence: string | null;
  /** Has requested the roster (RFC 6121 §2.1.6). */
  interested: boolean;
  /** XEP-0198 counters and the unacknowledged stanzas, oldest first. */
  sm: { inbound: number; sent: number; acked: number; timeoutSeconds: number; unacked: { x: string; when: number }[] };
  /** Per-module state ('session/export' on A, 'session/import' on B), keyed by module. */
  modules: Record<string, unknown>;
  /** The session's shared state (session/shared-state.ts: carbons, blocking, caps +notify, …). */
  shared?: Record<string, unknown>;
}

/** A's answer: the snapshot, or a refusal (`h` when A knows the id ended, XEP-0198 §5). */
export type HandoverReply = { ok: true; state: SessionSnapshot } | { ok: false; h?: number };

/** The exporter's result on A. */
export interface LocalExport {
  reply: HandoverReply;
  /** B owns the session now: end it here silently; returns what it was sent since the
      snapshot, in order, for the cluster to forward to B. */
  commit?(): Element[];
  /** B did not take it (timeout, the client left): the session stays hibernated here. */
  abort?(): void;
}

export type Exporter = (req: HandoverRequest) => Promise<LocalExport | undefined>;

/** B's view of a fetch that succeeded: report whether the session was taken. */
export type FetchResult = { ok: true; state: SessionSnapshot; settle(taken: boolean): void } | { ok: false; h?: number };

export interface SessionHandoverService {
  /** Appended to SM-IDs minted on this node so any node can tell where the state is. */
  readonly idSuffix: string;
  /**
   * Ask the node that holds `previd` for the session. Undefined when that is this node (or no
   * node: then the id is unknown everywhere); a refusal when that node is gone or does not
   * answer within `timeoutMs`.
   */
  fetch(req: HandoverRequest, timeoutMs: number): Promise<FetchResult | undefined>;
  /** The stream management module answers other nodes' requests through this. */
  setExporter(exporter: Exporter | undefined): void;
  /** A session that moved here keeps its SM-ID: record that this node holds it now. */
  claim(previd: string, ttlSeconds: number): void;
  /** That session ended: forget the record. */
  release(previd: string): void;
}
