// nodeCrypto must be a drop-in for core's webCrypto (same bytes for H, HMAC and Hi, RFC 5802
// §2.2), and every SCRAM variant (RFC 5802, RFC 7677, SHA-512) must complete client<->server
// with either provider on either side, over tls-exporter (RFC 9266) and tls-server-end-point
// (RFC 5929) channel binding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webCrypto, type SaslCrypto, type ScramHash } from '@magpie/core/sasl/crypto';
import { deriveScramCredential, SCRAM_MECHANISMS, scramVerifyPassword } from '@magpie/core/sasl/scram';
import { createServerMechanism } from '@magpie/core/sasl/server';
import { createClientMechanism } from '@magpie/core/sasl/client';
import { runSaslExchange } from '@magpie/core/sasl/client';
import { utf8 } from '@magpie/core/sasl/encoding';
import type { ScramCredential } from '@magpie/core/sasl/types';
import { nodeCrypto } from './node-crypto.js';

const HASHES: ScramHash[] = ['SHA-1', 'SHA-256', 'SHA-512'];
const PROVIDERS: [string, SaslCrypto][] = [['webCrypto', webCrypto], ['nodeCrypto', nodeCrypto]];

test('nodeCrypto and webCrypto agree on every primitive', async () => {
  const data = utf8('The quick brown fox');
  for (const h of HASHES) {
    assert.deepEqual(await nodeCrypto.digest(h, data), await webCrypto.digest(h, data));
    assert.deepEqual(await nodeCrypto.hmac(h, utf8('key'), data), await webCrypto.hmac(h, utf8('key'), data));
    assert.deepEqual(await nodeCrypto.hmac(h, new Uint8Array(0), data), await webCrypto.hmac(h, new Uint8Array(0), data));
    assert.deepEqual(await nodeCrypto.pbkdf2(h, utf8('pencil'), utf8('salt'), 100, 40), await webCrypto.pbkdf2(h, utf8('pencil'), utf8('salt'), 100, 40));
  }
  const r = nodeCrypto.randomBytes(32);
  assert.equal(r.length, 32);
  assert.equal(Object.getPrototypeOf(r), Uint8Array.prototype); // not a Buffer: deepEqual-comparable
});

test('credentials derived by one provider verify with the other', async () => {
  for (const h of HASHES) {
    const a = await deriveScramCredential(nodeCrypto, h, 'hunter2');
    assert.equal(await scramVerifyPassword(webCrypto, h, a, 'hunter2'), true);
    const b = await deriveScramCredential(webCrypto, h, 'hunter2', 4096, new Uint8Array(16));
    assert.deepEqual(await deriveScramCredential(nodeCrypto, h, 'hunter2', 4096, new Uint8Array(16)), b);
    assert.equal(await scramVerifyPassword(nodeCrypto, h, b, 'hunter3'), false);
  }
});

const CB: Record<string, Uint8Array> = {
  'tls-exporter': new Uint8Array(32).map((_, i) => i),
  'tls-server-end-point': new Uint8Array(32).map((_, i) => 255 - i),
};
const stored = new Map<ScramHash, ScramCredential>();
for (const h of HASHES) stored.set(h, await deriveScramCredential(nodeCrypto, h, 'correct horse'));

for (const mech of SCRAM_MECHANISMS) {
  for (const [serverName, serverCrypto] of PROVIDERS) {
    for (const cbType of Object.keys(CB)) {
      test(`${mech}: ${serverName} server, ${cbType}`, async () => {
        const plus = mech.endsWith('-PLUS');
        const clientCrypto = serverCrypto === nodeCrypto ? webCrypto : nodeCrypto; // cross the providers
        const run = async (password: string, cbData = CB[cbType]!) => runSaslExchange(
          createClientMechanism(mech, {
            crypto: clientCrypto, username: 'alice', password, authzid: 'alice@example.com',
            channelBinding: { type: cbType, data: cbData }, serverSupportsPlus: plus,
          })!,
          createServerMechanism(mech, {
            crypto: serverCrypto,
            getScram: async (u, h) => (u === 'alice' ? stored.get(h) : undefined),
            channelBinding: (t) => CB[t],
            channelBindingTypes: Object.keys(CB),
            plusAdvertised: plus,
          })!);
        const ok = await run('correct horse');
        assert.deepEqual(ok.trace.map((r) => r.kind), ['challenge', 'success']);
        assert.equal(ok.result.kind === 'success' && ok.result.username, 'alice');
        const bad = await run('wrong horse');
        assert.deepEqual(bad.result, { kind: 'failure', condition: 'not-authorized', text: 'invalid-proof' });
        if (plus) {
          const mitm = await run('correct horse', new Uint8Array(32));
          assert.deepEqual(mitm.result, { kind: 'failure', condition: 'not-authorized', text: 'channel-bindings-dont-match' });
        }
      });
    }
  }
}
