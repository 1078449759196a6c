// SASL failure conditions (RFC 6120 §6.5) over raw sockets, and the per-address throttle.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';

const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
async function failure(c: RawClient): Promise<string> {
  const f = await c.next((e) => e.xmlns === SASL && (e.name === 'failure' || e.name === 'success'));
  assert.equal(f.name, 'failure');
  return f.elements().find((x) => x.name !== 'text')!.name;
}
async function opened(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.open();
  await c.next((e) => e.name === 'features');
  return c;
}
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('SASL failures', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ limits: { authFailuresBeforeDelay: 100, authLockoutFailures: 1000, authRetries: 5 } });
    await ts.addUser('alice', 'correct horse');
  });
  after(async () => { await ts.stop(); });

  it('not-authorized for a wrong password (SCRAM) and for an unknown user, at the same step', async () => {
    const c = await opened(ts.port);
    assert.equal((await c.auth('SCRAM-SHA-256', 'alice', 'wrong')).name, 'failure');
    const c2 = await opened(ts.port);
    const r = await c2.auth('SCRAM-SHA-256', 'nobody', 'whatever');
    assert.equal(r.name, 'failure');
    assert.ok(r.getChild('not-authorized', SASL));
    assert.match(c2.text, /<challenge/, 'an unknown user still gets a challenge (no user enumeration)');
    c.destroy(); c2.destroy();
  });

  it('not-authorized for a wrong PLAIN password', async () => {
    const c = await opened(ts.port);
    c.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${b64('\0alice\0nope')}</auth>`);
    assert.equal(await failure(c), 'not-authorized');
    c.destroy();
  });

  it('invalid-mechanism for an unknown mechanism', async () => {
    const c = await opened(ts.port);
    c.send(`<auth xmlns='${SASL}' mechanism='X-UNKNOWN'/>`);
    assert.equal(await failure(c), 'invalid-mechanism');
    c.destroy();
  });

  it('mechanism-too-weak for DIGEST-MD5 when the host does not enable it', async () => {
    const c = await opened(ts.port);
    c.send(`<auth xmlns='${SASL}' mechanism='DIGEST-MD5'/>`);
    assert.equal(await failure(c), 'mechanism-too-weak');
    c.destroy();
  });

  it('malformed-request for a broken SCRAM client-first message', async () => {
    const c = await opened(ts.port);
    c.send(`<auth xmlns='${SASL}' mechanism='SCRAM-SHA-1'>${b64('x,,garbage')}</auth>`);
    assert.equal(await failure(c), 'malformed-request');
    c.destroy();
  });

  it('incorrect-encoding for invalid base64', async () => {
    const c = await opened(ts.port);
    c.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>!!!not base64!!!</auth>`);
    assert.equal(await failure(c), 'incorrect-encoding');
    c.destroy();
  });

  it('aborted when the client aborts', async () => {
    const c = await opened(ts.port);
    c.send(`<auth xmlns='${SASL}' mechanism='SCRAM-SHA-1'>${b64('n,,n=alice,r=abcdefgh')}</auth>`);
    await c.next((e) => e.name === 'challenge');
    c.send(`<abort xmlns='${SASL}'/>`);
    assert.equal(await failure(c), 'aborted');
    c.destroy();
  });

  it('the stream is closed after too many failures', async () => {
    const c = await opened(ts.port);
    for (let i = 0; i < 5; i++) {
      c.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${b64('\0alice\0bad' + i)}</auth>`);
      assert.equal(await failure(c), 'not-authorized');
    }
    await c.waitClosed();
  });
});

describe('SASL policy', () => {
  it('encryption-required when TLS is required (here on loopback too) and the client skips it', async () => {
    const ts = await startTestServer({ tls: { requireOnLoopback: true } });
    await ts.addUser('alice', 'pw');
    const c = await opened(ts.port);
    assert.ok(c.elements.find((e) => e.name === 'features')!.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls')!.getChild('required', 'urn:ietf:params:xml:ns:xmpp-tls'));
    c.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${b64('\0alice\0pw')}</auth>`);
    assert.equal(await failure(c), 'encryption-required');
    c.destroy();
    const c2 = await RawClient.connect(ts.port);
    assert.match(await c2.login('alice', 'pw', { starttls: true }), /^alice@localhost\/./, 'after STARTTLS the login works');
    c2.destroy();
    await ts.stop();
  });

  it('temporary-auth-failure once an address has failed too often, and delays before that', async () => {
    const ts = await startTestServer({ limits: { authFailuresBeforeDelay: 2, authLockoutFailures: 4, authMaxDelayMs: 400, authRetries: 10 } });
    await ts.addUser('alice', 'pw');
    const c = await opened(ts.port);
    const times: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = Date.now();
      c.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${b64('\0alice\0bad')}</auth>`);
      assert.equal(await failure(c), 'not-authorized');
      times.push(Date.now() - t0);
    }
    assert.ok(times[3]! >= 200, `later failures are delayed (took ${times.join(', ')} ms)`);
    c.send(`<auth xmlns='${SASL}' mechanism='PLAIN'>${b64('\0alice\0pw')}</auth>`);
    assert.equal(await failure(c), 'temporary-auth-failure', 'even the right password is refused while locked out');
    c.destroy();
    await ts.stop();
  });

  it('ANONYMOUS works only where enabled, and DIGEST-MD5 as the seed shows it where enabled', async () => {
    const ts = await startTestServer({ hosts: [{ domain: 'localhost', auth: { anonymous: true, digestMd5: true } }] });
    await ts.addUser('alice', 'secret');
    const c = await opened(ts.port);
    const mechs = c.elements[0]!.getChild('mechanisms', SASL)!.getChildren('mechanism').map((m) => m.text());
    assert.ok(mechs.includes('ANONYMOUS') && mechs.includes('DIGEST-MD5'));
    c.send(`<auth xmlns='${SASL}' mechanism='ANONYMOUS'>=</auth>`);
    const s = await c.next((e) => e.xmlns === SASL);
    assert.equal(s.name, 'success');
    c.destroy();
    // DIGEST-MD5 (RFC 2831 §2.1), computed here independently of the server's code.
    const { createHash } = await import('node:crypto');
    const md5 = (x: string | Buffer): Buffer => createHash('md5').update(x).digest();
    const hex = (x: string | Buffer): string => createHash('md5').update(x).digest('hex');
    const d = await opened(ts.port);
    d.send(`<auth xmlns='${SASL}' mechanism='DIGEST-MD5'/>`);
    const ch = Buffer.from((await d.next((e) => e.name === 'challenge')).text(), 'base64').toString();
    assert.match(ch, /qop="auth"/); assert.match(ch, /algorithm=md5-sess/); assert.match(ch, /charset=utf-8/);
    const nonce = /nonce="([^"]+)"/.exec(ch)![1]!;
    const realm = /realm="([^"]+)"/.exec(ch)?.[1] ?? 'localhost';
    const cnonce = 'OA6MHXh6VqTrRk'; const nc = '00000001'; const uri = 'xmpp/localhost';
    const a1 = Buffer.concat([md5(`alice:${realm}:secret`), Buffer.from(`:${nonce}:${cnonce}`)]);
    const resp = hex(`${hex(a1)}:${nonce}:${nc}:${cnonce}:auth:${hex(`AUTHENTICATE:${uri}`)}`);
    d.send(`<response xmlns='${SASL}'>${b64(`username="alice",realm="${realm}",nonce="${nonce}",cnonce="${cnonce}",nc=${nc},qop=auth,digest-uri="${uri}",response=${resp},charset=utf-8`)}</response>`);
    const r2 = await d.next((e) => e.xmlns === SASL && e.name !== 'challenge' || (e.name === 'challenge' && /rspauth/.test(Buffer.from(e.text(), 'base64').toString())));
    if (r2.name === 'challenge') {
      const rsp = hex(`${hex(a1)}:${nonce}:${nc}:${cnonce}:auth:${hex(`:${uri}`)}`);
      assert.equal(/rspauth=([0-9a-f]+)/.exec(Buffer.from(r2.text(), 'base64').toString())![1], rsp);
      d.send(`<response xmlns='${SASL}'/>`);
      assert.equal((await d.next((e) => e.xmlns === SASL)).name, 'success');
    } else assert.equal(r2.name, 'success');
    d.destroy();
    await ts.stop();
  });
});
