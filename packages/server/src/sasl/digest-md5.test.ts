// DIGEST-MD5 (RFC 2831 §2.1) server mechanism. The client side is computed here independently,
// straight from RFC 2831 §2.1.2.1 (response-value) and §2.1.3 (rspauth), and checked first
// against the RFC's own worked example so the test's arithmetic is itself trustworthy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createDigestMd5Server, digestMd5Secret, parseDirectives, type DigestMd5Context } from './digest-md5.js';

const md5 = (...parts: (Buffer | string)[]) => {
  const h = createHash('md5');
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
  return h.digest();
};
const hex = (b: Buffer) => b.toString('hex');

interface Resp { username: string; realm: string; password: string; nonce: string; cnonce: string; uri: string; authzid?: string; nc?: string; qop?: string }

/** RFC 2831 §2.1.2.1, with username/password as ISO 8859-1 (they fit) under charset=utf-8. */
function responseValue(r: Resp, a2Prefix: string): string {
  const secret = md5(Buffer.from(`${r.username}:${r.realm}:${r.password}`, 'latin1'));
  const a1 = Buffer.concat([secret, Buffer.from(`:${r.nonce}:${r.cnonce}${r.authzid !== undefined ? `:${r.authzid}` : ''}`, 'utf8')]);
  const ha2 = hex(md5(`${a2Prefix}:${r.uri}`));
  return hex(md5(`${hex(md5(a1))}:${r.nonce}:${r.nc ?? '00000001'}:${r.cnonce}:${r.qop ?? 'auth'}:${ha2}`));
}

function responseMessage(r: Resp, override: Record<string, string> = {}): Buffer {
  const fields: Record<string, string> = {
    charset: 'utf-8', username: `"${r.username}"`, realm: `"${r.realm}"`, nonce: `"${r.nonce}"`, cnonce: `"${r.cnonce}"`,
    nc: r.nc ?? '00000001', qop: r.qop ?? 'auth', 'digest-uri': `"${r.uri}"`, response: responseValue(r, 'AUTHENTICATE'),
    ...(r.authzid !== undefined ? { authzid: `"${r.authzid}"` } : {}), ...override,
  };
  return Buffer.from(Object.entries(fields).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`).join(','), 'utf8');
}

test("the test's own client arithmetic reproduces the RFC 2831 §4 example", () => {
  const r: Resp = { username: 'chris', realm: 'elwood.innosoft.com', password: 'secret', nonce: 'OA6MG9tEQGm2hh', cnonce: 'OA6MHXh6VqTrRk', uri: 'imap/elwood.innosoft.com' };
  assert.equal(responseValue(r, 'AUTHENTICATE'), 'd388dad90d4bbd760a152321f2143af7');
  assert.equal(responseValue(r, ''), 'ea40f60335c427b5527b84dbabcdfffd');
  assert.equal(digestMd5Secret('chris', 'elwood.innosoft.com', 'secret'), hex(md5('chris:elwood.innosoft.com:secret')));
});

const accounts = new Map([['somenode', 'secret'], ['jürgen', 'pässwörd']]);
let nonceSeq = 0;
function ctx(over: Partial<DigestMd5Context> = {}, nonce = `N${++nonceSeq}x${Date.now()}`): DigestMd5Context {
  return {
    domain: 'example.com',
    getDigestSecret: async (u, realm) => (accounts.has(u) && realm === 'example.com' ? digestMd5Secret(u, realm, accounts.get(u)!) : undefined),
    nonce: () => nonce,
    ...over,
  };
}
const base = (nonce: string, o: Partial<Resp> = {}): Resp => ({
  username: 'somenode', realm: 'example.com', password: 'secret', nonce, cnonce: 'OA6MHXh6VqTrRk', uri: 'xmpp/example.com', ...o,
});
const text = (d?: Uint8Array) => Buffer.from(d ?? []).toString('utf8');

test('round trip with the example fields: challenge, rspauth challenge, success', async () => {
  const m = createDigestMd5Server(ctx({}, 'OA6MG9tEQGm2hh'));
  const c = await m.step(null);
  assert.equal(c.kind, 'challenge');
  assert.equal(text(c.kind === 'challenge' ? c.data : undefined), 'realm="example.com",nonce="OA6MG9tEQGm2hh",qop="auth",charset=utf-8,algorithm=md5-sess');
  const d = parseDirectives(text(c.kind === 'challenge' ? c.data : undefined))!;
  assert.deepEqual([d.get('realm'), d.get('qop'), d.get('charset'), d.get('algorithm')], ['example.com', 'auth', 'utf-8', 'md5-sess']);
  const r = base('OA6MG9tEQGm2hh');
  const rsp = await m.step(responseMessage(r));
  assert.deepEqual(rsp, { kind: 'challenge', data: new Uint8Array(Buffer.from(`rspauth=${responseValue(r, '')}`)) });
  assert.deepEqual(await m.step(new Uint8Array(0)), { kind: 'success', username: 'somenode' });
});

test('rspauth inside <success/> data, authzid, and an ISO 8859-1 username/password', async () => {
  const m = createDigestMd5Server(ctx({ rspauthInSuccess: true }));
  const nonce = parseDirectives(text((await m.step(null) as { data: Uint8Array }).data))!.get('nonce')!;
  const r = base(nonce, { username: 'jürgen', password: 'pässwörd', authzid: 'jürgen@example.com' });
  const ok = await m.step(responseMessage(r));
  assert.deepEqual(ok, { kind: 'success', username: 'jürgen', authzid: 'jürgen@example.com', data: new Uint8Array(Buffer.from(`rspauth=${responseValue(r, '')}`)) });
});

async function attempt(r: (nonce: string) => Buffer, c = ctx()) {
  const m = createDigestMd5Server(c);
  const nonce = parseDirectives(text((await m.step(null) as { data: Uint8Array }).data))!.get('nonce')!;
  return m.step(r(nonce));
}

test('wrong digest-uri, wrong password, unknown user, wrong realm, bad nc -> not-authorized', async () => {
  const cases: [string, (n: string) => Buffer][] = [
    ['uri', (n) => responseMessage(base(n, { uri: 'xmpp/evil.example' }))],
    ['uri-service', (n) => responseMessage(base(n, { uri: 'imap/example.com' }))],
    ['password', (n) => responseMessage(base(n, { password: 'wrong' }))],
    ['user', (n) => responseMessage(base(n, { username: 'nobody' }))],
    ['realm', (n) => responseMessage(base(n, { realm: 'other.example' }))],
    ['nc', (n) => responseMessage(base(n, { nc: '00000002' }))],
    ['tampered', (n) => responseMessage(base(n), { cnonce: '"different"' })],
  ];
  for (const [name, make] of cases) {
    const r = await attempt(make);
    assert.equal(r.kind === 'failure' && r.condition, 'not-authorized', name);
  }
});

test('replayed responses are rejected: another exchange\'s nonce, and a reused nonce', async () => {
  const a = createDigestMd5Server(ctx());
  const nonceA = parseDirectives(text((await a.step(null) as { data: Uint8Array }).data))!.get('nonce')!;
  const captured = responseMessage(base(nonceA));
  assert.equal((await a.step(captured)).kind, 'challenge');
  // Into a fresh exchange (fresh nonce): the captured response names a stale nonce.
  assert.deepEqual(await attempt(() => captured), { kind: 'failure', condition: 'not-authorized', text: 'stale or replayed nonce' });
  // Even if a server were made to issue the same nonce again, a consumed nonce is never accepted.
  const again = createDigestMd5Server(ctx({}, nonceA));
  await again.step(null);
  assert.deepEqual(await again.step(captured), { kind: 'failure', condition: 'not-authorized', text: 'stale or replayed nonce' });
  assert.equal((await a.step(captured)).kind, 'failure'); // and not twice within one exchange
});

test('malformed input -> malformed-request, never a throw', async () => {
  const bad: ((n: string) => Buffer)[] = [
    () => Buffer.from(''), () => Buffer.from('username="x'), () => Buffer.from('username'), () => Buffer.from('=x'),
    (n) => responseMessage(base(n), { response: '' }), (n) => responseMessage(base(n), { response: 'xyz' }),
    (n) => responseMessage(base(n), { cnonce: '' }), (n) => responseMessage(base(n), { 'digest-uri': '' }),
    (n) => responseMessage(base(n), { qop: 'auth-int' }), (n) => responseMessage(base(n), { charset: 'latin-1' }),
    (n) => Buffer.concat([responseMessage(base(n)), Buffer.from(',nonce="x"')]),
    (n) => Buffer.concat([responseMessage(base(n)), Buffer.from(',cipher=rc4')]),
    (n) => Buffer.concat([Buffer.from('username="'), Buffer.from([0xff]), Buffer.from('",'), responseMessage(base(n), { username: '' })]),
    (n) => Buffer.concat([Buffer.from('realm="'), Buffer.from([0xc3]), Buffer.from('",'), responseMessage(base(n), { realm: '' })]),
    (n) => responseMessage(base(n), { username: '' }),
    (n) => Buffer.concat([responseMessage(base(n)), Buffer.alloc(4096, 0x20)]),
  ];
  for (const [i, make] of bad.entries()) {
    const r = await attempt(make);
    assert.equal(r.kind === 'failure' && r.condition, 'malformed-request', `case ${i}: ${JSON.stringify(r)}`);
  }
  assert.equal((await createDigestMd5Server(ctx()).step(Buffer.from('x'))).kind, 'failure'); // no initial response
  const m = createDigestMd5Server(ctx());
  const n = parseDirectives(text((await m.step(null) as { data: Uint8Array }).data))!.get('nonce')!;
  assert.equal((await m.step(responseMessage(base(n)))).kind, 'challenge');
  assert.deepEqual(await m.step(Buffer.from('rspauth=x')), { kind: 'failure', condition: 'malformed-request', text: 'expected an empty response' });
});

test('directive parser: tokens, quoted-strings with escapes, LWS and empty list elements', () => {
  assert.deepEqual([...parseDirectives(' a = "x\\"y" ,, B=tok ,c="" ')!], [['a', 'x"y'], ['b', 'tok'], ['c', '']]);
  assert.equal(parseDirectives('a=1,a=2'), undefined);
  assert.equal(parseDirectives('a="1" b=2'), undefined);
});

test('storage failure -> temporary-auth-failure; unusable secret too', async () => {
  assert.deepEqual(await attempt((n) => responseMessage(base(n)), ctx({ getDigestSecret: async () => { throw new Error('db'); } })), { kind: 'failure', condition: 'temporary-auth-failure' });
  const r = await attempt((n) => responseMessage(base(n)), ctx({ getDigestSecret: async () => 'zz' }));
  assert.equal(r.kind === 'failure' && r.condition, 'temporary-auth-failure');
});
