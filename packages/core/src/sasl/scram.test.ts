// SCRAM behaviour beyond the test vectors (RFC 5802 §5-§7, RFC 7677): round trips, channel
// binding and the 'y' downgrade check, wrong passwords and unknown users failing at the same
// step, malformed messages, server errors, and SaltedPassword caching. Uses webCrypto; the
// server package repeats the round trips on nodeCrypto (packages/server/src/sasl/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webCrypto } from './crypto.js';
import { fromUtf8, toBase64, utf8 } from './encoding.js';
import { deriveScramCredential, escapeSaslname, SCRAM_MECHANISMS, unescapeSaslname } from './scram.js';
import { createClientMechanism } from './client.js';
import { createServerMechanism } from './server.js';
import { runSaslExchange } from './client.js';
import { ScramClient } from './scram-client.js';
import { SaslClientError, type SaslClientOptions, type SaslServerContext, type SaslServerResult, type ScramCredential, type ScramHash } from './types.js';

const EXPORTER = new Uint8Array(32).fill(7);
const creds = new Map<string, ScramCredential>();
async function cred(user: string, hash: ScramHash): Promise<ScramCredential | undefined> {
  const password = ({ alice: 'secret, with = signs', 'we,ird=': 'pässwörd' } as Record<string, string>)[user];
  if (!password) return undefined;
  const key = `${user}/${hash}`;
  if (!creds.has(key)) creds.set(key, await deriveScramCredential(webCrypto, hash, password));
  return creds.get(key);
}

function ctx(over: Partial<SaslServerContext> = {}): SaslServerContext {
  return {
    crypto: webCrypto, getScram: cred, channelBindingTypes: ['tls-exporter'], plusAdvertised: true,
    channelBinding: (t) => (t === 'tls-exporter' ? EXPORTER : undefined), ...over,
  };
}

const clientOpts = (o: Partial<SaslClientOptions> = {}): SaslClientOptions => ({
  crypto: webCrypto, username: 'alice', password: 'secret, with = signs',
  channelBinding: { type: 'tls-exporter', data: EXPORTER }, serverSupportsPlus: true, ...o,
});

async function exchange(mech: string, c: Partial<SaslClientOptions> = {}, s: Partial<SaslServerContext> = {}) {
  return runSaslExchange(createClientMechanism(mech, clientOpts(c))!, createServerMechanism(mech, ctx(s))!);
}

test('saslname escaping (RFC 5802 §5.1)', () => {
  assert.equal(escapeSaslname('a,b=c'), 'a=2Cb=3Dc');
  assert.equal(unescapeSaslname('a=2Cb=3Dc=3D2C'), 'a,b=c=2C');
  for (const bad of ['', 'a=', 'a=2c', 'a=41', '=3', '=']) assert.equal(unescapeSaslname(bad), undefined, bad);
});

for (const mech of SCRAM_MECHANISMS) {
  test(`${mech} round trip (webCrypto)`, async () => {
    const { result, trace } = await exchange(mech, { authzid: 'alice@example.com' });
    assert.deepEqual(trace.map((r) => r.kind), ['challenge', 'success']);
    assert.equal(result.kind === 'success' && result.username, 'alice');
    assert.equal(result.kind === 'success' && result.authzid, 'alice@example.com');
  });
}

test('usernames needing saslname escaping and non-ASCII passwords work', async () => {
  const { result } = await exchange('SCRAM-SHA-256', { username: 'we,ird=', password: 'pa\u0308sswo\u0308rd' });
  assert.equal(result.kind === 'success' && result.username, 'we,ird=');
});

test('no initial response: empty challenge first (RFC 6120 §6.4.2)', async () => {
  const server = createServerMechanism('SCRAM-SHA-1', ctx())!;
  const client = createClientMechanism('SCRAM-SHA-1', clientOpts({ channelBinding: undefined }))!;
  const r0 = await server.step(null);
  assert.deepEqual(r0, { kind: 'challenge', data: new Uint8Array(0) });
  const r1 = await server.step(await client.initial());
  assert.equal(r1.kind, 'challenge');
  const r2 = await server.step(await client.challenge((r1 as { data: Uint8Array }).data));
  assert.equal(r2.kind, 'success');
  await client.success((r2 as { data: Uint8Array }).data);
});

test('channel binding data mismatch fails', async () => {
  const { result } = await exchange('SCRAM-SHA-256-PLUS', { channelBinding: { type: 'tls-exporter', data: new Uint8Array(32) } });
  assert.deepEqual(result, { kind: 'failure', condition: 'not-authorized', text: 'channel-bindings-dont-match' });
});

test('unsupported channel binding type fails', async () => {
  const { result } = await exchange('SCRAM-SHA-256-PLUS', { channelBinding: { type: 'tls-unique', data: EXPORTER } });
  assert.deepEqual(result, { kind: 'failure', condition: 'not-authorized', text: 'unsupported-channel-binding-type' });
});

test("'y' flag while -PLUS was advertised is a downgrade and fails; without PLUS it succeeds", async () => {
  const bad = await exchange('SCRAM-SHA-256', { serverSupportsPlus: false });
  assert.deepEqual(bad.result, { kind: 'failure', condition: 'not-authorized', text: 'server-does-support-channel-binding' });
  const ok = await exchange('SCRAM-SHA-256', { serverSupportsPlus: false }, { plusAdvertised: false, channelBindingTypes: [] });
  assert.equal(ok.result.kind, 'success');
  // 'n' (client knows the server binds but chooses not to) is fine even with PLUS advertised.
  const n = await exchange('SCRAM-SHA-256', { serverSupportsPlus: true });
  assert.equal(n.result.kind, 'success');
});

test('-PLUS is unavailable without binding types; plain mechanisms may not use p=', async () => {
  assert.equal(createServerMechanism('SCRAM-SHA-1-PLUS', ctx({ channelBindingTypes: [] })), undefined);
  assert.equal(createClientMechanism('SCRAM-SHA-1-PLUS', clientOpts({ channelBinding: undefined })), undefined);
  const r = await createServerMechanism('SCRAM-SHA-1', ctx())!.step(utf8('p=tls-exporter,,n=alice,r=abc'));
  assert.equal(r.kind === 'failure' && r.condition, 'malformed-request');
  const r2 = await createServerMechanism('SCRAM-SHA-1-PLUS', ctx())!.step(utf8('n,,n=alice,r=abc'));
  assert.equal(r2.kind === 'failure' && r2.condition, 'malformed-request');
});

test('wrong password and unknown user both fail with invalid-proof, only at the proof', async () => {
  const wrong = await exchange('SCRAM-SHA-256', { password: 'nope' });
  const unknown = await exchange('SCRAM-SHA-256', { username: 'mallory', password: 'nope' });
  for (const { trace } of [wrong, unknown]) {
    assert.deepEqual(trace.map((r) => r.kind), ['challenge', 'failure']);
    assert.deepEqual(trace[1], { kind: 'failure', condition: 'not-authorized', text: 'invalid-proof' });
  }
  // The fake salt is stable per user (probing twice shows nothing new) and differs between users.
  const first = async (user: string) => {
    const r = await createServerMechanism('SCRAM-SHA-256', ctx())!.step(utf8(`n,,n=${user},r=abc`));
    return /,s=([^,]+),i=(\d+)$/.exec(fromUtf8((r as { data: Uint8Array }).data)!)!.slice(1);
  };
  assert.deepEqual(await first('mallory'), await first('mallory'));
  assert.notDeepEqual(await first('mallory'), await first('trudy'));
  assert.equal((await first('mallory'))[1], '4096');
});

test('nonce mismatch in client-final fails', async () => {
  const server = createServerMechanism('SCRAM-SHA-1', ctx({ nonce: () => 'xyz' }))!;
  await server.step(utf8('n,,n=alice,r=abc'));
  const r = await server.step(utf8(`c=biws,r=abcxyZ,p=${toBase64(new Uint8Array(20))}`));
  assert.deepEqual(r, { kind: 'failure', condition: 'not-authorized', text: 'nonce mismatch' });
});

const PROOF20 = toBase64(new Uint8Array(20));
const MALFORMED_FIRST: (string | Uint8Array)[] = [
  '', 'n,,', 'n', 'n,', 'x,,n=alice,r=abc', 'n,n=alice,r=abc', 'n,,r=abc,n=alice', 'n,,n=alice', 'n,,n=,r=abc',
  'n,,n=al=2Xice,r=abc', 'n,,m=ext,n=alice,r=abc', 'n,,n=alice,r=a,bc', 'n,a=,n=alice,r=abc', 'n,a=x=zz,n=alice,r=abc',
  new Uint8Array([0x6e, 0x2c, 0x2c, 0x6e, 0x3d, 0xff, 0x2c, 0x72, 0x3d, 0x61]), 'n,,n=alice,r=abc\x7f',
  'p=tls exporter,,n=alice,r=abc', 'n,,n=ali\0ce,r=abc', 'n,,n=alice,r=abc,1=x', 'N,,n=alice,r=abc', 'n,,n=alice,r=',
  'n,,n=alice,r=abc,', ' n,,n=alice,r=abc',
];
const MALFORMED_FINAL: (string | Uint8Array)[] = [
  '', 'c=biws,r=abcxyz', `r=abcxyz,c=biws,p=${PROOF20}`, 'c=biws,r=abcxyz,p=!!!!', `c=bi,r=abcxyz,p=${PROOF20}`,
  'c=biws,r=abcxyz,p=AAAA', `c=biws,p=${PROOF20},r=abcxyz`, `c=biws,r=abcxyz,p=${PROOF20},x=1`,
  `c=biws,r=abcxyz,m=1,p=${PROOF20}`, new Uint8Array([0x63, 0x3d, 0xc3]), `c=biws,r=abcxyz,p=${PROOF20}=`,
  `c=biws,,r=abcxyz,p=${PROOF20}`, `c=biws,r=abcxyz,r=abcxyz,p=${PROOF20}`, 'garbage',
];

test(`malformed client-first messages (${MALFORMED_FIRST.length}) -> malformed-request, never a throw`, async () => {
  for (const m of MALFORMED_FIRST) {
    const server = createServerMechanism('SCRAM-SHA-1', ctx())!;
    const r = await server.step(typeof m === 'string' ? utf8(m) : m);
    assert.equal(r.kind === 'failure' && r.condition, 'malformed-request', JSON.stringify(typeof m === 'string' ? m : [...m]));
    assert.equal((await server.step(utf8('again'))).kind, 'failure'); // finished exchanges stay finished
  }
});

test(`malformed client-final messages (${MALFORMED_FINAL.length}) -> malformed-request, never a throw`, async () => {
  for (const m of MALFORMED_FINAL) {
    const server = createServerMechanism('SCRAM-SHA-1', ctx({ nonce: () => 'xyz' }))!;
    assert.equal((await server.step(utf8('n,,n=alice,r=abc'))).kind, 'challenge');
    const r = await server.step(typeof m === 'string' ? utf8(m) : m);
    assert.equal(r.kind === 'failure' && r.condition, 'malformed-request', JSON.stringify(typeof m === 'string' ? m : [...m]));
  }
});

test('storage errors become temporary-auth-failure', async () => {
  const server = createServerMechanism('SCRAM-SHA-1', ctx({ getScram: async () => { throw new Error('db down'); } }))!;
  assert.deepEqual(await server.step(utf8('n,,n=alice,r=abc')), { kind: 'failure', condition: 'temporary-auth-failure' });
});

test('client: server e= errors, bad nonces and weak iteration counts are rejected', async () => {
  const start = async () => {
    const c = createClientMechanism('SCRAM-SHA-1', clientOpts({ channelBinding: undefined, nonce: 'abc' }))!;
    await c.initial();
    return c;
  };
  const salt = toBase64(new Uint8Array(16));
  await assert.rejects((await start()).challenge(utf8(`r=zzzxyz,s=${salt},i=4096`)), /nonce/);
  await assert.rejects((await start()).challenge(utf8(`r=abc,s=${salt},i=4096`)), /nonce/);
  await assert.rejects((await start()).challenge(utf8(`r=abcxyz,s=${salt},i=1`)), /iteration/);
  await assert.rejects((await start()).challenge(utf8(`m=x,r=abcxyz,s=${salt},i=4096`)), /extension/);
  const c = await start();
  await c.challenge(utf8(`r=abcxyz,s=${salt},i=4096`));
  await assert.rejects(c.success(utf8('e=invalid-proof')), (e: unknown) => e instanceof SaslClientError && e.serverError === 'invalid-proof');
  const d = await start();
  await d.challenge(utf8(`r=abcxyz,s=${salt},i=4096`));
  await assert.rejects(d.success(), /without proving/); // success without v= is not mutual auth
});

test('server-final delivered as a challenge is verified and answered empty', async () => {
  const server = createServerMechanism('SCRAM-SHA-512', ctx())!;
  const client = createClientMechanism('SCRAM-SHA-512', clientOpts({ channelBinding: undefined }))!;
  const r1 = (await server.step(await client.initial())) as { data: Uint8Array };
  const r2 = (await server.step(await client.challenge(r1.data))) as SaslServerResult & { data: Uint8Array };
  assert.deepEqual(await client.challenge(r2.data), new Uint8Array(0));
  await client.success();
});

test('SaltedPassword cache is exposed and reused without the password', async () => {
  const first = createClientMechanism('SCRAM-SHA-256', clientOpts())! as ScramClient;
  await runSaslExchange(first, createServerMechanism('SCRAM-SHA-256', ctx())!);
  const cache = first.saltedPasswordCache!;
  assert.equal(cache.iterations, 4096);
  assert.equal(cache.saltedPassword.length, 32);
  const again = createClientMechanism('SCRAM-SHA-256', clientOpts({ password: undefined, scramCache: cache }))!;
  const { result } = await runSaslExchange(again, createServerMechanism('SCRAM-SHA-256', ctx())!);
  assert.equal(result.kind, 'success');
});
