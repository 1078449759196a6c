// XMPP over WebSocket (RFC 7395): subprotocol "xmpp", one element per text message, the stream
// framed by <open/> and <close/> in urn:ietf:params:xml:ns:xmpp-framing (§3.3), restarted with a
// new <open/> after SASL (§3.3.4), and <close see-other-uri/> redirects (§3.6). The WebSocket
// class is the browser's global one unless given (the Node entry passes `ws`).

import { xml, type Element } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { ConnectionError } from '../errors.js';
import { frame, isLoopbackHost, type ClientTransport, type TransportHandlers } from './transport.js';

export const FRAMING_NS = 'urn:ietf:params:xml:ns:xmpp-framing';

/** The part of the WebSocket API we use (browser WebSocket and the `ws` package both have it). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

export interface WebSocketTransportOptions {
  url: string;
  /** Default: globalThis.WebSocket. */
  WebSocket?: WebSocketConstructor;
  /** Milliseconds to wait for the socket to open. Default 15000. */
  connectTimeout?: number;
}

const noHandlers: TransportHandlers = { streamOpen() {}, element() {}, streamClose() {}, closed() {} };

export class WebSocketTransport implements ClientTransport {
  readonly kind = 'websocket' as const;
  readonly canStartTls = false;
  readonly secure: boolean;
  readonly loopback: boolean;
  readonly address: string;
  handlers: TransportHandlers = noHandlers;
  private ws: WebSocketLike | undefined;
  private done = false;

  constructor(private readonly opts: WebSocketTransportOptions) {
    const u = new URL(opts.url);
    this.secure = u.protocol === 'wss:';
    this.loopback = isLoopbackHost(u.hostname);
    this.address = opts.url;
  }

  connect(): Promise<void> {
    const Ctor = this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Ctor) return Promise.reject(new ConnectionError('no WebSocket implementation: pass one (the Node entry uses `ws`)', 'network'));
    return new Promise((resolve, reject) => {
      let opened = false;
      const ws = new Ctor(this.opts.url, 'xmpp');
      this.ws = ws;
      const timer = setTimeout(() => { if (!opened) { ws.onclose = null; try { ws.close(); } catch { /* closing */ } reject(new ConnectionError(`WebSocket ${this.opts.url}: connect timeout`)); } }, this.opts.connectTimeout ?? 15000);
      ws.onopen = () => {
        opened = true;
        clearTimeout(timer);
        // RFC 7395 §3.1: a server that did not agree to the subprotocol does not speak XMPP here.
        if (ws.protocol !== 'xmpp') { ws.close(); reject(new ConnectionError(`WebSocket ${this.opts.url}: server did not accept subprotocol xmpp`, 'protocol')); return; }
        resolve();
      };
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        clearTimeout(timer);
        if (!opened) { reject(new ConnectionError(`WebSocket ${this.opts.url}: connection failed${ev?.code ? ' (' + ev.code + ')' : ''}`)); return; }
        this.finish(ev?.code === 1000 ? undefined : new ConnectionError(`WebSocket closed (${ev?.code ?? '?'})`, 'closed'));
      };
      ws.onmessage = (ev) => this.onMessage(ev.data);
    });
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') { this.fail(new ConnectionError('binary WebSocket frame (RFC 7395 §3.2 allows text only)', 'protocol')); return; }
    this.handlers.rawIn?.(data);
    let el: Element;
    try { el = parseFragment(data); } catch (e) { this.fail(new ConnectionError('unparsable frame: ' + (e as Error).message, 'protocol')); return; }
    if (el.xmlns === FRAMING_NS && el.name === 'open') { this.handlers.streamOpen({ ...el.attrs }); return; }
    if (el.xmlns === FRAMING_NS && el.name === 'close') {
      this.handlers.streamClose({ seeOtherUri: el.attr('see-other-uri') });
      try { this.ws?.close(1000); } catch { /* already closing */ }
      return;
    }
    this.handlers.element(el);
  }

  openStream(domain: string, lang: string): void {
    this.write(frame(xml('open', FRAMING_NS, { to: domain, version: '1.0', 'xml:lang': lang })));
  }

  send(el: Element): void { this.write(frame(el)); }

  private write(s: string): void {
    if (!this.ws || this.ws.readyState !== 1) return;
    this.handlers.rawOut?.(s);
    this.ws.send(s);
  }

  channelBindings(): [] { return []; }

  close(): void {
    this.write(frame(xml('close', FRAMING_NS)));
    // The server answers <close/> and closes the socket; give it a moment, then close ourselves.
    const ws = this.ws;
    setTimeout(() => { try { ws?.close(1000); } catch { /* gone */ } }, 2000).unref?.();
  }

  destroy(): void {
    try { this.ws?.close(); } catch { /* gone */ }
    this.finish(undefined);
  }

  private fail(err: Error): void {
    try { this.ws?.close(); } catch { /* gone */ }
    this.finish(err);
  }

  private finish(err: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    if (this.ws) { this.ws.onmessage = null; this.ws.onclose = null; }
    this.handlers.closed(err);
  }
}
