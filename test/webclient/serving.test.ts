// The web-client module over real HTTP: `/` serves the built page with a strict CSP naming the
// listener's own WebSocket origin, hashed assets are cached for a year with the right content
// types, the listener's own endpoints (host-meta, BOSH) and module routes (uploads) still win
// over the fallback, bad paths and methods are refused, and disabling the module gives 404.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../support/server.js';
import { buildWebClient } from './helpers.js';

describe('web client served by the server (modules/web-client)', { timeout: 120_000 }, () => {
  let ts: TestServer;
  let base: string;
  before(async () => {
    buildWebClient();
    ts = await startTestServer();
    base = `http://127.0.0.1:${ts.server.port('http')}`;
  });
  after(async () => { await ts?.stop(); });

  it('serves index.html at / with a strict CSP, no caching of the page, and the hashed assets it names', async () => {
    const res = await fetch(base + '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    const connect = csp.split('; ').find((d) => d.startsWith('connect-src '))!.split(' ').slice(1);
    assert.deepEqual(connect, ["'self'", `ws://127.0.0.1:${ts.server.port('http')}`, 'https:']);
    const html = await res.text();
    const js = /src="(\/assets\/app-[A-Z0-9]{8}\.js)"/.exec(html)?.[1];
    const css = /href="(\/assets\/style-[A-Z0-9]{8}\.css)"/.exec(html)?.[1];
    assert.ok(js && css, html);
    assert.doesNotMatch(html, /<script>|style=/, 'no inline script or style (the CSP forbids them)');

    const j = await fetch(base + js);
    assert.equal(j.status, 200);
    assert.equal(j.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(j.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.ok((await j.arrayBuffer()).byteLength > 10_000);
    const c = await fetch(base + css);
    assert.equal(c.headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal(c.headers.get('cache-control'), 'public, max-age=31536000, immutable');

    // Revalidation of the page: same ETag → 304 without a body.
    const etag = res.headers.get('etag')!;
    const again = await fetch(base + '/', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    // HEAD: headers only.
    const head = await fetch(base + '/index.html', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('on the https listener the CSP names the wss origin', async () => {
    const { request } = await import('node:https');
    const csp = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port: ts.server.port('https'), path: '/', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(String(res.headers['content-security-policy']));
      }).on('error', reject).end();
    });
    assert.match(csp, new RegExp(`connect-src 'self' wss://127\\.0\\.0\\.1:${ts.server.port('https')} https:`));
  });

  it('leaves the listener endpoints and module routes alone, and refuses bad paths and methods', async () => {
    const hm = await fetch(base + '/.well-known/host-meta.json');
    assert.equal(hm.status, 200);
    assert.match(await hm.text(), /urn:xmpp:alt-connections:websocket/);
    // BOSH answers POST itself; a GET there is the BOSH service's answer, not the page.
    const bosh = await fetch(base + '/http-bind');
    assert.notEqual(bosh.headers.get('content-type'), 'text/html; charset=utf-8');
    // The upload module's prefix route.
    const up = await fetch(base + '/upload/upload.localhost/AAAAAAAAAAAAAAAAAAAA/x.png');
    assert.equal(up.status, 404);
    assert.equal(up.headers.get('access-control-allow-origin'), '*', 'answered by http-upload, not the web client');

    assert.equal((await fetch(base + '/no-such-file.js')).status, 404);
    // fetch() would normalise these URLs; node:http sends the path as written.
    const raw = async (path: string): Promise<number> => {
      const { request } = await import('node:http');
      return new Promise((resolve, reject) => { request({ host: '127.0.0.1', port: ts.server.port('http'), path }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject).end(); });
    };
    // Only files of the build are ever served (they are held in memory): no way out of dist/.
    assert.equal(await raw('/../../package.json'), 404);
    assert.equal(await raw('/assets/..%2f..%2f..%2fpackage.json'), 404);
    assert.equal(await raw('/%2e%2e/%2e%2e/package.json'), 404);
    assert.equal(await raw('/%E0%A4%A'), 404);
    assert.equal(await raw('/index.html%00'), 404);
    const post = await fetch(base + '/', { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    assert.equal((await fetch(base + '/nothing-here', { method: 'POST', body: 'x' })).status, 404);
  });

  it('a configured root is served; a root without a build answers 503; the module can be disabled', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'magpie-web-root-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>custom</title>');
    writeFileSync(join(dir, 'assets', 'x-ABCDEFGH.js'), 'export {}');
    const custom = await startTestServer({ modules: { options: { 'web-client': { root: dir } } } });
    const empty = await startTestServer({ modules: { options: { 'web-client': { root: join(dir, 'nothing') } } } });
    const off = await startTestServer({ modules: { disabled: ['web-client'] } });
    try {
      const u = (s: TestServer, p: string): string => `http://127.0.0.1:${s.server.port('http')}${p}`;
      assert.equal(await (await fetch(u(custom, '/'))).text(), '<!doctype html><title>custom</title>');
      assert.equal((await fetch(u(custom, '/assets/x-ABCDEFGH.js'))).headers.get('cache-control'), 'public, max-age=31536000, immutable');
      assert.equal((await fetch(u(empty, '/'))).status, 503);
      assert.equal((await fetch(u(empty, '/assets/app-ABCDEFGH.js'))).status, 404);
      assert.equal((await fetch(u(off, '/'))).status, 404);
      assert.equal((await fetch(u(off, '/.well-known/host-meta'))).status, 200);
    } finally {
      await Promise.all([custom.stop(), empty.stop(), off.stop()]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
