// Every hook event name and its payload type. Stanza events are named as Prosody names them:
// `<kind>/<to-type>` for stanzas addressed to something local, `pre-<kind>/<to-type>` for stanzas a
// local client sends, before they are routed (outbound filters: blocking, carbons). The to-type
// is `host` (domain JID), `bare` or `full`. The routing table is documented in docs/routing.md.

import type { Element } from '@magpie/core/xml/element';
import type { JID } from '@magpie/core/jid/jid';
import type { StreamError } from '@magpie/core/protocol/errors';
import type { ClientSession, Origin } from '../session/session.js';
import type { Transport } from '../transports/transport.js';

export interface StanzaEvent {
  stanza: Element;
  origin: Origin;
  /** Stamped sender (RFC 6120 §8.1.2.1). */
  from: JID;
  /** Destination; for a client stanza without `to`, the sender's bare JID (RFC 6120 §10.3). */
  to: JID;
  /** The local session when the stanza comes from a local client. */
  session?: ClientSession;
}

export interface SessionEvent { session: ClientSession }
export interface SessionStateEvent { session: ClientSession; state: Record<string, unknown> }
export interface SessionClosedEvent { session: ClientSession; error?: StreamError; reason: string }
/** The client connection a c2s stream runs on, as modules offering features before
    authentication (XEP-0077 registration) need to judge it. */
export interface ConnectionInfo {
  /** The client's address (as a trusted PROXY protocol balancer reports it, when one does). */
  remoteAddress: string;
  loopback: boolean;
  secure: boolean;
  /** TLS is required on this connection and not in place yet: only STARTTLS may proceed. */
  tlsRequired: boolean;
  /** Per-connection state for modules: kept across stream restarts, gone with the connection. */
  data: Map<string, unknown>;
}
export interface FeaturesEvent {
  /** The <stream:features/> element being built; add children to advertise a feature. */
  features: Element;
  host: string;
  secure: boolean;
  authenticated: boolean;
  bound: boolean;
  streamId: string;
  connection: ConnectionInfo;
}
/** A negotiation element (e.g. XEP-0198 <enable/>) a module may claim on a c2s stream. */
export interface NegotiationEvent {
  element: Element;
  session?: ClientSession;
  /** Low-level access for stream-level features. */
  stream: {
    id: string; host: string; send(el: Element): void; authenticated: boolean; username?: string;
    /** Take over a session of the same account on this authenticated, unbound stream (XEP-0198
        resumption); a stream still holding it is closed with <conflict/>. `greet` runs once the
        session is attached, before anything else is written. False when not allowed. */
    adopt(session: ClientSession, greet: () => void): boolean;
    connection: ConnectionInfo;
  };
}
export interface AccountEvent { host: string; username: string }
/** A message the delivery module handed to local resources (XEP-0280 copies the rest). */
export interface DeliveredEvent {
  event: StanzaEvent;
  /** The sessions that were sent the original; empty when it went to offline storage. */
  sessions: readonly ClientSession[];
}
/** Would `session`, one resource of the local account `event` is addressed to, refuse it? */
export interface DeliverRefuseEvent {
  event: StanzaEvent;
  /** The receiving resource; absent: the account as a whole (offline storage, no resource). */
  session?: ClientSession;
}
/** A connection accepted on an s2s listener; the federation module claims it (else it is closed). */
export interface ServerConnectionEvent { transport: Transport; listener: 's2s' | 's2s-tls' }
/** Per-account state a module caches changed (`scope` names the cache); `remote` when the change
    was made on another cluster node (the cluster passes local ones on to the other nodes). */
export interface CacheInvalidateEvent { scope: string; host: string; user: string; remote?: boolean }

type Kind = 'message' | 'presence' | 'iq';
type ToType = 'host' | 'bare' | 'full';

export interface EventMap extends
  Record<`${Kind}/${ToType}`, StanzaEvent>,
  Record<`pre-${Kind}/${ToType}`, StanzaEvent> {
  /** A message for an account with no resource to take it (RFC 6121 §8.5.2): offline storage claims it; else it bounces. */
  'message/offline': StanzaEvent;
  /** After local delivery of a message (a notification: handlers should return undefined). */
  'message/delivered': DeliveredEvent;
  /** Asked by the modules that fan a message for an account out to its resources (to the bare
      JID, received carbons, offline messages, unacknowledged messages of a dead session) for
      each resource before choosing among them, and without `session` before the
      account keeps it with no resource to take it. A handler returns true to refuse (XEP-0016
      §2.2: the resource's active privacy list, else the default list); what the sender gets when
      every resource refuses is the caller's (modules/delivery/refusal.ts). */
  'deliver/refuse': DeliverRefuseEvent;
  /** A stanza for a domain that is not hosted here (federation takes it; else it bounces). */
  'route/remote': StanzaEvent;
  /** A stanza for a local component's domain. */
  'route/component': StanzaEvent;
  'session/authenticated': { host: string; username: string; streamId: string; mechanism: string };
  'session/bound': SessionEvent;
  /** A session sent its initial available presence (RFC 6121 §4.2): offline messages flow now. */
  'session/available': SessionEvent;
  /** A session became unavailable (unavailable presence or closed while available). */
  'session/unavailable': SessionEvent;
  /** After the session was unregistered; presence modules broadcast unavailable here. */
  'session/closed': SessionClosedEvent;
  /** Cluster mode: a session bound on another node ended or went unavailable, as this node
      learned it (its 'down' event, the node's death, a replacement). A notification for modules
      holding state about other nodes' sessions (MUC occupants of rooms owned here). */
  'session/remote-ended': { jid: string; node: string };
  /** Stanzas written to a session that its transport could never hand over (a BOSH session
      ended before the client fetched them); stream management's death policy takes them. */
  'session/undelivered': { session: ClientSession; stanzas: Element[] };
  /** Cluster mode: the XEP-0198 unacknowledged stanzas of a session of a dead node, read back
      from its mirror (session/unacked-mirror.ts) on the node reaping it, oldest first, `when`
      first sent; `session` is closed. Stream management's death policy takes them. */
  'session/orphaned': { session: ClientSession; stanzas: { stanza: Element; when: number }[] };
  /** The session's connection is gone but a module keeps it for resumption (XEP-0198): it stays
      registered with its presence; 'session/closed' follows if it is never resumed. */
  'session/suspended': SessionEvent;
  /** A kept session was attached to a new stream (XEP-0198 resumption). */
  'session/resumed': SessionEvent;
  /** The session is about to move to another cluster node (session/handover.ts): add JSON
      per-module state to `state` under the module's name; flush anything held back. */
  'session/export': SessionStateEvent;
  /** A session that moved here from another node, before it is attached: take `state` back. */
  'session/import': SessionStateEvent;
  /** The session moved to another node: drop per-session state, with no logout side effects
      ('session/closed' does not follow). */
  'session/moved': SessionEvent;
  'stream/features': FeaturesEvent;
  'stream/negotiation': NegotiationEvent;
  'account/created': AccountEvent;
  'account/deleted': AccountEvent;
  'connection/s2s': ServerConnectionEvent;
  /** A notification (handlers return undefined): drop cached state of the account. */
  'cache/invalidate': CacheInvalidateEvent;
  'server/started': Record<string, never>;
  'server/stopping': Record<string, never>;
}

export type EventName = keyof EventMap;
export type EventPayload<N extends EventName> = EventMap[N];

const STANZA_EVENT = /^(pre-)?(message|presence|iq)\/(host|bare|full)$/;
type FixedEvent = Exclude<EventName, `${Kind}/${ToType}` | `pre-${Kind}/${ToType}`>;
// A Record over every declared name: the compiler refuses a declared event missing here.
const FIXED: Record<FixedEvent, true> = {
  'message/offline': true, 'message/delivered': true, 'deliver/refuse': true, 'route/remote': true, 'route/component': true,
  'session/authenticated': true, 'session/bound': true, 'session/available': true, 'session/unavailable': true,
  'session/closed': true, 'session/remote-ended': true, 'session/undelivered': true, 'session/orphaned': true, 'session/suspended': true, 'session/resumed': true,
  'session/export': true, 'session/import': true, 'session/moved': true, 'stream/features': true, 'stream/negotiation': true,
  'account/created': true, 'account/deleted': true, 'server/started': true, 'server/stopping': true,
  'connection/s2s': true, 'cache/invalidate': true,
};

export function isKnownEvent(name: string): name is EventName {
  return Object.hasOwn(FIXED, name) || STANZA_EVENT.test(name);
}
