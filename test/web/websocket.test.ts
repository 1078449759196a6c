// XMPP over WebSocket (RFC 7395): xmpp.js logs in over ws:// and wss:// and talks with a TCP
// client; raw WebSocket frames check the framing rules and errors.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { client, xml } from '@xmpp/client';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { parseFragment } from '@magpie/core/xml/parser';

process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the test server's development certificate
// xmpp.js uses the platform WebSocket, which Node 20 does not have; `ws` is API-compatible.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

class RawWs {
  frames: string[] = [];
  closeCode: number | undefined;
  private ws: WebSocket;
  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (d) => this.frames.push(d.toString()));
    ws.on('close', (code) => { this.closeCode = code; });
  }
  static open(url: string, protocol = 'xmpp'): Promise<RawWs> {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url, protocol ? [protocol] : [], { rejectUnauthorized: false });
      ws.once('open', () => res(new RawWs(ws)));
      ws.once('error', rej);
      ws.once('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`)));
    });
  }
  send(s: string): void { this.ws.send(s); }
  async frame(pred: (s: string) => boolean, ms = 5000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) { const f = this.frames.find(pred); if (f) return f; if (Date.now() > end) throw new Error('no frame; got ' + this.frames.join('\n')); await new Promise((r) => setTimeout(r, 20)); }
  }
  async closed(ms = 5000): Promise<number> { const end = Date.now() + ms; while (this.closeCode === undefined) { if (Date.now() > end) throw new Error('not closed'); await new Promise((r) => setTimeout(r, 20)); } return this.closeCode; }
  close(): void { this.ws.close(); }
}

describe('XMPP over WebSocket (RFC 7395)', () => {
  let ts: TestServer;
  before(async () => { ts = await startTestServer(); await ts.addUser('web', 'webpw'); await ts.addUser('tcp', 'tcppw'); });
  after(async () => { await ts.stop(); });

  for (const secure of [false, true]) {
    it(`xmpp.js logs in over ${secure ? 'wss' : 'ws'} and exchanges messages with a TCP client`, async () => {
      const tcp = await RawClient.connect(ts.port);
      await tcp.login('tcp', 'tcppw', { resource: 'desk' });
      const xmpp = client({ service: secure ? ts.wssUrl : ts.wsUrl, domain: 'localhost', username: 'web', password: 'webpw', resource: 'browser' });
      xmpp.on('error', () => {});
      const inbox: { getChildText(n: string): string | null; attrs: Record<string, string> }[] = [];
      xmpp.on('stanza', (s: never) => inbox.push(s));
      try {
        const jid = await xmpp.start();
        assert.equal(jid.toString(), 'web@localhost/browser');
        assert.equal(ts.server.sessions.get('web@localhost/browser')?.secure, secure);
        await xmpp.send(xml('message', { to: 'tcp@localhost/desk', type: 'chat' }, xml('body', {}, 'over websocket')));
        const m = await tcp.next((e) => e.name === 'message');
        assert.equal(m.attr('from'), 'web@localhost/browser');
        assert.equal(m.getChildText('body'), 'over websocket');
        tcp.send(`<message to='web@localhost/browser' type='chat'><body>back over tcp</body></message>`);
        const end = Date.now() + 5000;
        while (!inbox.some((s) => s.getChildText('body') === 'back over tcp')) { if (Date.now() > end) throw new Error('no reply'); await new Promise((r) => setTimeout(r, 20)); }
      } finally { await xmpp.stop(); tcp.destroy(); }
    });
  }

  it('frames: <open/> answered with <open/> and features in their own messages; stanzas carry jabber:client', async () => {
    const w = await RawWs.open(ts.wsUrl);
    w.send(`<open xmlns='${FRAMING}' to='localhost' version='1.0'/>`);
    const open = parseFragment(await w.frame((f) => f.includes('<open')));
    assert.equal(open.xmlns, FRAMING);
    assert.equal(open.attrs.from, 'localhost');
    assert.ok(open.attrs.id && open.attrs.id.length >= 16);
    const features = parseFragment(await w.frame((f) => f.includes('features')));
    assert.equal(features.xmlns, 'http://etherx.jabber.org/streams');
    assert.equal(features.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'), undefined, 'no STARTTLS over WebSocket');
    w.send(`<close xmlns='${FRAMING}'/>`);
    await w.frame((f) => f.includes('<close'));
    assert.equal(await w.closed(), 1000);
  });

  it('errors: unknown host → host-unknown then <close/>; bad XML → not-well-formed; oversized frame → 1009', async () => {
    const a = await RawWs.open(ts.wsUrl);
    a.send(`<open xmlns='${FRAMING}' to='nowhere.example' version='1.0'/>`);
    assert.match(await a.frame((f) => f.includes('error')), /host-unknown/);
    await a.frame((f) => f.includes('<close'));
    const b = await RawWs.open(ts.wsUrl);
    b.send(`<open xmlns='${FRAMING}' to='localhost' version='1.0'/>`);
    await b.frame((f) => f.includes('features'));
    b.send(`<message><body>unclosed`);
    assert.match(await b.frame((f) => f.includes('error')), /not-well-formed/);
    const c = await RawWs.open(ts.wsUrl);
    c.send('<message>' + 'x'.repeat(300_000) + '</message>');
    assert.equal(await c.closed(), 1009);
  });

  it('refuses a handshake without the xmpp subprotocol, and other paths', async () => {
    await assert.rejects(RawWs.open(ts.wsUrl, ''), /HTTP 400/);
    await assert.rejects(RawWs.open(ts.wsUrl.replace('/xmpp-websocket', '/other')), /HTTP 404/);
  });

  it('enforces the Origin allow-list when configured', async () => {
    const s = await startTestServer({ http: { allowedOrigins: ['https://chat.example'] } });
    try {
      await assert.rejects(new Promise((res, rej) => {
        const ws = new WebSocket(s.wsUrl, ['xmpp'], { origin: 'https://evil.example' });
        ws.once('open', res); ws.once('unexpected-response', (_q, r) => rej(new Error(`HTTP ${r.statusCode}`))); ws.once('error', rej);
      }), /HTTP 403/);
      const ok = await new Promise<WebSocket>((res, rej) => { const ws = new WebSocket(s.wsUrl, ['xmpp'], { origin: 'https://chat.example' }); ws.once('open', () => res(ws)); ws.once('error', rej); });
      ok.close();
    } finally { await s.stop(); }
  });
});
