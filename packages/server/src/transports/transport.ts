// What the stream layer needs from a byte transport, so the XMPP core never imports node:net
// (ARCHITECTURE.md "Transports"). TCP with STARTTLS and direct TLS implement it here; WebSocket
// with message framing (RFC 7395 <open/>/<close/>); BOSH (XEP-0206) brings its own framing,
// since its requests arrive already parsed (transports/bosh/framing.ts).

import type { Framing } from '../stream/framing.js';

export interface PeerCertificate { raw: Uint8Array; authorized: boolean; authorizationError?: string; subjectAltNames: string[] }

export interface Transport {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  /** True once the transport is encrypted (direct TLS, or after STARTTLS). */
  readonly secure: boolean;
  /** The peer connects from a loopback address (127.0.0.0/8, ::1). */
  readonly loopback: boolean;
  /** STARTTLS can be offered (plain TCP with a certificate available). */
  readonly canStartTls: boolean;
  /** 'stream': one XML document (TCP); 'framed': RFC 7395 framing, one element per message;
      or the transport's own framing (BOSH). */
  readonly framing: 'stream' | 'framed' | Framing;
  /** SNI the client asked for, if any. */
  readonly servername: string | undefined;
  /** Bytes written but not yet flushed to the kernel (slow reader detection). */
  readonly bufferedBytes: number;
  /** Set by the stream: receives bytes (or text for framed transports) in arrival order. */
  onData: (chunk: Uint8Array | string) => void;
  /** Set by the stream: the transport closed (by either side). */
  onClose: (error?: Error) => void;
  /** Set by the stream: output the transport took but could never hand to the client (BOSH:
      the session ended before the client fetched it), called before onClose, in order. */
  onUndelivered?: (chunks: string[]) => void;
  write(data: string): void;
  /** Upgrade to TLS in place (RFC 6120 §5.4.3.3); resolves when the handshake completes. */
  startTls(): Promise<void>;
  /** Stop and restart delivering data (back-pressure while the stream catches up). */
  pause(): void;
  resume(): void;
  /** Flush and close gracefully. */
  end(): void;
  /** Close at once. */
  destroy(): void;
  channelBindingTypes(): string[];
  channelBinding(type: string): Uint8Array | undefined;
  peerCertificate(): PeerCertificate | undefined;
}

const V4_LOOPBACK = /^(::ffff:)?127\./;
export function isLoopbackAddress(addr: string | undefined): boolean {
  return !!addr && (addr === '::1' || V4_LOOPBACK.test(addr));
}
