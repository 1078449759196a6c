// The client: one XMPP session kept alive across connections. It owns the status machine
// (offline → connecting → online → reconnecting → … → offline), the outgoing queue, XEP-0198
// acknowledgements and resumption (§4, §5), reconnection with backoff, iq request/response
// (RFC 6120 §8.2.3) and answering iq requests nobody handles with service-unavailable (§8.4).
// Transports and discovery come in through a Connector, so this file runs in browsers and Node.

import { Element, xml } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { NS } from '@magpie/core/protocol/namespaces';
import type { ScramClientCache } from '@magpie/core/sasl/client';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { ConnectionError, StreamError, TimeoutError, XmppError, isFatal } from './errors.js';
import { Inbox } from './inbox.js';
import { IqTracker, newId } from './iq.js';
import { negotiate, type PlainPolicy } from './negotiation.js';
import { OutgoingQueue } from './queue.js';
import { HandledCountError, SM_NS, StreamManagementState, isStanza } from './sm.js';
import type { ClientTransport, Connector } from './transport/transport.js';

export type Status = 'offline' | 'connecting' | 'online' | 'reconnecting' | 'disconnecting';

export interface ClientOptions {
  /** user@domain (or a bare domain with `anonymous`). */
  jid: string;
  password?: string;
  /** Requested resource; the server picks one when omitted. */
  resource?: string;
  /** Creates the transport for each connection attempt (createClient in index/node fills it in). */
  connect: Connector;
  /** SASL ANONYMOUS (RFC 4505). */
  anonymous?: boolean;
  /** Where PLAIN may be used: 'tls' (default), 'tls-or-loopback', 'never'. */
  plain?: PlainPolicy;
  /** Refuse unencrypted non-loopback connections. Default true. */
  requireTls?: boolean;
  /** Allow-list of SASL mechanisms. */
  mechanisms?: string[];
  lang?: string;
  /** XEP-0198: false to disable, or options. Default { resume: true, ackEvery: 5 }. */
  sm?: boolean | { resume?: boolean; ackEvery?: number; max?: number };
  /** Reconnect after a lost connection: false, or backoff options plus maxAttempts (default ∞). */
  reconnect?: boolean | (Partial<BackoffOptions> & { maxAttempts?: number });
  /** Default timeout of iq requests, ms. Default 30000. */
  iqTimeout?: number;
  /** Timeout of each negotiation step, ms. Default 30000. */
  negotiationTimeout?: number;
  /** Seconds of silence after which the server is probed (SM <r/> or a ping); 0 disables. Default 60. */
  keepalive?: number;
  /** Stanzas held while offline. Default 1000. */
  queueLimit?: number;
}

export interface OnlineInfo { jid: string; resumed: boolean }

export interface ClientEvents {
  [k: string]: unknown[];
  status: [status: Status, previous: Status];
  /** A session is up: a new one (resumed=false: re-fetch roster, re-send presence) or resumed. */
  online: [info: OnlineInfo];
  /** The client stopped for good (stop(), a fatal error, or reconnection gave up). */
  offline: [error?: Error];
  reconnecting: [info: { attempt: number; delay: number; error?: Error }];
  /** Connection-level problems that do not end the client (a failed reconnection attempt). */
  error: [error: Error];
  'stream-error': [error: StreamError];
  /** Every element received / written, nonzas included. */
  element: [el: Element];
  output: [el: Element];
  /** Raw protocol text, for debugging consoles. */
  raw: [direction: 'in' | 'out', data: string];
  stanza: [el: Element];
  message: [el: Element];
  presence: [el: Element];
  iq: [el: Element];
  /** XEP-0198: the server confirmed it handled this stanza. */
  acked: [el: Element];
  /** Stanzas of a session that could not be resumed and were not resent (iq, presence). */
  lost: [els: Element[]];
  listenerError: [error: unknown, event: string];
}

export type IqHandler = (iq: Element) => Element | undefined | void | Promise<Element | undefined | void>;

export class Client extends Emitter<ClientEvents> {
  readonly options: Readonly<ClientOptions>;
  readonly domain: string;
  private readonly username: string;
  private _status: Status = 'offline';
  private _jid: JID | undefined;
  private transport: ClientTransport | undefined;
  private readonly iqs = new IqTracker();
  private readonly queue: OutgoingQueue;
  readonly sm = new StreamManagementState();
  private readonly iqHandlers = new Map<string, IqHandler>();
  /** Features this client supports (XEP-0030), filled by plugins; disco/caps read it. */
  readonly features = new Set<string>([NS.DISCO_INFO]);
  private readonly plugins = new Map<unknown, unknown>();
  private wanted = false;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private keepaliveTimer: ReturnType<typeof setInterval> | undefined;
  private lastActivity = Date.now();
  private probing = false;
  private unackedSinceRequest = 0;
  private lastError: Error | undefined;
  private scramCache: ScramClientCache | undefined;
  private connecting: Promise<string> | undefined;

  constructor(options: ClientOptions) {
    super();
    this.options = options;
    const jid = JID.parse(options.jid);
    this.domain = jid.domain;
    this.username = jid.local;
    this.queue = new OutgoingQueue(options.queueLimit ?? 1000);
    this.handleIq('get', NS.PING, 'ping', () => undefined);
  }

  get status(): Status { return this._status; }
  /** The bound full JID once online (kept across resumptions). */
  get jid(): JID | undefined { return this._jid; }
  /** The transport kind in use ('tcp' | 'websocket' | 'bosh'). */
  get transportKind(): ClientTransport['kind'] | undefined { return this.transport?.kind; }
  get secure(): boolean { return this.transport?.secure ?? false; }
  get queued(): number { return this.queue.length; }

  /** A plugin instance per client: `client.use(roster)` builds it once, later calls return it. */
  use<T>(factory: (client: Client) => T): T {
    if (!this.plugins.has(factory)) this.plugins.set(factory, factory(this));
    return this.plugins.get(factory) as T;
  }

  /** Connect and log in; resolves with the bound JID. Rejects (and stays offline) when the first
      attempt fails; reconnection applies to connections lost after that. */
  start(): Promise<string> {
    if (this.connecting) return this.connecting;
    if (this._status === 'online') return Promise.resolve(this._jid!.toString());
    // start() during 'reconnecting' replaces the pending attempt instead of racing it.
    clearTimeout(this.reconnectTimer);
    this.wanted = true;
    this.attempt = 0;
    this.setStatus('connecting');
    this.connecting = this.connectOnce().then(() => this._jid!.toString(), (err: Error) => {
      this.wanted = false;
      this.sm.reset();
      this.setStatus('offline');
      this.emit('offline', err);
      throw err;
    }).finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  /** Close the session: acknowledge what was received, end the stream, stay offline. */
  async stop(): Promise<void> {
    this.wanted = false;
    clearTimeout(this.reconnectTimer);
    this.stopKeepalive();
    const t = this.transport;
    if (!t || this._status === 'offline') { this.finishOffline(); return; }
    this.setStatus('disconnecting');
    const closed = new Promise<void>((resolve) => { const prev = t.handlers.closed; t.handlers.closed = (e) => { prev(e); resolve(); }; });
    if (this.sm.enabled) this.writeNonza(xml('a', SM_NS, { h: this.sm.inbound }));
    t.close();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
    t.destroy();
    this.finishOffline();
  }

  /** Send a stanza (or queue it until online). A stanza without xmlns goes out as jabber:client. */
  send(el: Element): void {
    if (el.xmlns === '') el.xmlns = NS.CLIENT;
    if (this._status === 'online' && this.transport) this.write(el);
    else this.queue.push(el);
  }

  /** Write any element now, bypassing the queue and SM counting (nonzas, debugging). */
  writeNonza(el: Element): void {
    this.transport?.send(el);
    this.emit('output', el);
  }

  /** Send an iq get/set and wait for its result (resolves the <iq type='result'/>) or error (rejects
      with XmppError), or a TimeoutError. */
  iq(type: 'get' | 'set', to: string | undefined, payload: Element | undefined, opts: { timeout?: number } = {}): Promise<Element> {
    const id = newId();
    const p = this.iqs.track(id, to, opts.timeout ?? this.options.iqTimeout ?? 30000);
    this.send(xml('iq', NS.CLIENT, { type, id, to }, payload));
    return p;
  }

  /** Answer iq get/set requests whose payload is <name xmlns=ns/>. The handler returns the result
      payload (or nothing for an empty result), or throws an XmppError. */
  handleIq(type: 'get' | 'set', ns: string, name: string, handler: IqHandler): () => void {
    const key = `${type} ${ns} ${name}`;
    this.iqHandlers.set(key, handler);
    return () => { if (this.iqHandlers.get(key) === handler) this.iqHandlers.delete(key); };
  }

  // ---- connection lifecycle -----------------------------------------------------------

  private setStatus(s: Status): void {
    const prev = this._status;
    if (prev === s) return;
    this._status = s;
    this.emit('status', s, prev);
  }

  private smOptions(): { enabled: boolean; resume: boolean; max: number | undefined; ackEvery: number } {
    const o = this.options.sm;
    if (o === false) return { enabled: false, resume: false, max: undefined, ackEvery: 0 };
    const x = typeof o === 'object' ? o : {};
    return { enabled: true, resume: x.resume ?? true, max: x.max, ackEvery: x.ackEvery ?? 5 };
  }

  private async connectOnce(): Promise<void> {
    const t = await this.options.connect({ domain: this.domain, attempt: this.attempt });
    const inbox = new Inbox();
    this.transport = t;
    this.lastError = undefined;
    let online = false;
    t.handlers = {
      streamOpen: () => {},
      element: (el) => {
        if (this.transport !== t) return;
        this.lastActivity = Date.now();
        this.sm.onInbound(el);
        // Applied on arrival: stanzas right behind <enabled/> are the first ones the server counts.
        if (el.xmlns === SM_NS && el.name === 'enabled') this.sm.confirm(el);
        this.emit('element', el);
        if (online) this.dispatch(el); else inbox.push(el);
      },
      streamClose: () => { if (this.transport === t) t.close(); },
      closed: (err) => {
        if (this.transport !== t) return;
        const why = this.lastError ?? err;
        if (!online) { inbox.fail(why ?? new ConnectionError('connection closed during negotiation', 'closed')); return; }
        online = false;
        this.onDrop(why);
      },
      rawIn: (s) => this.emit('raw', 'in', s),
      rawOut: (s) => this.emit('raw', 'out', s),
    };
    try {
      const sm = this.smOptions();
      const r = await negotiate(t, inbox, {
        domain: this.domain, lang: this.options.lang ?? 'en', username: this.username, password: this.options.password,
        anonymous: this.options.anonymous ?? false, resource: this.options.resource, plain: this.options.plain ?? 'tls',
        requireTls: this.options.requireTls ?? true, mechanisms: this.options.mechanisms,
        sm, timeout: this.options.negotiationTimeout ?? 30000, scramCache: this.scramCache,
      }, this.sm, (el) => this.writeNonza(el));
      this.scramCache = r.scramCache;
      if (!r.resumed) {
        this._jid = JID.parse(r.jid);
        if (r.lost.length) {
          // iq requests of the lost session will never be answered.
          this.iqs.rejectAll(new ConnectionError('the session was lost before the server answered', 'session-lost'));
          this.emit('lost', r.lost);
        }
      }
      online = true;
      this.attempt = 0;
      this.unackedSinceRequest = 0;
      this.setStatus('online');
      for (const el of r.retransmit) this.write(el);
      // Listeners may send (initial presence, roster fetch) before the queue flushes.
      this.emit('online', { jid: this._jid!.toString(), resumed: r.resumed });
      for (const el of this.queue.drain()) this.write(el);
      for (const el of inbox.takeRest()) this.dispatch(el);
      this.startKeepalive();
    } catch (err) {
      if (this.transport === t) this.transport = undefined;
      t.destroy();
      throw err;
    }
  }

  /** The connection went away while online. */
  private onDrop(err: Error | undefined): void {
    this.stopKeepalive();
    this.transport = undefined;
    const r = this.options.reconnect ?? true;
    if (!this.wanted || r === false || isFatal(err)) {
      this.wanted = false;
      this.finishOffline(err);
      return;
    }
    if (!this.sm.resumable) this.sm.reset();
    this.scheduleReconnect(err);
  }

  private scheduleReconnect(err: Error | undefined): void {
    const r = this.options.reconnect;
    const opts = typeof r === 'object' ? r : {};
    if (opts.maxAttempts !== undefined && this.attempt >= opts.maxAttempts) {
      this.wanted = false;
      this.finishOffline(err ?? new ConnectionError('gave up reconnecting', 'closed'));
      return;
    }
    const delay = backoffDelay(this.attempt, opts);
    this.attempt++;
    this.setStatus('reconnecting');
    this.emit('reconnecting', { attempt: this.attempt, delay, error: err });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      if (!this.wanted) return;
      this.connectOnce().catch((e: Error) => {
        if (!this.wanted) return;
        this.emit('error', e);
        if (isFatal(e)) { this.wanted = false; this.finishOffline(e); return; }
        this.scheduleReconnect(e);
      });
    }, delay);
  }

  private finishOffline(err?: Error): void {
    this.stopKeepalive();
    this.transport = undefined;
    this.sm.reset();
    const lost = this.queue.clear();
    if (lost.length) this.emit('lost', lost);
    this.iqs.rejectAll(err ?? new ConnectionError('client stopped', 'closed'));
    if (this._status !== 'offline') { this.setStatus('offline'); this.emit('offline', err); }
  }

  /** Write a stanza on the live transport, counted and kept for XEP-0198 until acknowledged. */
  private write(el: Element): void {
    const t = this.transport;
    if (!t) { this.queue.push(el); return; }
    this.sm.onOutbound(el);
    t.send(el);
    this.emit('output', el);
    const every = this.smOptions().ackEvery;
    if (this.sm.enabled && isStanza(el) && every > 0 && ++this.unackedSinceRequest >= every) {
      this.unackedSinceRequest = 0;
      this.writeNonza(xml('r', SM_NS));
    }
  }

  // ---- inbound ----------------------------------------------------------------------------

  private dispatch(el: Element): void {
    if (el.xmlns === NS.STREAM && el.name === 'error') {
      const e = StreamError.fromElement(el);
      this.lastError = e;
      this.emit('stream-error', e);
      return;
    }
    if (el.xmlns === SM_NS) { this.onSmNonza(el); return; }
    if (!isStanza(el)) return;
    if (el.name === 'iq' && this.iqs.handle(el, this._jid)) { this.emit('stanza', el); this.emit('iq', el); return; }
    this.emit('stanza', el);
    if (el.name === 'message') this.emit('message', el);
    else if (el.name === 'presence') this.emit('presence', el);
    else { this.emit('iq', el); void this.answerIq(el); }
  }

  private onSmNonza(el: Element): void {
    if (el.name === 'r') { this.writeNonza(xml('a', SM_NS, { h: this.sm.inbound })); return; }
    if (el.name === 'a') {
      this.probing = false;
      try {
        for (const s of this.sm.ack(Number(el.attr('h')))) this.emit('acked', s);
      } catch (e) {
        if (e instanceof HandledCountError) {
          // XEP-0198 §4: the server claims more than we sent; the stream cannot be trusted.
          this.writeNonza(xml('error', NS.STREAM, {}, xml('undefined-condition', NS.STREAMS), xml('handled-count-too-high', SM_NS, { h: e.h, 'send-count': e.sent })));
          this.transport?.destroy();
        }
      }
    }
  }

  private async answerIq(iq: Element): Promise<void> {
    const type = iq.attr('type');
    if (type !== 'get' && type !== 'set') return;
    const payload = iq.elements()[0];
    const handler = payload && this.iqHandlers.get(`${type} ${payload.xmlns} ${payload.name}`);
    const reply = (children: Element[], attrs: Record<string, string> = { type: 'result' }): void =>
      this.send(xml('iq', NS.CLIENT, { ...attrs, id: iq.attr('id'), to: iq.attr('from') }, ...children));
    const fail = (e: XmppError): void => reply([xml('error', NS.CLIENT, { type: e.type }, xml(e.condition, NS.STANZAS), e.text ? xml('text', NS.STANZAS, {}, e.text) : undefined)], { type: 'error' });
    if (!handler) { fail(XmppError.of('service-unavailable')); return; }
    try {
      const result = await handler(iq);
      reply(result ? [result] : []);
    } catch (e) {
      fail(e instanceof XmppError ? e : XmppError.of('internal-server-error'));
      if (!(e instanceof XmppError)) this.emit('error', e instanceof Error ? e : new Error(String(e)));
    }
  }

  // ---- liveness ---------------------------------------------------------------------------

  private startKeepalive(): void {
    this.stopKeepalive();
    const secs = this.options.keepalive ?? 60;
    if (secs <= 0) return;
    this.lastActivity = Date.now();
    this.probing = false;
    const tick = Math.max(250, Math.min(secs * 1000, 5000));
    this.keepaliveTimer = setInterval(() => {
      const idle = Date.now() - this.lastActivity;
      if (idle < secs * 1000) return;
      const t = this.transport;
      if (!t) return;
      if (this.probing) {
        // No answer to the probe for another whole period: the connection is dead (a half-open
        // TCP connection never reports itself); drop it so reconnection/resumption starts.
        if (idle >= secs * 2000) { this.lastError = new TimeoutError('keepalive', secs * 1000); t.destroy(); }
        return;
      }
      this.probing = true;
      if (this.sm.enabled) this.writeNonza(xml('r', SM_NS));
      else this.iq('get', this.domain, xml('ping', NS.PING), { timeout: secs * 1000 }).then(() => { this.probing = false; }, () => {});
    }, tick);
    (this.keepaliveTimer as { unref?: () => void }).unref?.();
  }

  private stopKeepalive(): void {
    if (this.keepaliveTimer) clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = undefined;
  }
}
