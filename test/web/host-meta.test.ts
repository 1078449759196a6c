// Connection discovery (XEP-0156): host-meta and host-meta.json announce the WebSocket and BOSH endpoints;
// a client that only knows the HTTP address finds it and logs in; a hostile Host header is refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from '../support/server.js';
import { parseFragment } from '@magpie/core/xml/parser';

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((res, rej) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers }, (r) => {
      let body = '';
      r.on('data', (d) => { body += d; });
      r.on('end', () => res({ status: r.statusCode ?? 0, headers: r.headers, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

describe('XEP-0156 connection discovery', () => {
  let ts: TestServer; let port: number;
  before(async () => { ts = await startTestServer(); await ts.addUser('web', 'pw'); port = ts.server.port('http'); });
  after(async () => { await ts.stop(); });

  it('host-meta (XRD) and host-meta.json (JRD) link the WebSocket and BOSH endpoints, with CORS', async () => {
    const x = await get(port, '/.well-known/host-meta', { host: `localhost:${port}` });
    assert.equal(x.status, 200);
    assert.match(String(x.headers['content-type']), /application\/xrd\+xml/);
    assert.equal(x.headers['access-control-allow-origin'], '*');
    const xrd = parseFragment(x.body.replace(/^<\?xml[^>]*\?>\s*/, ''));
    const links = xrd.getChildren('Link', 'http://docs.oasis-open.org/ns/xri/xrd-1.0').map((l) => ({ rel: l.attrs.rel, href: l.attrs.href }));
    assert.deepEqual(links, [
      { rel: 'urn:xmpp:alt-connections:websocket', href: `ws://localhost:${port}/xmpp-websocket` },
      { rel: 'urn:xmpp:alt-connections:xbosh', href: `http://localhost:${port}/http-bind` },
    ]);
    const j = await get(port, '/.well-known/host-meta.json', { host: `localhost:${port}` });
    assert.equal(j.status, 200);
    assert.deepEqual(JSON.parse(j.body).links, [
      { rel: 'urn:xmpp:alt-connections:websocket', href: `ws://localhost:${port}/xmpp-websocket` },
      { rel: 'urn:xmpp:alt-connections:xbosh', href: `http://localhost:${port}/http-bind` },
    ]);
    const pre = await get(port, '/.well-known/host-meta.json', { origin: 'https://app.example' }, 'OPTIONS');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    const other = await get(port, '/something-else');
    assert.equal(other.status, 404);
    assert.equal(other.headers['access-control-allow-origin'], undefined, 'CORS only on host-meta');
  });

  it('the announced URL works: a WebSocket client found through host-meta gets a stream', async () => {
    const j = await get(port, '/.well-known/host-meta.json', { host: `127.0.0.1:${port}` });
    const href = JSON.parse(j.body).links[0].href as string;
    const ws = new WebSocket(href, ['xmpp']);
    await new Promise((r, e) => { ws.once('open', r); ws.once('error', e); });
    const frames: string[] = [];
    ws.on('message', (d) => frames.push(d.toString()));
    ws.send(`<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`);
    const end = Date.now() + 5000;
    while (!frames.some((f) => f.includes('mechanisms'))) { if (Date.now() > end) throw new Error('no features'); await new Promise((r) => setTimeout(r, 20)); }
    ws.close();
  });

  it('refuses a Host header that would inject markup, and honours a configured public URL', async () => {
    const bad = await get(port, '/.well-known/host-meta', { host: `evil'/><x a='` });
    assert.equal(bad.status, 400);
    const s = await startTestServer({ http: { websocketUrl: 'wss://chat.example.org/ws', boshUrl: 'https://chat.example.org/bosh' } });
    try {
      const r = await get(s.server.port('http'), '/.well-known/host-meta.json');
      assert.equal(JSON.parse(r.body).links[0].href, 'wss://chat.example.org/ws');
      assert.equal(JSON.parse(r.body).links[1].href, 'https://chat.example.org/bosh');
      const x = await get(s.server.port('http'), '/.well-known/host-meta', { host: 'chat.example.org' });
      assert.match(x.body, /href='https:\/\/chat\.example\.org\/bosh'/);
    } finally { await s.stop(); }
    // BOSH switched off: no xbosh link, and its path is a plain 404.
    const off = await startTestServer({ http: { boshPath: '' } });
    try {
      const r = await get(off.server.port('http'), '/.well-known/host-meta.json', { host: 'localhost' });
      assert.deepEqual(JSON.parse(r.body).links.map((l: { rel: string }) => l.rel), ['urn:xmpp:alt-connections:websocket']);
      assert.equal((await get(off.server.port('http'), '/http-bind', {}, 'POST')).status, 404);
    } finally { await off.stop(); }
  });
});
