// Real browsers as web clients: headless Chromium (driven by playwright-core) logs in over the
// browser's own WebSocket (RFC 7395, a tiny in-page client) and over BOSH (XEP-0206, Strophe.js),
// and exchanges messages with a TCP client. The page comes from another origin than the XMPP
// listener, so the Origin allow-list and CORS are exercised as a browser enforces them.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';

const require = createRequire(import.meta.url);
const STROPHE = require.resolve('strophe.js').replace(/strophe\.cjs$/, 'strophe.umd.min.js');

describe('browsers (headless Chromium)', { timeout: 120_000 }, () => {
  let ts: TestServer;
  let pages: http.Server;
  let origin: string;
  let browser: Browser | undefined;
  const present = existsSync(CHROMIUM);

  before(async () => {
    if (!present) return;
    // The page's own origin: a small HTTP server on another port, serving an empty page and Strophe.
    pages = http.createServer((req, res) => {
      if (req.url === '/strophe.js') { res.writeHead(200, { 'content-type': 'text/javascript' }); res.end(readFileSync(STROPHE)); return; }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>magpie web test</title>');
    });
    await new Promise<void>((r) => pages.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
    ts = await startTestServer({ http: { allowedOrigins: [origin] } });
    for (const u of ['ws', 'strophe', 'tcp']) await ts.addUser(u, 'pw');
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await ts?.stop();
    pages?.close();
  });

  async function openPage(): Promise<Page> {
    const page = await browser!.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    // tsx compiles the functions passed to page.evaluate with esbuild's keep-names helper.
    await page.addInitScript({ content: 'globalThis.__name = (f) => f;' });
    await page.goto(origin + '/');
    return page;
  }

  it('native WebSocket (RFC 7395): an in-page client logs in and chats with a TCP client', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    const tcp = await RawClient.connect(ts.port);
    await tcp.login('tcp', 'pw', { resource: 'ws-peer' });
    const page = await openPage();
    try {
      // The client runs in the page: framing, SASL PLAIN, restart, bind; then it sends a message
      // and waits for the answer, which the TCP client sends once the first message has arrived.
      const run = page.evaluate(async (url: string) => {
        const ws = new WebSocket(url, 'xmpp');
        const queue: Element[] = [];
        let wake: (() => void) | undefined;
        ws.onmessage = (ev) => {
          queue.push(new DOMParser().parseFromString(ev.data as string, 'text/xml').documentElement);
          wake?.();
        };
        await new Promise((r, e) => { ws.onopen = r; ws.onerror = e; });
        const next = async (pred: (e: Element) => boolean): Promise<Element> => {
          for (;;) {
            const i = queue.findIndex(pred);
            if (i >= 0) return queue.splice(i, 1)[0]!;
            await new Promise<void>((r) => { wake = r; });
          }
        };
        const open = `<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>`;
        ws.send(open);
        await next((e) => e.localName === 'features');
        ws.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${btoa('\0ws\0pw')}</auth>`);
        const sasl = await next((e) => e.namespaceURI === 'urn:ietf:params:xml:ns:xmpp-sasl');
        if (sasl.localName !== 'success') throw new Error('auth: ' + sasl.outerHTML);
        ws.send(open);
        await next((e) => e.localName === 'features');
        ws.send(`<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>page</resource></bind></iq>`);
        const bound = await next((e) => e.localName === 'iq' && e.getAttribute('id') === 'b1');
        ws.send(`<message xmlns='jabber:client' to='tcp@localhost/ws-peer' type='chat'><body>from the browser</body></message>`);
        const reply = await next((e) => e.localName === 'message');
        ws.send(`<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>`);
        return { jid: bound.textContent, from: reply.getAttribute('from'), body: reply.getElementsByTagName('body')[0]?.textContent };
      }, ts.wsUrl);
      const m = await tcp.next((e) => e.name === 'message', 20000);
      assert.equal(m.attr('from'), 'ws@localhost/page');
      assert.equal(m.getChildText('body'), 'from the browser');
      tcp.send(`<message to='ws@localhost/page' type='chat'><body>from tcp</body></message>`);
      const r = await run;
      assert.equal(r.jid, 'ws@localhost/page');
      assert.equal(r.from, 'tcp@localhost/ws-peer');
      assert.equal(r.body, 'from tcp');
    } finally { await page.close(); tcp.destroy(); }
  });

  it('Strophe.js logs in over BOSH (XEP-0206) and chats with a TCP client', async (t) => {
    if (!present) return skipOrFail(t, `${CHROMIUM} is not installed`);
    const tcp = await RawClient.connect(ts.port);
    await tcp.login('tcp', 'pw', { resource: 'bosh-peer' });
    const page = await openPage();
    try {
      await page.addScriptTag({ url: origin + '/strophe.js' });
      const boshUrl = `http://127.0.0.1:${ts.server.port('http')}/http-bind`;
      const jid = await page.evaluate(async (url: string) => {
        const S = (globalThis as unknown as { Strophe: any }).Strophe;
        const conn = new S.Connection(url);
        (globalThis as unknown as { conn: unknown }).conn = conn;
        (globalThis as unknown as { inbox: unknown[] }).inbox = [];
        conn.addHandler((m: Element) => {
          (globalThis as unknown as { inbox: unknown[] }).inbox.push({ from: m.getAttribute('from'), body: m.getElementsByTagName('body')[0]?.textContent });
          return true;
        }, null, 'message');
        return await new Promise<string>((resolve, reject) => {
          conn.connect('strophe@localhost/page', 'pw', (status: number, cond: string) => {
            if (status === S.Status.CONNECTED) { conn.send((globalThis as unknown as { $pres: () => unknown }).$pres()); resolve(conn.jid); }
            else if (status === S.Status.CONNFAIL || status === S.Status.AUTHFAIL || status === S.Status.DISCONNECTED) reject(new Error(`status ${status} ${cond ?? ''}`));
          });
        });
      }, boshUrl);
      assert.equal(jid, 'strophe@localhost/page');
      const session = ts.server.sessions.get('strophe@localhost/page');
      assert.ok(session, 'the BOSH session is an ordinary XMPP session');
      await page.evaluate(() => {
        const g = globalThis as unknown as { conn: { send(x: unknown): void }; $msg: (a: object) => { c(n: string): { t(s: string): unknown } } };
        g.conn.send(g.$msg({ to: 'tcp@localhost/bosh-peer', type: 'chat' }).c('body').t('strophe says hi'));
      });
      const m = await tcp.next((e) => e.name === 'message', 20000);
      assert.equal(m.attr('from'), 'strophe@localhost/page');
      assert.equal(m.getChildText('body'), 'strophe says hi');
      tcp.send(`<message to='strophe@localhost/page' type='chat'><body>tcp answers</body></message>`);
      await page.waitForFunction(() => (globalThis as unknown as { inbox: { body: string }[] }).inbox.some((x) => x.body === 'tcp answers'), undefined, { timeout: 20000 });
      const inbox = await page.evaluate(() => (globalThis as unknown as { inbox: unknown[] }).inbox);
      assert.deepEqual(inbox.find((x) => (x as { body: string }).body === 'tcp answers'), { from: 'tcp@localhost/bosh-peer', body: 'tcp answers' });
      // A clean disconnect terminates the BOSH session and the XMPP session with it.
      await page.evaluate(() => (globalThis as unknown as { conn: { disconnect(): void } }).conn.disconnect());
      await tcp.until(() => !ts.server.sessions.get('strophe@localhost/page'), 10000, 'the session to end');
    } finally { await page.close(); tcp.destroy(); }
  });
});
