// SCRAM pieces shared by the server (./scram-server.ts) and client (./scram-client.ts) halves:
// mechanism names (RFC 5802 §4; SCRAM-SHA-256 RFC 7677; SCRAM-SHA-512 follows the same recipe,
// draft-melnikov-scram-sha-512), message syntax (RFC 5802 §7), the key schedule (RFC 5802 §3)
// and credential derivation for the account store.

import type { SaslFailureCondition } from '../protocol/errors.js';
import { constantTimeEqual, HASH_LENGTH, type SaslCrypto, type ScramHash } from './crypto.js';
import { fromBase64, prepareOpaqueString, toBase64, tryPrepareOpaqueString, utf8 } from './encoding.js';
import type { ScramCredential } from './types.js';

export const SCRAM_MECHANISMS = [
  'SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1',
] as const;

/** 'SCRAM-SHA-256-PLUS' -> { hash: 'SHA-256', plus: true }; undefined for any other name. */
export function parseScramName(name: string): { hash: ScramHash; plus: boolean } | undefined {
  const m = /^SCRAM-(SHA-1|SHA-256|SHA-512)(-PLUS)?$/.exec(name);
  return m ? { hash: m[1] as ScramHash, plus: m[2] !== undefined } : undefined;
}

/** The default and minimum sensible Hi() iteration count (RFC 7677 §4 asks for >= 4096). */
export const DEFAULT_ITERATIONS = 4096;

/** saslname encoding (RFC 5802 §5.1): ',' and '=' would break the attribute syntax. */
export function escapeSaslname(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** Decode a saslname; undefined when empty or when '=' is not followed by 2C or 3D. */
export function unescapeSaslname(text: string): string | undefined {
  if (text.length === 0 || /=(?!2C|3D)/.test(text)) return undefined;
  return text.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

export interface ScramAttr { name: string; value: string }

/**
 * Split a SCRAM message into attr=value pairs (RFC 5802 §7). Every pair must be one ASCII letter,
 * '=', and a non-empty value; values can never contain ',' (saslnames escape it, base64 and
 * nonces exclude it), so a plain split is exact. undefined = malformed.
 */
export function splitAttributes(msg: string): ScramAttr[] | undefined {
  const out: ScramAttr[] = [];
  for (const part of msg.split(',')) {
    if (part.length < 3 || part[1] !== '=' || !/^[A-Za-z]$/.test(part[0]!)) return undefined;
    out.push({ name: part[0]!, value: part.slice(2) });
  }
  return out;
}

/** c-nonce / s-nonce: printable ASCII except ',' (RFC 5802 §7 "printable"). */
export function isPrintableNonce(s: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]+$/.test(s);
}

/** cb-name (RFC 5802 §7): 1*(ALPHA / DIGIT / "." / "-"). */
export function isCbName(s: string): boolean {
  return /^[A-Za-z0-9.-]+$/.test(s);
}

export interface Gs2Header {
  flag: 'n' | 'y' | 'p';
  cbName?: string;
  authzid?: string;
  /** The header exactly as sent, including the trailing ',' (it is echoed inside c=). */
  raw: string;
}

/** Build the GS2 header (RFC 5802 §7 gs2-header; RFC 5801 §4). */
export function buildGs2Header(flag: 'n' | 'y' | 'p', cbName?: string, authzid?: string): string {
  const f = flag === 'p' ? `p=${cbName}` : flag;
  return `${f},${authzid ? `a=${escapeSaslname(authzid)}` : ''},`;
}

/** Parse the GS2 header at the start of client-first-message; undefined = malformed. */
export function parseGs2Header(msg: string): { header: Gs2Header; rest: string } | undefined {
  const c1 = msg.indexOf(',');
  const c2 = c1 < 0 ? -1 : msg.indexOf(',', c1 + 1);
  if (c2 < 0) return undefined;
  const flagPart = msg.slice(0, c1);
  const authzPart = msg.slice(c1 + 1, c2);
  const header: Gs2Header = { flag: 'n', raw: msg.slice(0, c2 + 1) };
  if (flagPart === 'n' || flagPart === 'y') header.flag = flagPart;
  else if (flagPart.startsWith('p=') && isCbName(flagPart.slice(2))) {
    header.flag = 'p';
    header.cbName = flagPart.slice(2);
  } else return undefined;
  if (authzPart !== '') {
    if (!authzPart.startsWith('a=')) return undefined;
    const authzid = unescapeSaslname(authzPart.slice(2));
    if (authzid === undefined) return undefined;
    header.authzid = authzid;
  }
  return { header, rest: msg.slice(c2 + 1) };
}

/**
 * Server errors (RFC 5802 §7 server-error-value) mapped to XMPP SASL failure conditions
 * (RFC 6120 §6.5): encoding problems are the client's malformed request, anything about
 * credentials or channel binding is not-authorized, resource trouble is temporary.
 */
export const SCRAM_ERROR_CONDITIONS: Readonly<Record<string, SaslFailureCondition>> = {
  'invalid-encoding': 'malformed-request',
  'extensions-not-supported': 'malformed-request',
  'invalid-username-encoding': 'malformed-request',
  'invalid-proof': 'not-authorized',
  'channel-bindings-dont-match': 'not-authorized',
  'server-does-support-channel-binding': 'not-authorized',
  'channel-binding-not-supported': 'not-authorized',
  'unsupported-channel-binding-type': 'not-authorized',
  'unknown-user': 'not-authorized',
  'no-resources': 'temporary-auth-failure',
  'other-error': 'not-authorized',
};

export function scramErrorCondition(serverError: string): SaslFailureCondition {
  return SCRAM_ERROR_CONDITIONS[serverError] ?? 'not-authorized';
}

const CLIENT_KEY = utf8('Client Key');
const SERVER_KEY = utf8('Server Key');

/** ClientKey, StoredKey and ServerKey from SaltedPassword (RFC 5802 §3). */
export async function scramKeys(crypto: SaslCrypto, hash: ScramHash, saltedPassword: Uint8Array) {
  const clientKey = await crypto.hmac(hash, saltedPassword, CLIENT_KEY);
  const storedKey = await crypto.digest(hash, clientKey);
  const serverKey = await crypto.hmac(hash, saltedPassword, SERVER_KEY);
  return { clientKey, storedKey, serverKey };
}

/** SaltedPassword = Hi(Normalize(password), salt, i) (RFC 5802 §3), password per ./encoding.ts prepareOpaqueString. */
export async function saltedPassword(crypto: SaslCrypto, hash: ScramHash, password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  return crypto.pbkdf2(hash, utf8(prepareOpaqueString(password)), salt, iterations, HASH_LENGTH[hash]);
}

/**
 * The credential `magpie adduser` stores: salt, iterations, StoredKey and ServerKey, never the
 * password. Throws PrepError for a password the OpaqueString profile disallows.
 */
export async function deriveScramCredential(crypto: SaslCrypto, hash: ScramHash, password: string,
  iterations: number = DEFAULT_ITERATIONS, salt?: Uint8Array): Promise<ScramCredential> {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new RangeError('iterations must be a positive integer');
  const s = salt ?? crypto.randomBytes(16);
  const { storedKey, serverKey } = await scramKeys(crypto, hash, await saltedPassword(crypto, hash, password, s, iterations));
  return { salt: toBase64(s), iterations, storedKey: toBase64(storedKey), serverKey: toBase64(serverKey) };
}

/** PLAIN against a SCRAM credential: recompute StoredKey from the password, constant-time compare. */
export async function scramVerifyPassword(crypto: SaslCrypto, hash: ScramHash, cred: ScramCredential, password: string): Promise<boolean> {
  const prepared = tryPrepareOpaqueString(password);
  const salt = fromBase64(cred.salt);
  const stored = fromBase64(cred.storedKey);
  if (prepared === undefined || !salt || !stored) return false;
  const sp = await crypto.pbkdf2(hash, utf8(prepared), salt, cred.iterations, HASH_LENGTH[hash]);
  const { storedKey } = await scramKeys(crypto, hash, sp);
  return constantTimeEqual(storedKey, stored);
}
