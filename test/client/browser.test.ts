// The browser bundle of @magpie/client (esbuild, platform=browser: it cannot contain node:
// imports) running in headless Chromium: an in-page client logs in over the browser's own
// WebSocket and over BOSH (fetch), chats with a Node library client, and the page's client
// discovers its endpoints through XEP-0156 host-meta.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import type { Client } from '@magpie/client/node';
import { messages } from '@magpie/client/plugins/messages';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { clientFor, nextMessage } from './helpers.js';

const BUNDLE = new URL('../../packages/client/dist/browser/magpie-client.js', import.meta.url);

describe('@magpie/client in a browser (headless Chromium)', { timeout: 120_000 }, () => {
  let ts: TestServer;
  let pages: http.Server;
  let origin: string;
  let browser: Browser | undefined;
  let peer: Client;
  const present = existsSync(CHROMIUM);

  before(async () => {
    if (!present) return;
    execFileSync(process.execPath, [new URL('../../packages/client/scripts/bundle.mjs', import.meta.url).pathname], { stdio: 'pipe' });
    pages = http.createServer((req, res) => {
      if (req.url === '/magpie-client.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(readFileSync(BUNDLE)); return; }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>magpie client test</title>');
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    ts = await startTestServer({ http: { allowedOrigins: [origin] } });
    for (const u of ['web', 'peer']) await ts.addUser(u, 'pw');
    peer = clientFor(ts, 'peer', 'starttls', { resource: 'node' });
    await peer.start();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await peer?.stop();
    await ts?.stop();
    pages?.close();
  });

  async function openPage(): Promise<Page> {
    const page = await browser!.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.goto(origin + '/');
    return page;
  }

  /** In the page: import the bundle, log in with `service` (or host-meta), send, await the reply. */
  async function chatFromPage(page: Page, opts: { service?: string; hostMetaOrigin?: string; body: string }): Promise<{ jid: string; kind: string; reply: string }> {
    return page.evaluate(async ({ service, hostMetaOrigin, body, peerJid }) => {
      const lib = await import('/magpie-client.js' as string);
      const client = lib.createClient({ jid: 'web@localhost', password: 'pw', service, hostMetaOrigin });
      const chat = client.use(lib.messages);
      const reply = new Promise<string>((resolve) => chat.on('message', (m: { body: string }) => resolve(m.body)));
      const jid = await client.start();
      chat.send(peerJid, body);
      const r = await reply;
      const kind = client.transportKind;
      await client.stop();
      return { jid, kind, reply: r };
    }, { ...opts, peerJid: peer.jid!.toString() });
  }

  const echo = (body: string): void => {
    void nextMessage(peer, (m) => m.getChildText('body') === body, 30000).then((m) => peer.use(messages).send(m.attr('from')!, 'echo: ' + body));
  };

  for (const via of ['websocket', 'bosh'] as const) {
    it(`logs in over ${via} from the bundle and chats with a Node client`, async (t) => {
      if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
      const page = await openPage();
      try {
        const service = via === 'websocket' ? ts.wsUrl : ts.wsUrl.replace(/^ws/, 'http').replace(/\/[^/]*$/, '/http-bind');
        echo('from ' + via);
        const r = await chatFromPage(page, { service, body: 'from ' + via });
        assert.match(r.jid, /^web@localhost\//);
        assert.equal(r.kind, via);
        assert.equal(r.reply, 'echo: from ' + via);
      } finally { await page.close(); }
    });
  }

  it('finds the WebSocket endpoint through XEP-0156 host-meta', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    const page = await openPage();
    try {
      echo('discovered');
      const r = await chatFromPage(page, { hostMetaOrigin: `http://127.0.0.1:${ts.server.port('http')}`, body: 'discovered' });
      assert.equal(r.kind, 'websocket');
      assert.equal(r.reply, 'echo: discovered');
    } finally { await page.close(); }
  });
});
