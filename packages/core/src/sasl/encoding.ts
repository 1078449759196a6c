// Byte helpers for the SASL mechanisms, without Buffer so that core runs unchanged in browsers.
// Base64 is RFC 4648 §4 (the alphabet SCRAM uses for salt, proofs and channel-binding data,
// RFC 5802 §7, and the one XMPP uses for SASL payloads, RFC 6120 §6.4.2). Decoding is strict:
// RFC 6120 §6.4.2 and RFC 5802 both require rejecting anything that is not canonical base64
// (stray characters, whitespace, bad padding, non-zero pad bits), so a sloppy peer fails early
// with malformed-request instead of silently authenticating against different bytes.
// Also here: password preparation (PRECIS OpaqueString), the other text transformation every
// password-based mechanism must apply identically on both sides.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + '=';
  }
  return out;
}

/** Strict base64 decode; undefined (never a throw) when the text is not canonical base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0) return undefined;
  let pad = 0;
  if (text.endsWith('==')) pad = 2;
  else if (text.endsWith('=')) pad = 1;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const v = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const c = text.charCodeAt(i + j);
      if (last && j >= 4 - pad) { v[j] = 0; continue; }
      const d = c < 128 ? DECODE[c]! : -1;
      if (d < 0) return undefined; // also catches '=' anywhere but the final padding
      v[j] = d;
    }
    const n = (v[0]! << 18) | (v[1]! << 12) | (v[2]! << 6) | v[3]!;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
    // Canonical form: the bits dropped by the padding must be zero (RFC 4648 §3.5).
    if (last && pad === 2 && (v[1]! & 15) !== 0) return undefined;
    if (last && pad === 1 && (v[2]! & 3) !== 0) return undefined;
  }
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Strict UTF-8 decode; undefined for ill-formed input (RFC 3629), never U+FFFD substitution. */
export function fromUtf8(bytes: Uint8Array): string | undefined {
  try { return strictDecoder.decode(bytes); } catch { return undefined; }
}

/** Bytes to a string of U+0000..U+00FF, one char per byte (for byte-exact protocol parsing). */
export function toLatin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** Inverse of toLatin1; the caller guarantees every char is <= U+00FF. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 255;
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Lower- or upper-case hex to bytes; undefined on odd length or a non-hex digit. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// ---- Password preparation, shared by every mechanism that hashes a password (SCRAM, PLAIN through
// scramVerifyPassword, DIGEST-MD5 secrets) ----
// SASLprep (RFC 4013) is obsoleted by the PRECIS
// OpaqueString profile (RFC 8265 §4.2, based on RFC 8264 FreeformClass), which RFC 7677 and
// RFC 6120bis point to; that is what we apply. It must run identically when a credential is
// derived (magpie adduser) and when a password is checked or used by a client, otherwise a
// password with e.g. a decomposed accent or a no-break space would never match itself.
//
// Implemented rules (RFC 8265 §4.2.1-§4.2.2):
//   1. Additional mapping: any non-ASCII space (Unicode category Zs) -> U+0020.
//   2. Normalisation: NFC.
//   3. Enforcement: result not empty; no control characters (Cc) and no lone surrogates (Cs),
//      which FreeformClass disallows. Width/case mapping and directionality do not apply to
//      OpaqueString.
// Deliberately NOT enforced: "unassigned code point" rejection, because whether a code point is
// assigned depends on the Unicode version of the JS engine, and a password accepted by one
// browser must not be rejected by another or by the server.

export class PrepError extends Error {
  constructor(message: string) { super(message); this.name = 'PrepError'; }
}

const NON_ASCII_SPACE = /(?!\u0020)\p{Zs}/gu;
const DISALLOWED = /[\p{Cc}\p{Cs}]/u;

/** Prepare a password per the OpaqueString profile; throws PrepError when it is disallowed. */
export function prepareOpaqueString(input: string): string {
  const mapped = input.replace(NON_ASCII_SPACE, ' ').normalize('NFC');
  if (mapped.length === 0) throw new PrepError('empty password');
  if (DISALLOWED.test(mapped)) throw new PrepError('password contains a disallowed character');
  return mapped;
}

/** Like prepareOpaqueString but returns undefined instead of throwing (for verification paths). */
export function tryPrepareOpaqueString(input: string): string | undefined {
  try { return prepareOpaqueString(input); } catch { return undefined; }
}
