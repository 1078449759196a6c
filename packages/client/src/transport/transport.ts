// What the connection needs from a byte transport, so that the stream negotiation never imports
// node:net or touches a WebSocket: TCP with STARTTLS or direct TLS (RFC 6120 §5, XEP-0368; Node
// entry only), WebSocket (RFC 7395) and BOSH (XEP-0124/XEP-0206) all turn their framing into the
// same events (stream opened, one element, stream closed, connection gone).

import type { Element } from '@magpie/core/xml/element';
import { ConnectionError } from '../errors.js';

export interface ChannelBinding { type: string; data: Uint8Array }

export interface TransportHandlers {
  /** A stream header (or RFC 7395 <open/>, or a BOSH session/restart response) arrived. */
  streamOpen(attrs: Record<string, string>): void;
  /** One depth-1 element: stanza, nonza, stream features or <stream:error/>. */
  element(el: Element): void;
  /** The peer closed the stream (</stream:stream>, <close/>, BOSH terminate). */
  streamClose(reason?: { condition?: string; seeOtherUri?: string }): void;
  /** The connection is gone, whoever closed it. Called exactly once. */
  closed(error?: Error): void;
  /** Debug taps: raw text in/out. */
  rawIn?(data: string): void;
  rawOut?(data: string): void;
}

export interface ClientTransport {
  readonly kind: 'tcp' | 'websocket' | 'bosh';
  /** Encrypted (direct TLS, after STARTTLS, wss:, https:). */
  readonly secure: boolean;
  /** Connected to a loopback address (PLAIN may be allowed there by an explicit opt-in). */
  readonly loopback: boolean;
  /** A human readable address for logs and errors. */
  readonly address: string;
  handlers: TransportHandlers;
  /** Establish the connection (no XML yet). */
  connect(): Promise<void>;
  /** Open, or restart after STARTTLS/SASL (RFC 6120 §4.3.3), the stream to `domain`. */
  openStream(domain: string, lang: string): void;
  send(el: Element): void;
  /** Whether STARTTLS can be attempted on this transport (plain TCP only). */
  readonly canStartTls: boolean;
  /** Upgrade in place after <proceed/> (RFC 6120 §5.4.3.3). */
  startTls?(): Promise<void>;
  /** Channel bindings this connection can prove, best first (RFC 9266, RFC 5929). Never for
      WebSocket or BOSH: the TLS there is the browser's, not something this code sees. */
  channelBindings(): ChannelBinding[];
  /** Close the stream gracefully, then the connection. */
  close(): void;
  /** Drop the connection at once. */
  destroy(): void;
}

/** Returns a connected transport for a connection attempt (discovery, fallbacks and options live
    here); rejects when no candidate could be reached. */
export type Connector = (ctx: { domain: string; attempt: number }) => Promise<ClientTransport>;

/** Try candidates in order; the first one that connects wins (XEP-0156/XEP-0368 fallbacks). */
export async function firstConnected(candidates: (() => ClientTransport)[]): Promise<ClientTransport> {
  const errors: string[] = [];
  for (const make of candidates) {
    const t = make();
    try { await t.connect(); return t; } catch (e) { errors.push((e as Error).message); }
  }
  throw new ConnectionError(errors.length ? errors.join('; ') : 'no endpoint to connect to', 'network');
}

/** Serialise a stanza or nonza for a framed transport: every element is a standalone document
    with its namespace declared (RFC 7395 §3.3.3). */
export function frame(el: Element): string { return el.toString(''); }

const LOOPBACK = /^(127\.|::1$|\[::1\]$|localhost$|::ffff:127\.)/i;
export function isLoopbackHost(host: string): boolean { return LOOPBACK.test(host); }
