// Server-side SASL interface and mechanism registry (RFC 4422 §3 framework, §3.1 names; RFC 6120
// §6.3.3 offers, §6.4 exchange). Server mechanisms are step functions: the XMPP layer feeds each
// <auth/>/<response/> payload (already base64-decoded; null when <auth/> carried no initial
// response, RFC 6120 §6.4.2) and turns the result into <challenge/>, <success/> or <failure/>.
// The caller (the c2s SASL negotiation) decides what to advertise, e.g. PLAIN only over TLS and
// -PLUS only with channel binding; createServerMechanism returns undefined for a name it cannot
// run in this context, which the XMPP layer reports as <invalid-mechanism/>. Names are
// case-sensitive (RFC 4422 §3.1). DIGEST-MD5 is server-package only (packages/server/src/sasl).

import { parseScramName, SCRAM_MECHANISMS } from './scram.js';
import { ScramServer } from './scram-server.js';
import { AnonymousServer, ExternalServer, PlainServer } from './simple.js';
import type { SaslFailureCondition } from '../protocol/errors.js';
import type { SaslCrypto, ScramHash } from './crypto.js';
import type { ScramCredential } from './types.js';

export type { SaslCrypto, ScramHash } from './crypto.js';
export type { ScramCredential } from './types.js';

export type SaslServerResult =
  | { kind: 'challenge'; data: Uint8Array }
  /** `username` is the authenticated identity (authcid) exactly as sent; the caller applies PRECIS. */
  | { kind: 'success'; data?: Uint8Array; username: string; authzid?: string }
  | { kind: 'failure'; condition: SaslFailureCondition; text?: string };

export interface SaslServerMechanism {
  readonly name: string;
  /** Never rejects: every problem, including a storage error, becomes a failure result. */
  step(response: Uint8Array | null): Promise<SaslServerResult>;
}

export interface SaslServerContext {
  crypto: SaslCrypto;
  /**
   * Look up SCRAM credentials for a username (the decoded saslname as received from the client;
   * the caller applies the JID localpart profile). undefined = unknown user.
   */
  getScram(username: string, hash: ScramHash): Promise<ScramCredential | undefined>;
  /** Channel binding data for a type ('tls-exporter' | 'tls-server-end-point' | 'tls-unique'), undefined if unavailable. */
  channelBinding(type: string): Uint8Array | undefined;
  /** Which channel binding types this server advertises (XEP-0440); empty when not on TLS. */
  channelBindingTypes: string[];
  /** Whether any -PLUS mechanism was advertised on this connection (the 'y' downgrade check, RFC 5802 §6). */
  plusAdvertised: boolean;
  /** For PLAIN: verify a password against stored credentials. */
  verifyPlain?(username: string, password: string, authzid?: string): Promise<boolean>;
  /** For EXTERNAL: the identity proven by the TLS client certificate (or undefined). */
  externalIdentity?(authzid?: string): Promise<{ username: string } | undefined>;
  /** For ANONYMOUS: generate a username. */
  anonymousUsername?(): string;
  /** Random nonce source override for tests. */
  nonce?(): string;
}

/** Every mechanism this module implements, strongest first (DIGEST-MD5 lives in the server package). */
export const SERVER_MECHANISMS = [...SCRAM_MECHANISMS, 'PLAIN', 'EXTERNAL', 'ANONYMOUS'] as const;

export function createServerMechanism(name: string, ctx: SaslServerContext): SaslServerMechanism | undefined {
  const scram = parseScramName(name);
  if (scram) {
    // -PLUS without any binding type on this connection could only ever fail; refuse up front.
    if (scram.plus && ctx.channelBindingTypes.length === 0) return undefined;
    return new ScramServer(name, scram.hash, scram.plus, ctx);
  }
  switch (name) {
    case 'PLAIN': return ctx.verifyPlain ? new PlainServer(ctx) : undefined;
    case 'EXTERNAL': return ctx.externalIdentity ? new ExternalServer(ctx) : undefined;
    case 'ANONYMOUS': return ctx.anonymousUsername ? new AnonymousServer(ctx) : undefined;
    default: return undefined;
  }
}
