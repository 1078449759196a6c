// The published SCRAM test vectors: RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3 (SCRAM-SHA-256),
// checked message by message from the client side and verified by the server side.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webCrypto } from './crypto.js';
import { fromBase64, fromUtf8, utf8 } from './encoding.js';
import { deriveScramCredential, scramVerifyPassword } from './scram.js';
import { createClientMechanism } from './client.js';
import { createServerMechanism } from './server.js';
import type { SaslServerContext, ScramCredential } from './types.js';

const text = (b: Uint8Array | null | undefined) => (b ? fromUtf8(b) : undefined);

interface Vector {
  mech: 'SCRAM-SHA-1' | 'SCRAM-SHA-256';
  cnonce: string; snonce: string; salt: string;
  clientFirst: string; serverFirst: string; clientFinal: string; serverFinal: string;
}

const RFC5802: Vector = {
  mech: 'SCRAM-SHA-1', cnonce: 'fyko+d2lbbFgONRv9qkxdawL', snonce: '3rfcNHYJY1ZVvWVs7j', salt: 'QSXCR+Q6sek8bf92',
  clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
  serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
  clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
  serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
};

const RFC7677: Vector = {
  mech: 'SCRAM-SHA-256', cnonce: 'rOprNGfwEbeRWgbNEkqO', snonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0', salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinal: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

function serverCtx(cred: ScramCredential, snonce: string): SaslServerContext {
  return {
    crypto: webCrypto,
    getScram: async (u) => (u === 'user' ? cred : undefined),
    channelBinding: () => undefined,
    channelBindingTypes: [],
    plusAdvertised: false,
    nonce: () => snonce,
  };
}

for (const v of [RFC5802, RFC7677]) {
  const hash = v.mech === 'SCRAM-SHA-1' ? 'SHA-1' : 'SHA-256';

  test(`${v.mech} test vector: client messages are exact`, async () => {
    const client = createClientMechanism(v.mech, { crypto: webCrypto, username: 'user', password: 'pencil', nonce: v.cnonce })!;
    assert.equal(text(await client.initial()), v.clientFirst);
    assert.equal(text(await client.challenge(utf8(v.serverFirst))), v.clientFinal);
    await client.success(utf8(v.serverFinal));
  });

  test(`${v.mech} test vector: server produces server-first and v=`, async () => {
    const cred = await deriveScramCredential(webCrypto, hash, 'pencil', 4096, fromBase64(v.salt)!);
    assert.equal(cred.salt, v.salt);
    const server = createServerMechanism(v.mech, serverCtx(cred, v.snonce))!;
    const first = await server.step(utf8(v.clientFirst));
    assert.equal(first.kind, 'challenge');
    assert.equal(text(first.kind === 'challenge' ? first.data : undefined), v.serverFirst);
    const final = await server.step(utf8(v.clientFinal));
    assert.equal(final.kind, 'success');
    assert.equal(final.kind === 'success' && final.username, 'user');
    assert.equal(text(final.kind === 'success' ? final.data : undefined), v.serverFinal);
    assert.equal(await scramVerifyPassword(webCrypto, hash, cred, 'pencil'), true);
    assert.equal(await scramVerifyPassword(webCrypto, hash, cred, 'pencil2'), false);
  });

  test(`${v.mech} test vector: client rejects a forged server signature`, async () => {
    const client = createClientMechanism(v.mech, { crypto: webCrypto, username: 'user', password: 'pencil', nonce: v.cnonce })!;
    await client.initial();
    await client.challenge(utf8(v.serverFirst));
    const forged = v.serverFinal.slice(0, 2) + (v.serverFinal[2] === 'A' ? 'B' : 'A') + v.serverFinal.slice(3);
    await assert.rejects(client.success(utf8(forged)), /signature mismatch/);
  });
}
