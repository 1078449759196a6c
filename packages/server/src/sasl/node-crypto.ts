// SaslCrypto (packages/core/src/sasl/crypto.ts) on node:crypto, for the server. The SCRAM
// primitives are H, HMAC and Hi = PBKDF2 (RFC 5802 §2.2). WebCrypto works in Node too, but every
// HMAC there means an async importKey plus an async sign, each a promise hop through the thread
// pool; a SCRAM login does two HMACs and a digest server-side, so synchronous createHmac/createHash
// cost a fraction of that. PBKDF2 (PLAIN verification, adduser) stays async on the libuv thread
// pool so a 4096-round derivation never blocks the event loop.
//
// Measured with `node --conditions=magpie-src --import tsx packages/server/src/sasl/bench-crypto.ts`
// (Node 20.20, 2-vCPU container, sequential, SCRAM-SHA-256, i=4096; µs per operation, 2 runs):
//                                                      webCrypto   nodeCrypto
//   server proof check (2 HMAC + 1 digest)               160-195        13-17
//   server-side cost of one SCRAM login (both steps)     210-235        35-47
//   login with a cached client SaltedPassword            615-660        80-105
//   full login incl. client PBKDF2                     1750-2210     1015-1230
//   PBKDF2 alone (PLAIN verify, adduser)                 940-1140      880-1010
// So the server's per-login SCRAM work is ~5-6x cheaper on node:crypto; PBKDF2 is OpenSSL on
// the thread pool either way and costs about the same.

import { createHash, createHmac, pbkdf2 as pbkdf2Cb, randomBytes as nodeRandomBytes } from 'node:crypto';
import type { SaslCrypto, ScramHash } from '@magpie/core/sasl/crypto';

const NODE_NAME: Record<ScramHash, string> = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512' };

/** A plain Uint8Array view of a Buffer (no copy), so results compare equal to WebCrypto's. */
function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function algorithm(alg: ScramHash): string {
  const name = NODE_NAME[alg];
  if (!name) throw new Error(`unsupported hash ${String(alg)}`);
  return name;
}

export const nodeCrypto: SaslCrypto = {
  async digest(alg, data) {
    return view(createHash(algorithm(alg)).update(data).digest());
  },
  async hmac(alg, key, data) {
    return view(createHmac(algorithm(alg), key).update(data).digest());
  },
  pbkdf2(alg, password, salt, iterations, lengthBytes) {
    return new Promise((resolve, reject) => {
      pbkdf2Cb(password, salt, iterations, lengthBytes, algorithm(alg), (err, key) => (err ? reject(err) : resolve(view(key))));
    });
  },
  randomBytes(n) {
    return view(nodeRandomBytes(n));
  },
};

/** MD5 for DIGEST-MD5 (./digest-md5.ts); MD5 exists only here because WebCrypto omits it. */
export function md5(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return view(h.digest());
}
