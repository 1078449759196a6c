// PLAIN (RFC 4616), EXTERNAL (RFC 4422 App. A, XEP-0178), ANONYMOUS (RFC 4505), the mechanism
// registries and client mechanism choice (RFC 6120 §6.3.3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webCrypto } from './crypto.js';
import { utf8 } from './encoding.js';
import { deriveScramCredential, scramVerifyPassword } from './scram.js';
import { chooseClientMechanism, createClientMechanism } from './client.js';
import { createServerMechanism } from './server.js';
import { runSaslExchange } from './client.js';
import type { SaslServerContext } from './types.js';

const stored = await deriveScramCredential(webCrypto, 'SHA-256', 'pencil\u00a0case'); // stored with NBSP mapped
const seen: unknown[] = [];
const ctx: SaslServerContext = {
  crypto: webCrypto,
  getScram: async () => undefined,
  channelBinding: () => undefined,
  channelBindingTypes: [],
  plusAdvertised: false,
  verifyPlain: async (u, p, a) => { seen.push([u, a]); return u === 'user' && scramVerifyPassword(webCrypto, 'SHA-256', stored, p); },
  externalIdentity: async (authzid) => (authzid === undefined || authzid === 'cert@example.com' ? { username: 'cert' } : undefined),
  anonymousUsername: () => 'anon-123',
};

test('PLAIN ok, with and without authzid; password prepared like the stored one', async () => {
  const ok = await createServerMechanism('PLAIN', ctx)!.step(utf8('\0user\0pencil case'));
  assert.deepEqual(ok, { kind: 'success', username: 'user' });
  const nbsp = await createServerMechanism('PLAIN', ctx)!.step(utf8('user@example.com\0user\0pencil\u2002case'));
  assert.deepEqual(nbsp, { kind: 'success', username: 'user', authzid: 'user@example.com' });
  assert.deepEqual(seen.at(-1), ['user', 'user@example.com']);
  const viaClient = await runSaslExchange(createClientMechanism('PLAIN', { username: 'user', password: 'pencil case' })!, createServerMechanism('PLAIN', ctx)!);
  assert.equal(viaClient.result.kind, 'success');
});

test('PLAIN wrong password or user -> not-authorized', async () => {
  for (const m of ['\0user\0pencil', '\0bob\0pencil case', '\0user\0bad\u0007pw']) {
    assert.deepEqual(await createServerMechanism('PLAIN', ctx)!.step(utf8(m)), { kind: 'failure', condition: 'not-authorized' });
  }
});

test('PLAIN malformed -> malformed-request', async () => {
  const cases = [utf8(''), utf8('user\0pencil'), utf8('\0\0pencil'), utf8('\0user\0'), utf8('a\0b\0c\0d'), new Uint8Array([0, 0x75, 0, 0xff])];
  for (const m of cases) {
    const r = await createServerMechanism('PLAIN', ctx)!.step(m);
    assert.equal(r.kind === 'failure' && r.condition, 'malformed-request', JSON.stringify([...m]));
  }
});

test('PLAIN without initial response: empty challenge, then the message', async () => {
  const m = createServerMechanism('PLAIN', ctx)!;
  assert.deepEqual(await m.step(null), { kind: 'challenge', data: new Uint8Array(0) });
  assert.equal((await m.step(utf8('\0user\0pencil case'))).kind, 'success');
  assert.equal((await m.step(utf8('\0user\0pencil case'))).kind, 'failure'); // one-shot
});

test('PLAIN storage failure -> temporary-auth-failure', async () => {
  const broken = { ...ctx, verifyPlain: async () => { throw new Error('db'); } };
  assert.deepEqual(await createServerMechanism('PLAIN', broken)!.step(utf8('\0user\0x')), { kind: 'failure', condition: 'temporary-auth-failure' });
});

test('EXTERNAL: no authzid (null or empty), matching authzid, foreign authzid', async () => {
  assert.deepEqual(await createServerMechanism('EXTERNAL', ctx)!.step(null), { kind: 'success', username: 'cert' });
  assert.deepEqual(await createServerMechanism('EXTERNAL', ctx)!.step(new Uint8Array(0)), { kind: 'success', username: 'cert' });
  assert.deepEqual(await createServerMechanism('EXTERNAL', ctx)!.step(utf8('cert@example.com')), { kind: 'success', username: 'cert', authzid: 'cert@example.com' });
  assert.deepEqual(await createServerMechanism('EXTERNAL', ctx)!.step(utf8('other@example.com')), { kind: 'failure', condition: 'not-authorized' });
  assert.equal((await createServerMechanism('EXTERNAL', ctx)!.step(new Uint8Array([0xff]))).kind, 'failure');
  const viaClient = await runSaslExchange(createClientMechanism('EXTERNAL', { username: '' })!, createServerMechanism('EXTERNAL', ctx)!);
  assert.equal(viaClient.result.kind, 'success');
});

test('ANONYMOUS ignores trace data and uses the generated username', async () => {
  assert.deepEqual(await createServerMechanism('ANONYMOUS', ctx)!.step(utf8('sirhc')), { kind: 'success', username: 'anon-123' });
  assert.deepEqual(await createServerMechanism('ANONYMOUS', ctx)!.step(new Uint8Array([0xff, 0])), { kind: 'success', username: 'anon-123' });
  const viaClient = await runSaslExchange(createClientMechanism('ANONYMOUS', { username: '' })!, createServerMechanism('ANONYMOUS', ctx)!);
  assert.deepEqual(viaClient.result, { kind: 'success', username: 'anon-123' });
});

test('registries refuse unknown names and mechanisms the context cannot run', () => {
  const bare: SaslServerContext = { crypto: webCrypto, getScram: async () => undefined, channelBinding: () => undefined, channelBindingTypes: [], plusAdvertised: false };
  for (const n of ['PLAIN', 'EXTERNAL', 'ANONYMOUS', 'SCRAM-SHA-256-PLUS', 'scram-sha-1', 'DIGEST-MD5', 'X']) assert.equal(createServerMechanism(n, bare), undefined, n);
  assert.equal(createClientMechanism('SCRAM-SHA-1', { username: 'u' }), undefined); // no password
  assert.equal(createClientMechanism('PLAIN', { username: 'u' }), undefined);
  assert.equal(createClientMechanism('CRAM-MD5', { username: 'u', password: 'p' }), undefined);
});

test('chooseClientMechanism preference order', () => {
  const all = ['PLAIN', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-512-PLUS'];
  const cb = { type: 'tls-exporter', data: new Uint8Array(32) };
  const base = { username: 'u', password: 'p' };
  assert.equal(chooseClientMechanism(all, { ...base, channelBinding: cb }), 'SCRAM-SHA-512-PLUS');
  assert.equal(chooseClientMechanism(all, base), 'SCRAM-SHA-512');
  assert.equal(chooseClientMechanism(all.filter((m) => m !== 'SCRAM-SHA-512-PLUS'), { ...base, channelBinding: cb }), 'SCRAM-SHA-256-PLUS');
  assert.equal(chooseClientMechanism(['SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256'], { ...base, channelBinding: cb }), 'SCRAM-SHA-1-PLUS');
  assert.equal(chooseClientMechanism(all, { ...base, channelBinding: cb, serverChannelBindingTypes: ['tls-server-end-point'] }), 'SCRAM-SHA-512');
  assert.equal(chooseClientMechanism(['SCRAM-SHA-1', 'PLAIN'], base), 'SCRAM-SHA-1');
  assert.equal(chooseClientMechanism(['PLAIN', 'DIGEST-MD5'], base), 'PLAIN');
  assert.equal(chooseClientMechanism(['PLAIN'], { ...base, allowPlain: false }), undefined);
  assert.equal(chooseClientMechanism(['ANONYMOUS'], base), undefined);
});
