// Shapes shared by the SASL mechanisms (RFC 4422 framework, as profiled for XMPP by RFC 6120 §6):
// the stored SCRAM credential and the client-side mechanism interface; the server-side
// interface lives with the server registry in ./server.ts. Client mechanisms turn <challenge/>
// payloads (already base64-decoded) into <response/> payloads and check <success/> data.
// ScramCredential duplicates packages/server/src/storage/storage.ts on purpose: core must not
// import from the server, and the two are structurally identical so values pass between them.

import type { SaslCrypto } from './crypto.js';

export type { SaslCrypto, ScramHash } from './crypto.js';
export type { SaslServerContext, SaslServerMechanism, SaslServerResult } from './server.js';

/** Salted SCRAM keys (RFC 5802 §3) for one hash; the password itself is never stored. */
export interface ScramCredential {
  salt: string;        // base64
  iterations: number;
  storedKey: string;   // base64, H(ClientKey)
  serverKey: string;   // base64, HMAC(SaltedPassword, "Server Key")
}

export interface SaslClientMechanism {
  readonly name: string;
  /** The initial response; null = send <auth/> without one. An empty array is sent as '='. */
  initial(): Promise<Uint8Array | null>;
  challenge(data: Uint8Array): Promise<Uint8Array>;
  /** Called with the <success/> payload; throws (SaslClientError) if the server failed to prove itself. */
  success(data?: Uint8Array): Promise<void>;
}

/** SCRAM client key material worth caching between logins (a load generator reuses it). */
export interface ScramClientCache {
  salt: string;        // base64, as sent by the server
  iterations: number;
  saltedPassword: Uint8Array;
}

export interface SaslClientOptions {
  /** Default webCrypto. */
  crypto?: SaslCrypto;
  /** The authentication identity (for XMPP, the already-prepared localpart). */
  username: string;
  password?: string;
  authzid?: string;
  /** This connection's channel binding, e.g. { type: 'tls-exporter', data } (RFC 9266). */
  channelBinding?: { type: string; data: Uint8Array };
  /** Whether the server offered any -PLUS mechanism; selects GS2 'y' vs 'n' (RFC 5802 §6). */
  serverSupportsPlus?: boolean;
  /** Client nonce override (tests, RFC test vectors). */
  nonce?: string;
  /** Reuse a SaltedPassword from an earlier login when salt and iterations still match. */
  scramCache?: ScramClientCache;
}

/** Thrown by client mechanisms for a bad server message or an unverifiable server. */
export class SaslClientError extends Error {
  constructor(message: string, readonly serverError?: string) {
    super(message);
    this.name = 'SaslClientError';
  }
}
