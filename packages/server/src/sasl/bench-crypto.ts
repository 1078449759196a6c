// Not a test: a quick benchmark of webCrypto vs nodeCrypto for what a login costs (RFC 5802
// SCRAM key schedule). Run from the repo root:
//   node --conditions=magpie-src --import tsx packages/server/src/sasl/bench-crypto.ts
// Results recorded in ./node-crypto.ts. Sequential (await each op), so it measures latency per
// login on an idle server, not thread-pool throughput.

import { webCrypto, type SaslCrypto, type ScramHash } from '@magpie/core/sasl/crypto';
import { deriveScramCredential } from '@magpie/core/sasl/scram';
import { createServerMechanism } from '@magpie/core/sasl/server';
import { createClientMechanism } from '@magpie/core/sasl/client';
import type { SaslServerMechanism, SaslServerResult, ScramClientCache, ScramCredential } from '@magpie/core/sasl/types';
import { utf8 } from '@magpie/core/sasl/encoding';
import { ScramClient } from '@magpie/core/sasl/scram-client';
import { nodeCrypto } from './node-crypto.js';

const HASH: ScramHash = 'SHA-256';
const MECH = 'SCRAM-SHA-256';

async function time(label: string, n: number, fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(20, n); i++) await fn(); // warm-up (JIT, key caches)
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${label.padEnd(62)} ${us.toFixed(1).padStart(8)} µs`);
  return us;
}

function server(crypto: SaslCrypto, cred: ScramCredential): SaslServerMechanism {
  return createServerMechanism(MECH, {
    crypto, getScram: async () => cred, channelBinding: () => undefined, channelBindingTypes: [], plusAdvertised: false,
  })!;
}

/** One login; `serverOnly` accumulates the time spent inside the server's step() calls. */
async function login(crypto: SaslCrypto, cred: ScramCredential, cache: ScramClientCache | undefined, acc: { us: number }) {
  const client = createClientMechanism(MECH, { crypto, username: 'u', password: 'correct horse', scramCache: cache })! as ScramClient;
  const srv = server(crypto, cred);
  const step = async (d: Uint8Array | null): Promise<SaslServerResult> => {
    const t0 = process.hrtime.bigint();
    const r = await srv.step(d);
    acc.us += Number(process.hrtime.bigint() - t0) / 1000;
    return r;
  };
  const r1 = await step(await client.initial());
  const r2 = await step(await client.challenge((r1 as { data: Uint8Array }).data));
  if (r2.kind !== 'success') throw new Error('login failed');
  await client.success(r2.data);
  return client.saltedPasswordCache;
}

const data = utf8('n=u,r=abcdefghijklmnopqrstuvwx,r=abcdefghijklmnopqrstuvwxyz0123456789,s=QSXCR+Q6sek8bf92,i=4096,c=biws,r=abcdefghijklmnopqrstuvwxyz0123456789');
const key = new Uint8Array(32).fill(1);
for (const [name, crypto] of [['webCrypto', webCrypto], ['nodeCrypto', nodeCrypto]] as const) {
  const cred = await deriveScramCredential(crypto, HASH, 'correct horse');
  await time(`${name}: server proof check (2 HMAC + 1 digest)`, 5000, async () => {
    await crypto.hmac(HASH, key, data); await crypto.digest(HASH, key); await crypto.hmac(HASH, key, data);
  });
  await time(`${name}: PBKDF2 ${HASH} i=4096 (PLAIN verify, adduser)`, 300, () => crypto.pbkdf2(HASH, utf8('correct horse'), key, 4096, 32));
  const acc = { us: 0 };
  const n = 300;
  await time(`${name}: full ${MECH} login, client+server`, n, () => login(crypto, cred, undefined, acc));
  const cache = await login(crypto, cred, undefined, { us: 0 });
  const acc2 = { us: 0 };
  await time(`${name}: ${MECH} login, client SaltedPassword cached`, 2000, () => login(crypto, cred, cache, acc2));
  console.log(`${`${name}: server-side share of a login (both step() calls)`.padEnd(62)} ${(acc2.us / 2020).toFixed(1).padStart(8)} µs`);
}
