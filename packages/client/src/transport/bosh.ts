// BOSH for browsers where WebSocket is unavailable or blocked (XEP-0124 v1.11, XEP-0206 v1.4),
// over fetch: session creation (§7.1) with xmpp:version, a random initial rid incremented by one
// per request (§14.1), at most `requests` requests in flight with one always held open for the
// server to answer with (§11), responses processed strictly in rid order (§11), stream restart
// after SASL with xmpp:restart='true' (XEP-0206 §5), terminate (§13) and the server's
// terminal conditions (§17). No channel binding: the TLS is the browser's.

import { Element, xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import { ConnectionError } from '../errors.js';
import { isLoopbackHost, type ClientTransport, type TransportHandlers } from './transport.js';

export const BOSH_NS = 'http://jabber.org/protocol/httpbind';
export const XBOSH_NS = 'urn:xmpp:xbosh';

export interface BoshTransportOptions {
  url: string;
  /** Longest time (s) the server may hold a request. Default 60. */
  wait?: number;
  /** Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** Retries of one request after a network failure before giving up (§14.3). Default 2. */
  retries?: number;
}

const noHandlers: TransportHandlers = { streamOpen() {}, element() {}, streamClose() {}, closed() {} };

export class BoshTransport implements ClientTransport {
  readonly kind = 'bosh' as const;
  readonly canStartTls = false;
  readonly secure: boolean;
  readonly loopback: boolean;
  readonly address: string;
  handlers: TransportHandlers = noHandlers;
  private rid: number;
  private sid: string | undefined;
  private maxRequests = 2;
  private wait: number;
  private inflight = 0;
  private outbox: Element[] = [];
  private restartWanted = false;
  private domain = '';
  private lang = 'en';
  /** Responses that arrived ahead of an older request, by rid. */
  private early = new Map<number, Element | Error>();
  private nextToProcess = 0;
  private done = false;
  private terminating = false;
  private readonly aborts = new Set<AbortController>();

  constructor(private readonly opts: BoshTransportOptions) {
    const u = new URL(opts.url);
    this.secure = u.protocol === 'https:';
    this.loopback = isLoopbackHost(u.hostname);
    this.address = opts.url;
    this.wait = opts.wait ?? 60;
    // A large random start (§14.1) that still leaves room to count up within 2^53.
    const r = globalThis.crypto.getRandomValues(new Uint32Array(2));
    this.rid = (r[0]! % 0x100000) * 0x100000000 + r[1]! + 1;
  }

  // The HTTP exchange starts with the session creation request, sent by openStream.
  async connect(): Promise<void> {}

  openStream(domain: string, lang: string): void {
    this.domain = domain;
    this.lang = lang;
    if (this.sid === undefined) { void this.request(this.body({
      content: 'text/xml; charset=utf-8', hold: '1', to: domain, ver: '1.6', wait: String(this.wait),
      'xml:lang': lang, '{urn:xmpp:xbosh}version': '1.0',
    }), true); return; }
    this.restartWanted = true;
    this.pump();
  }

  send(el: Element): void {
    if (this.done) return;
    this.outbox.push(el);
    this.pump();
  }

  channelBindings(): [] { return []; }

  close(): void {
    if (this.done || this.sid === undefined) { this.destroy(); return; }
    this.terminating = true;
    const payload = this.outbox.splice(0);
    void this.request(this.body({ type: 'terminate' }, payload), false);
  }

  destroy(): void {
    for (const a of this.aborts) a.abort();
    this.finish(undefined);
  }

  private body(attrs: Record<string, string>, payload: Element[] = []): Element {
    const b = xml('body', BOSH_NS, { rid: String(this.rid++), sid: this.sid, ...attrs });
    b.append(...payload);
    return b;
  }

  /** Keep one request open for the server to answer on, and send queued stanzas in a free slot. */
  private pump(): void {
    if (this.done || this.sid === undefined || this.terminating) return;
    while (this.inflight < this.maxRequests) {
      const hasWork = this.outbox.length > 0 || this.restartWanted;
      if (!hasWork && this.inflight > 0) return;
      let b: Element;
      if (this.restartWanted) {
        this.restartWanted = false;
        b = this.body({ to: this.domain, 'xml:lang': this.lang, '{urn:xmpp:xbosh}restart': 'true' }, this.outbox.splice(0));
      } else {
        b = this.body({}, this.outbox.splice(0));
      }
      void this.request(b, false);
      if (!hasWork) return;
    }
  }

  private async request(b: Element, creation: boolean): Promise<void> {
    const rid = Number(b.attr('rid'));
    if (creation) this.nextToProcess = rid;
    this.inflight++;
    const text = serializeBody(b);
    let result: Element | Error | undefined;
    const retries = this.opts.retries ?? 2;
    for (let attempt = 0; result === undefined; attempt++) {
      const abort = new AbortController();
      this.aborts.add(abort);
      const timer = setTimeout(() => abort.abort(), (this.wait + 15) * 1000);
      try {
        this.handlers.rawOut?.(text);
        const res = await (this.opts.fetch ?? fetch)(this.opts.url, { method: 'POST', body: text, headers: { 'content-type': 'text/xml; charset=utf-8' }, signal: abort.signal });
        const body = await res.text();
        if (res.status !== 200) result = new ConnectionError(`BOSH HTTP ${res.status}`, res.status === 403 ? 'insecure' : 'protocol');
        else { this.handlers.rawIn?.(body); result = parseFragment(body); }
      } catch (e) {
        if (this.done) result = new ConnectionError('closed', 'closed');
        else if (attempt >= retries) result = new ConnectionError(`BOSH request failed: ${(e as Error).message}`, 'network', { cause: e });
        // otherwise retry the same rid (§14.3: the server answers a repeated rid from its buffer)
      } finally {
        clearTimeout(timer);
        this.aborts.delete(abort);
      }
    }
    this.inflight--;
    this.early.set(rid, result);
    while (this.early.has(this.nextToProcess)) {
      const r = this.early.get(this.nextToProcess)!;
      this.early.delete(this.nextToProcess);
      this.nextToProcess++;
      this.process(r, creation && r === result);
      if (this.done) return;
    }
    this.pump();
  }

  private process(r: Element | Error, creation: boolean): void {
    if (this.done) return;
    if (r instanceof Error) { this.finish(r); return; }
    if (r.name !== 'body' || r.xmlns !== BOSH_NS) { this.finish(new ConnectionError('BOSH response is not a <body/>', 'protocol')); return; }
    if (creation) {
      this.sid = r.attr('sid');
      if (!this.sid) { this.finish(new ConnectionError('BOSH session creation answered without sid', 'protocol')); return; }
      const req = Number(r.attr('requests'));
      if (Number.isInteger(req) && req >= 1) this.maxRequests = Math.min(req, 4);
      const w = Number(r.attr('wait'));
      if (Number.isFinite(w) && w > 0) this.wait = w;
      this.handlers.streamOpen({ from: r.attr('from') ?? this.domain, id: r.attr('authid') ?? this.sid, version: r.attr('{urn:xmpp:xbosh}version') ?? '1.0' });
    } else if (r.getChild('features', NS.STREAM) && !this.terminating) {
      // the answer to a restart request carries the new stream's features
      this.handlers.streamOpen({ from: this.domain, version: '1.0' });
    }
    for (const el of r.elements()) this.handlers.element(el);
    if (r.attr('type') === 'terminate') {
      const condition = r.attr('condition');
      this.handlers.streamClose({ condition });
      this.finish(condition && !this.terminating ? new ConnectionError(`BOSH session terminated: ${condition}`, 'closed') : undefined);
    }
  }

  private finish(err: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    for (const a of this.aborts) a.abort();
    this.handlers.closed(err);
  }
}

/** Stanzas inside <body/> must carry their own jabber:client namespace (XEP-0206 §6). */
function serializeBody(b: Element): string {
  let s = `<body xmlns='${BOSH_NS}' xmlns:xmpp='${XBOSH_NS}'`;
  for (const k in b.attrs) {
    const v = b.attrs[k]!.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
    s += k.startsWith('{' + XBOSH_NS + '}') ? ` xmpp:${k.slice(XBOSH_NS.length + 2)}='${v}'` : ` ${k}='${v}'`;
  }
  const kids = b.elements();
  if (kids.length === 0) return s + '/>';
  return s + '>' + kids.map((e) => e.toString('')).join('') + '</body>';
}
