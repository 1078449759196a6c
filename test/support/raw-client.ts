// A raw XMPP socket for protocol tests: send exact bytes, read what the server answers, upgrade
// to TLS, and log in with SCRAM from our core SASL code. Assertions read the server's output as
// text and as parsed elements (our parser; the parser has its own differential tests).

import net from 'node:net';
import tls from 'node:tls';
import { StreamParser } from '@magpie/core/xml/parser';
import type { Element } from '@magpie/core/xml/element';
import { createClientMechanism } from '@magpie/core/sasl/client';

export class RawClient {
  text = '';
  elements: Element[] = [];
  header: Record<string, string> | undefined;
  closed = false;
  closedPromise: Promise<void>;
  private sock: net.Socket;
  private parser: StreamParser;
  private waiters: (() => void)[] = [];

  private constructor(sock: net.Socket) {
    this.sock = sock;
    this.parser = this.newParser();
    this.closedPromise = new Promise((r) => sock.once('close', () => { this.closed = true; this.notify(); r(); }));
    this.listen(sock);
  }

  private newParser(): StreamParser {
    return new StreamParser({
      onStreamOpen: (info) => { this.header = info.attrs; this.notify(); },
      onElement: (el) => { this.elements.push(el); this.notify(); },
      onStreamClose: () => { this.notify(); },
      onError: () => {},
    }, { maxStanzaBytes: 1 << 24 });
  }

  private listen(sock: net.Socket): void {
    sock.on('data', (d: Buffer) => { this.text += d.toString('utf8'); this.parser.write(d); this.notify(); });
    sock.on('error', () => {});
  }

  private notify(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }

  static fromSocket(sock: net.Socket): RawClient { return new RawClient(sock); }

  static connect(port: number, opts: { tls?: boolean; servername?: string } = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const sock = opts.tls
        ? tls.connect({ port, host: '127.0.0.1', servername: opts.servername ?? 'localhost', rejectUnauthorized: false }, () => resolve(new RawClient(sock)))
        : net.connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(sock)));
      sock.once('error', reject);
    });
  }

  send(data: string | Buffer): void { this.sock.write(data); }

  /** Wait until `pred` holds (checked on every arrival), or fail after `ms`. */
  async until(pred: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; received so far:\n${this.text.slice(-2000)}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, Math.min(100, Math.max(1, end - Date.now()))); });
    }
  }

  async waitText(re: RegExp, ms = 5000): Promise<RegExpMatchArray> {
    await this.until(() => re.test(this.text), ms, String(re));
    return this.text.match(re)!;
  }

  /** Wait for the next element (after those already consumed) matching pred. */
  private consumed = 0;
  async next(pred: (el: Element) => boolean = () => true, ms = 5000): Promise<Element> {
    let found: Element | undefined;
    await this.until(() => {
      for (let i = this.consumed; i < this.elements.length; i++) if (pred(this.elements[i]!)) { found = this.elements[i]; this.consumed = i + 1; return true; }
      return false;
    }, ms, 'element');
    return found!;
  }

  async waitClosed(ms = 5000): Promise<void> { await this.until(() => this.closed, ms, 'connection close'); }

  open(to = 'localhost', extra = ''): void {
    this.send(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${to}' version='1.0'${extra}>`);
  }

  restartParser(): void { this.parser = this.newParser(); this.header = undefined; }

  async startTls(servername = 'localhost'): Promise<void> {
    this.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
    await this.next((e) => e.name === 'proceed');
    const raw = this.sock;
    raw.removeAllListeners('data');
    const t = tls.connect({ socket: raw, servername, rejectUnauthorized: false });
    await new Promise<void>((r, j) => { t.once('secureConnect', () => r()); t.once('error', j); });
    this.sock = t;
    this.restartParser();
    this.listen(t);
  }

  get tlsSocket(): tls.TLSSocket | undefined { return this.sock instanceof tls.TLSSocket ? this.sock : undefined; }

  /** SASL with our client mechanism; resolves with the final element (success or failure). */
  async auth(mechanism: string, username: string, password: string): Promise<Element> {
    const cb = mechanism.endsWith('-PLUS') && this.tlsSocket
      ? { type: 'tls-exporter', data: this.tlsSocket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0)) } : undefined;
    const m = createClientMechanism(mechanism, { username, password, channelBinding: cb })!;
    const init = await m.initial();
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='${mechanism}'>${init ? (init.length ? Buffer.from(init).toString('base64') : '=') : ''}</auth>`);
    for (;;) {
      const el = await this.next((e) => e.xmlns === 'urn:ietf:params:xml:ns:xmpp-sasl');
      if (el.name === 'challenge') {
        const r = await m.challenge(new Uint8Array(Buffer.from(el.text(), 'base64')));
        this.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(r).toString('base64')}</response>`);
        continue;
      }
      if (el.name === 'success') await m.success(el.text() ? new Uint8Array(Buffer.from(el.text(), 'base64')) : undefined);
      return el;
    }
  }

  /** Full login on the plain port over loopback (or TLS when asked): returns the bound JID. */
  async login(username: string, password: string, opts: { resource?: string; starttls?: boolean; mechanism?: string; domain?: string } = {}): Promise<string> {
    this.open(opts.domain);
    await this.next((e) => e.name === 'features');
    if (opts.starttls) { await this.startTls(); this.open(); await this.next((e) => e.name === 'features'); }
    const r = await this.auth(opts.mechanism ?? 'SCRAM-SHA-256', username, password);
    if (r.name !== 'success') throw new Error('auth failed: ' + r.toString());
    this.restartParser();
    this.open(opts.domain);
    await this.next((e) => e.name === 'features');
    this.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>${opts.resource ? `<resource>${opts.resource}</resource>` : ''}</bind></iq>`);
    const res = await this.next((e) => e.name === 'iq' && e.attr('id') === 'bind1');
    const jid = res.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind')?.getChildText('jid', 'urn:ietf:params:xml:ns:xmpp-bind');
    if (!jid) throw new Error('bind failed: ' + res.toString());
    return jid;
  }

  close(): void { this.sock.end(); }
  destroy(): void { this.sock.destroy(); }
}
