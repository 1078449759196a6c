// The crypto primitives SCRAM needs (RFC 5802 §2.2: H, HMAC, Hi = PBKDF2 per RFC 2898 §5.2),
// behind one small interface so the same mechanism code runs on WebCrypto in a browser and on
// node:crypto in the server (packages/server/src/sasl/node-crypto.ts, which is much cheaper per
// call because it is synchronous and skips WebCrypto's key import). Core must not import node:
// modules, so the default implementation here uses only globalThis.crypto.

import { toBase64 } from './encoding.js';

export type ScramHash = 'SHA-1' | 'SHA-256' | 'SHA-512';

export interface SaslCrypto {
  digest(alg: ScramHash, data: Uint8Array): Promise<Uint8Array>;
  hmac(alg: ScramHash, key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  pbkdf2(alg: ScramHash, password: Uint8Array, salt: Uint8Array, iterations: number, lengthBytes: number): Promise<Uint8Array>;
  randomBytes(n: number): Uint8Array;
}

/** Output size of each hash in bytes (SCRAM keys and proofs have exactly this length). */
export const HASH_LENGTH: Readonly<Record<ScramHash, number>> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-512': 64 };

function subtle(): typeof globalThis.crypto.subtle {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error('WebCrypto (globalThis.crypto.subtle) is unavailable; a secure context is required');
  return s;
}

// WebCrypto wants BufferSource backed by a plain ArrayBuffer; copying also detaches us from
// any caller-owned SharedArrayBuffer view.
function buf(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer as ArrayBuffer;
}

export const webCrypto: SaslCrypto = {
  async digest(alg, data) {
    return new Uint8Array(await subtle().digest(alg, buf(data)));
  },
  async hmac(alg, key, data) {
    // WebCrypto refuses zero-length HMAC keys, but HMAC zero-pads keys to the block size
    // (RFC 2104 §2), so the empty key and the single zero byte are the same key.
    const raw = key.length === 0 ? new Uint8Array(1) : key;
    const k = await subtle().importKey('raw', buf(raw), { name: 'HMAC', hash: alg }, false, ['sign']);
    return new Uint8Array(await subtle().sign('HMAC', k, buf(data)));
  },
  async pbkdf2(alg, password, salt, iterations, lengthBytes) {
    const k = await subtle().importKey('raw', buf(password), 'PBKDF2', false, ['deriveBits']);
    const bits = await subtle().deriveBits({ name: 'PBKDF2', hash: alg, salt: buf(salt), iterations }, k, lengthBytes * 8);
    return new Uint8Array(bits);
  },
  randomBytes(n) {
    const out = new Uint8Array(n);
    // getRandomValues is limited to 65536 bytes per call.
    for (let i = 0; i < n; i += 65536) globalThis.crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
    return out;
  },
};

/** Compare without an early exit, so timing does not reveal how many leading bytes matched. */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function xorBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error('xorBytes: length mismatch');
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/**
 * A printable nonce: base64 of `bytes` random bytes (18 = 144 bits, 24 chars, no padding). Base64
 * never contains ',' or '"', so it is a valid SCRAM c-nonce/s-nonce and DIGEST-MD5 nonce.
 */
export function randomNonce(crypto: SaslCrypto, bytes = 18): string {
  return toBase64(crypto.randomBytes(bytes));
}
