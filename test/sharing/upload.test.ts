// HTTP File Upload (XEP-0363) end to end: discovery through the server's disco#items, slot
// requests and their errors, the HTTPS PUT and GET on the server's listener, limits, expiry,
// durability across a restart, and a third-party client (slixmpp) uploading a file that another
// user downloads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { online, iq, condition } from '../im/services-helpers.js';
import { request } from './http.js';

const UP = 'urn:xmpp:http:upload:0';
const slotReq = (name: string, size: number, type = 'image/png') => `<request xmlns='${UP}' filename='${name}' size='${size}' content-type='${type}'/>`;

async function setup(options: Record<string, unknown> = {}, dir?: string): Promise<TestServer> {
  const ts = await startTestServer({ modules: { options: { 'http-upload': options } } }, { dir });
  if (!dir) { await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw'); }
  return ts;
}

test('the upload service is discovered and announces its size limit', async () => {
  const ts = await setup({ maxFileSize: 5000 });
  try {
    const a = await online(ts, 'alice', 'pw');
    const items = await iq(a, "type='get' to='localhost'", "<query xmlns='http://jabber.org/protocol/disco#items'/>");
    assert.ok(items.getChild('query', 'http://jabber.org/protocol/disco#items')!.getChildren('item').some((i) => i.attr('jid') === 'upload.localhost'));
    const info = await iq(a, "type='get' to='upload.localhost'", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    const q = info.getChild('query', 'http://jabber.org/protocol/disco#info')!;
    assert.ok(q.getChildren('identity').some((i) => i.attr('category') === 'store' && i.attr('type') === 'file'));
    assert.ok(q.getChildren('feature').some((f) => f.attr('var') === UP));
    const size = q.getChild('x', 'jabber:x:data')!.getChildren('field').find((f) => f.attr('var') === 'max-file-size');
    assert.equal(size?.getChildText('value'), '5000');
  } finally { await ts.stop(); }
});

test('a slot is uploaded once with PUT and downloaded with GET, with safe headers', async () => {
  const ts = await setup();
  try {
    const a = await online(ts, 'alice', 'pw');
    const data = randomBytes(3000);
    const r = await iq(a, "type='get' to='upload.localhost'", slotReq('très cool.png', data.length));
    assert.equal(r.attr('type'), 'result', r.toString());
    const slot = r.getChild('slot', UP)!;
    const put = slot.getChild('put')!.attr('url')!;
    const get = slot.getChild('get')!.attr('url')!;
    assert.match(put, /^https:\/\/localhost:\d+\/upload\/upload\.localhost\/[A-Za-z0-9_-]+\/tr%C3%A8s%20cool\.png$/);

    assert.equal((await request(get)).status, 404, 'nothing to download before the PUT');
    assert.equal((await request(put, { method: 'PUT', body: data.subarray(0, 10), headers: { 'content-type': 'image/png' } })).status, 400, 'wrong length');
    assert.equal((await request(put, { method: 'PUT', body: data, headers: { 'content-type': 'text/html' } })).status, 400, 'wrong type');
    const ok = await request(put, { method: 'PUT', body: data, headers: { 'content-type': 'image/png' } });
    assert.equal(ok.status, 201);
    assert.equal((await request(put, { method: 'PUT', body: data, headers: { 'content-type': 'image/png' } })).status, 409, 'a slot takes one upload');

    const g = await request(get);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, data);
    assert.equal(g.headers['content-type'], 'image/png');
    assert.equal(g.headers['x-content-type-options'], 'nosniff');
    assert.match(String(g.headers['content-security-policy']), /sandbox/);
    assert.match(String(g.headers['content-disposition']), /^inline/);
    const pre = await request(put, { method: 'OPTIONS', headers: { origin: 'https://web.example', 'access-control-request-method': 'PUT' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    assert.match(String(pre.headers['access-control-allow-methods']), /PUT/);
    assert.equal((await request(get.replace(/\/[^/]+\/([^/]+)$/, '/AAAAAAAAAAAAAAAAAAAAAAAA/$1'))).status, 404, 'unknown slot');
  } finally { await ts.stop(); }
});

test('slot requests are refused with the XEP-0363 errors', async () => {
  const ts = await setup({ maxFileSize: 1000, quotaBytes: 1500, maxSlotsPerHour: 3, allowedContentTypes: ['image/*'] });
  try {
    const a = await online(ts, 'alice', 'pw');
    const big = await iq(a, "type='get' to='upload.localhost'", slotReq('big.png', 1001));
    assert.equal(condition(big), 'not-acceptable');
    assert.equal(big.getChild('error')!.getChild('file-too-large', UP)?.getChildText('max-file-size'), '1000');
    assert.equal(condition(await iq(a, "type='get' to='upload.localhost'", slotReq('x.html', 10, 'text/html'))), 'not-acceptable', 'type not allowed');
    assert.equal(condition(await iq(a, "type='get' to='upload.localhost'", `<request xmlns='${UP}' filename='a/b.png' size='10'/>`)), 'bad-request');
    assert.equal(condition(await iq(a, "type='get' to='upload.localhost'", `<request xmlns='${UP}' filename='b.png' size='-3'/>`)), 'bad-request');
    assert.equal((await iq(a, "type='get' to='upload.localhost'", slotReq('one.png', 1000))).attr('type'), 'result');
    assert.equal(condition(await iq(a, "type='get' to='upload.localhost'", slotReq('two.png', 600))), 'resource-constraint', 'over quota');
    assert.equal((await iq(a, "type='get' to='upload.localhost'", slotReq('three.png', 400))).attr('type'), 'result');
    const limited = await iq(a, "type='get' to='upload.localhost'", slotReq('four.png', 1));
    assert.equal(condition(limited), 'resource-constraint', 'rate limit');
    assert.equal(limited.getChild('error')!.attr('type'), 'wait');
    assert.equal(condition(await iq(a, "type='set' to='upload.localhost'", "<query xmlns='urn:example'/>")), 'service-unavailable');
    assert.equal(condition(await iq(a, "type='get' to='someone@upload.localhost'", slotReq('x.png', 1))), 'service-unavailable');
  } finally { await ts.stop(); }
});

test('files survive a restart; expired files and unused slots are deleted', async () => {
  let ts = await setup({ expireAfterDays: 3 / 86400, slotTtl: 10, sweepInterval: 1 });
  try {
    const a = await online(ts, 'alice', 'pw');
    const data = Buffer.from('hello, file');
    const slot = (await iq(a, "type='get' to='upload.localhost'", slotReq('a.txt', data.length, 'text/plain'))).getChild('slot', UP)!;
    const put = slot.getChild('put')!.attr('url')!;
    assert.equal((await request(put, { method: 'PUT', body: data, headers: { 'content-type': 'text/plain' } })).status, 201);
    a.send('</stream:stream>');
    const dir = ts.dir;
    await ts.stop(true);
    ts = await setup({ expireAfterDays: 3 / 86400, slotTtl: 10, sweepInterval: 1 }, dir);
    // The port changed with the restart: the same path on the new listener.
    const url = put.replace(/:\d+\//, `:${ts.server.port('https')}/`);
    const g = await request(url);
    assert.equal(g.status, 200, 'the file outlives the restart');
    assert.equal(g.body.toString(), 'hello, file');
    assert.match(String(g.headers['content-disposition']), /^attachment/, 'text is not shown inline');
    let status = 200;
    for (let i = 0; i < 40 && status === 200; i++) { await new Promise((r) => setTimeout(r, 250)); status = (await request(url)).status; }
    assert.equal(status, 404, 'deleted after its lifetime');
  } finally { await ts.stop(); }
});

test('slixmpp uploads a file through a slot and another user downloads it', async (t) => {
  if (spawnSync('/usr/bin/python3', ['-c', 'import slixmpp, aiohttp']).status !== 0) return skipOrFail(t, 'python3-slixmpp with python3-aiohttp is not installed');
  const ts = await setup();
  try {
    const bob = await online(ts, 'bob', 'pw');
    bob.send('<presence/>');
    const file = join(ts.dir, 'picture.png');
    const data = randomBytes(20_000);
    writeFileSync(file, data);
    const child = spawn('/usr/bin/python3', [join(import.meta.dirname, '..', 'support', 'slix_upload.py'), 'alice@localhost', 'pw', '127.0.0.1', String(ts.port), file, 'bob@localhost'],
      { env: { ...process.env, SSL_CERT_FILE: join(ts.dir, 'certs', 'localhost.crt') } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    await new Promise((r) => child.once('exit', r));
    const events = out.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; url?: string; error?: string });
    const up = events.find((e) => e.event === 'uploaded');
    assert.ok(up?.url, `slixmpp did not upload: ${out} ${err.slice(-2000)}`);
    const msg = await bob.next((e) => e.name === 'message' && e.getChildText('body') === up.url);
    assert.equal(msg.getChild('x', 'jabber:x:oob')?.getChildText('url'), up.url);
    const g = await request(up.url);
    assert.equal(g.status, 200);
    assert.deepEqual(g.body, data);
  } finally { await ts.stop(); }
});
