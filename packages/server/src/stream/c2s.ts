// The client-to-server stream state machine (RFC 6120 §4–§7): stream header checks, features,
// STARTTLS, SASL, resource binding, legacy session establishment, then stanza intake with the
// checks of §8 (stanza kinds, `from` stamping, addressing) before the router takes over.
// Elements are processed strictly in arrival order through a queue, because SASL and routing
// are asynchronous; a stream restart (after TLS or SASL) empties the queue and the parser so no
// element received before the restart is ever processed after it. When the stream ends, a
// module may keep its session alive instead (the session's `hibernation` callback, XEP-0198)
// and a later stream may `adopt` it ('session/suspended', 'session/resumed').

import { randomBytes } from 'node:crypto';
import { Element, xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError, StreamError, errorReply, type StreamErrorCondition } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import type { Transport } from '../transports/transport.js';
import type { ServerCore } from '../server-core.js';
import type { HostConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { parseVersion, validLang } from './stream-header.js';
import { webSocketFraming, xmlStreamFraming, type Framing, type InputFramer } from './framing.js';
import { SaslNegotiation, offeredMechanisms } from './sasl-negotiation.js';
import { bindResource } from './resource-binding.js';
import { LocalClientSession, type SessionStream, type StreamEnding } from './client-session.js';
import type { ClientSession } from '../session/session.js';
import type { ConnectionInfo } from '../hooks/events.js';

type State = 'header' | 'negotiating' | 'ready' | 'closing' | 'closed';
const STANZA_KINDS = new Set(['message', 'presence', 'iq']);
const IQ_TYPES = new Set(['get', 'set', 'result', 'error']);
const PRESENCE_TYPES = new Set(['unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe', 'error']);
const MAX_QUEUE = 1000;

export class C2SStream {
  id = '';
  state: State = 'header';
  host: HostConfig | undefined;
  lang = 'en';
  username: string | undefined;
  anonymous = false;
  session: LocalClientSession | undefined;
  lastReceived = Date.now();
  /** When the stanza now arriving began (0: between stanzas). */
  stanzaStartedAt = 0;
  pingOutstanding = false;
  log: Logger;
  readonly openedAt = Date.now();
  private headerSent = false;
  private parser: InputFramer;
  private readonly framing: Framing;
  private sasl: SaslNegotiation | undefined;
  private queue: Element[] = [];
  private pumping = false;
  private paused = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private closeAfterQueue = false;
  /** ConnectionInfo.data: modules' per-connection state (hooks/events.ts). */
  private readonly connectionData = new Map<string, unknown>();

  constructor(readonly server: ServerCore, readonly transport: Transport) {
    this.log = server.log.child({ conn: transport.id, addr: transport.remoteAddress });
    const l = server.config.limits;
    this.framing = typeof transport.framing === 'object' ? transport.framing : transport.framing === 'framed' ? webSocketFraming : xmlStreamFraming;
    this.parser = this.framing.createInput({
      onStreamOpen: (info) => this.onStreamOpen(info),
      onElement: (el) => this.onElement(el),
      onStreamClose: () => this.onStreamClose(),
      onError: (cond, text) => this.fatal(new StreamError(cond, text)),
    }, { maxStanzaBytes: l.maxStanzaBytes, maxDepth: l.maxDepth, maxAttributes: l.maxAttributes, maxNameLength: l.maxNameLength, maxHeaderBytes: l.maxHeaderBytes });
    transport.onData = (chunk) => {
      const now = Date.now();
      this.lastReceived = now;
      this.pingOutstanding = false;
      this.parser.write(chunk);
      if (!this.parser.inStanza) this.stanzaStartedAt = 0;
      else if (this.stanzaStartedAt === 0) this.stanzaStartedAt = now;
    };
    transport.onClose = (err) => this.onTransportClosed(err);
    transport.onUndelivered = (chunks) => this.onUndelivered(chunks);
  }

  get authenticated(): boolean { return this.username !== undefined; }
  get tlsRequired(): boolean {
    const t = this.server.config.tls;
    if (this.transport.secure || !t.requireForClients) return false;
    return !this.transport.loopback || t.requireOnLoopback;
  }

  // --- stream header (RFC 6120 §4.7) ---------------------------------------------------------

  private onStreamOpen(info: { name: string; xmlns: string; attrs: Record<string, string>; defaultNs: string }): void {
    this.id = randomBytes(16).toString('base64url');
    const to = info.attrs.to;
    const toJid = to !== undefined ? JID.tryParse(to) : undefined;
    const host = toJid?.isDomain ? this.server.hostConfig(toJid.domain) : undefined;
    const lang = info.attrs['xml:lang'];
    if (lang !== undefined && validLang(lang)) this.lang = lang;
    const fromJid = info.attrs.from !== undefined ? JID.tryParse(info.attrs.from) : undefined;
    this.sendHeader(host?.domain ?? this.host?.domain ?? this.server.config.hosts[0]!.domain, fromJid?.toString());
    // Checks in the order of RFC 6120 §4.8 / §4.9.3: namespaces first, then addressing, version.
    if (info.xmlns !== NS.STREAM || info.name !== 'stream') return this.fatal(new StreamError('invalid-namespace', 'the root must be <stream> in ' + NS.STREAM));
    if (info.defaultNs !== NS.CLIENT) return this.fatal(new StreamError('invalid-namespace', 'the content namespace must be jabber:client'));
    if (to === undefined) return this.fatal(new StreamError('host-unknown', 'no "to" address'));
    if (!host) return this.fatal(new StreamError('host-unknown', 'this server does not serve that domain'));
    if (this.host && host.domain !== this.host.domain) return this.fatal(new StreamError('host-unknown', 'the domain changed during negotiation'));
    const version = parseVersion(info.attrs.version);
    if (!version || version[0] < 1) return this.fatal(new StreamError('unsupported-version', 'XMPP 1.0 or later is required'));
    if (lang !== undefined && !validLang(lang)) return this.fatal(new StreamError('bad-format', 'invalid xml:lang'));
    if (this.server.stopping) return this.fatal(new StreamError('system-shutdown'));
    this.host = host;
    this.state = 'negotiating';
    this.background(this.sendFeatures(), 'stream features');
  }

  private sendHeader(from: string, to: string | undefined): void {
    this.transport.write(this.framing.open({ id: this.id || randomBytes(16).toString('base64url'), from, to, lang: this.lang, contentNs: NS.CLIENT }));
    this.headerSent = true;
  }

  private async sendFeatures(): Promise<void> {
    const host = this.host!;
    const features = xml('features', NS.STREAM);
    if (!this.authenticated) {
      if (this.transport.canStartTls) {
        const st = features.c('starttls', {}, NS.TLS);
        if (this.tlsRequired) st.c('required');
      }
      const mechs = offeredMechanisms({ host, transport: this.transport, tlsRequired: this.tlsRequired });
      if (mechs.length) {
        const m = features.c('mechanisms', {}, NS.SASL);
        for (const name of mechs) m.c('mechanism').t(name);
        const cb = this.transport.channelBindingTypes();
        if (cb.length) { const s = features.c('sasl-channel-binding', {}, NS.SASL_CB); for (const t of cb) s.c('channel-binding', { type: t }); }
      }
    } else {
      features.c('bind', {}, NS.BIND);
      features.c('session', {}, NS.SESSION).c('optional');
    }
    await this.server.hooks.emit('stream/features', { features, host: host.domain, secure: this.transport.secure, authenticated: this.authenticated, bound: !!this.session, streamId: this.id, connection: this.connectionInfo() });
    this.write(features);
  }

  /** Begin a new stream on the same connection (after TLS or SASL): RFC 6120 §4.3.3. */
  private restart(): void {
    this.queue.length = 0;
    this.parser.reset();
    this.state = 'header';
    this.headerSent = false;
  }

  // --- element intake ------------------------------------------------------------------------

  private onElement(el: Element): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    // STARTTLS must be acted on before the parser looks at another byte (RFC 6120 §5.4.3.3):
    // everything after <starttls/> in the same read is discarded by the restart.
    if (el.name === 'starttls' && el.xmlns === NS.TLS && this.state === 'negotiating' && !this.authenticated && this.queue.length === 0 && !this.pumping) {
      this.parser.reset();
      this.background(this.startTls(), 'STARTTLS');
      return;
    }
    this.queue.push(el);
    // Back-pressure: stop reading while a fast sender is ahead of processing.
    if (this.queue.length > MAX_QUEUE && !this.paused) { this.paused = true; this.transport.pause(); }
    if (!this.pumping) this.background(this.pump(), 'element processing');
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length && this.state !== 'closed' && this.state !== 'closing') {
        const el = this.queue.shift()!;
        try { await this.process(el); } catch (e) {
          if (e instanceof StreamError) { this.fatal(e); break; }
          this.log.error({ err: e }, 'error while processing an element');
          if (STANZA_KINDS.has(el.name) && this.session) {
            const reply = errorReply(el, new StanzaError('internal-server-error'));
            if (reply) this.session.send(reply);
          }
        }
      }
    } finally {
      this.pumping = false;
      if (this.paused && this.queue.length < MAX_QUEUE / 2) { this.paused = false; this.transport.resume(); }
      if (this.closeAfterQueue && !this.queue.length) { this.closeAfterQueue = false; this.onPeerClose(); }
    }
  }

  private async process(el: Element): Promise<void> {
    if (this.state === 'header') return; // ignored: the element came before a restarted header
    if (!this.authenticated) {
      if (el.xmlns === NS.SASL) {
        if (!this.sasl) this.sasl = new SaslNegotiation(this.saslEnv());
        return this.sasl.handle(el);
      }
      if (el.name === 'starttls' && el.xmlns === NS.TLS) return this.startTls();
      const r = await this.server.hooks.fire('stream/negotiation', { element: el, stream: this.streamHandle() });
      if (r !== undefined) return;
      if (STANZA_KINDS.has(el.name)) throw new StreamError('not-authorized', 'authenticate first');
      throw new StreamError('unsupported-stanza-type');
    }
    if (!this.session) {
      if (el.name === 'iq' && el.xmlns === NS.CLIENT && el.attr('type') === 'set' && el.getChild('bind', NS.BIND)) return this.bind(el);
      const r = await this.server.hooks.fire('stream/negotiation', { element: el, stream: this.streamHandle() });
      if (r !== undefined) return;
      if (el.name === 'iq' && el.xmlns === NS.CLIENT && el.getChild('session', NS.SESSION)) { this.write(xml('iq', NS.CLIENT, { type: 'result', id: el.attr('id') })); return; }
      if (STANZA_KINDS.has(el.name)) throw new StreamError('not-authorized', 'bind a resource first');
      throw new StreamError('unsupported-stanza-type');
    }
    return this.stanza(el);
  }

  // --- STARTTLS (RFC 6120 §5.4) ---------------------------------------------------------------

  private async startTls(): Promise<void> {
    if (!this.transport.canStartTls) {
      this.write(xml('failure', NS.TLS));
      return this.close();
    }
    this.write(xml('proceed', NS.TLS));
    this.restart();
    try { await this.transport.startTls(); } catch (e) {
      this.log.info({ err: (e as Error).message }, 'TLS handshake failed');
      this.state = 'closed';
      this.transport.destroy();
      return;
    }
    this.log.debug({ protocol: 'tls' }, 'TLS established');
  }

  // --- SASL (RFC 6120 §6) ---------------------------------------------------------------------

  private saslEnv() {
    const server = this.server;
    return {
      host: this.host!, transport: this.transport, limits: server.config.limits, accounts: server.accounts,
      throttle: server.throttle, log: this.log, tlsRequired: this.tlsRequired,
      send: (el: Element) => this.write(el),
      onSuccess: (username: string, mechanism: string, anonymous: boolean) => {
        this.username = username;
        this.anonymous = anonymous;
        this.sasl = undefined;
        this.restart();
        this.background(server.hooks.emit('session/authenticated', { host: this.host!.domain, username, streamId: this.id, mechanism }), 'session/authenticated');
      },
      onGiveUp: () => this.close(),
    };
  }

  // --- resource binding (RFC 6120 §7) ---------------------------------------------------------

  private async bind(iq: Element): Promise<void> {
    const r = await bindResource(this.server, this, iq);
    if (r instanceof StanzaError) { const reply = errorReply(iq, r); if (reply) this.write(reply); return; }
    this.session = r;
    this.state = 'ready';
    this.log = this.log.child({ jid: r.jid.toString() });
    this.write(xml('iq', NS.CLIENT, { type: 'result', id: iq.attr('id') }, xml('bind', NS.BIND, {}, xml('jid', NS.BIND, {}, r.jid.toString()))));
    await this.server.hooks.emit('session/bound', { session: r });
  }

  // --- stanzas (RFC 6120 §8) ------------------------------------------------------------------

  private async stanza(el: Element): Promise<void> {
    const session = this.session!;
    if (!STANZA_KINDS.has(el.name) || el.xmlns !== NS.CLIENT) {
      const r = await this.server.hooks.fire('stream/negotiation', { element: el, session, stream: this.streamHandle() });
      if (r !== undefined) return;
      throw new StreamError('unsupported-stanza-type', `<${el.name}/> is not a stanza`);
    }
    for (const f of session.inbound) f(el);
    // `from`: the server stamps the full JID; a client may only claim its own full or bare JID.
    const claimed = el.attrs.from;
    if (claimed !== undefined && claimed !== session.jid.toString()) {
      const c = JID.tryParse(claimed);
      if (!c || !(c.equals(session.jid) || c.equals(session.jid.bare))) throw new StreamError('invalid-from', 'a client may not send from another address');
    }
    el.attrs.from = session.jid.toString();
    const type = el.attrs.type;
    if (el.name === 'iq') {
      if (el.attrs.id === undefined || el.attrs.id === '' || type === undefined || !IQ_TYPES.has(type)) return this.reject(el, new StanzaError('bad-request', 'an iq needs an id and a type of get, set, result or error'));
      if ((type === 'get' || type === 'set') && el.elements().length !== 1) return this.reject(el, new StanzaError('bad-request', 'an iq get or set carries exactly one child'));
    } else if (el.name === 'presence' && type !== undefined && !PRESENCE_TYPES.has(type)) {
      return this.reject(el, new StanzaError('bad-request', 'unknown presence type'));
    }
    // Legacy session establishment (RFC 3921 §3, kept optional by RFC 6121 Appendix E): a no-op.
    if (el.name === 'iq' && type === 'set' && el.getChild('session', NS.SESSION) && (el.attrs.to === undefined || el.attrs.to === this.host!.domain)) {
      session.sendRaw(xml('iq', NS.CLIENT, { type: 'result', id: el.attrs.id, from: this.host!.domain, to: session.jid.toString() }));
      return;
    }
    let to: JID | undefined;
    if (el.attrs.to !== undefined) {
      to = JID.tryParse(el.attrs.to);
      if (!to) return this.reject(el, new StanzaError('jid-malformed', 'the "to" address is not a valid JID'));
      el.attrs.to = to.toString();
    }
    await this.server.router.route(el, { kind: 'c2s', session }, session.jid, to, session);
  }

  private reject(el: Element, err: StanzaError): void {
    const reply = errorReply(el, err);
    if (!reply) return;
    reply.attrs.from = this.host!.domain; // the server generated it (RFC 6120 §8.3.1)
    if (el.attrs.to) reply.attrs.from = el.attrs.to;
    if (this.session) { reply.attrs.to = this.session.jid.toString(); this.session.sendRaw(reply); return; }
    this.write(reply);
  }

  // --- output ---------------------------------------------------------------------------------

  write(el: Element): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.transport.write(this.framing.element(el));
    if (this.transport.bufferedBytes > this.server.config.limits.maxOutboundBuffer) {
      this.log.warn({ buffered: this.transport.bufferedBytes }, 'client is not reading; closing');
      this.fatal(new StreamError('policy-violation', 'too much unread data'));
    }
  }

  private streamHandle() {
    return { id: this.id, host: this.host?.domain ?? '', send: (el: Element) => this.write(el), authenticated: this.authenticated, username: this.username,
      adopt: (s: ClientSession, greet: () => void) => this.adopt(s, greet), connection: this.connectionInfo() };
  }

  private connectionInfo(): ConnectionInfo {
    const t = this.transport;
    return { remoteAddress: t.remoteAddress, loopback: t.loopback, secure: t.secure, tlsRequired: this.tlsRequired, data: this.connectionData };
  }

  /**
   * Take over a live or suspended session of the same account (XEP-0198 resumption) on this
   * authenticated, not yet bound stream. A stream still holding it loses it and is closed with
   * <conflict/> (XEP-0198 §5). `greet` runs once attached, before any other output.
   */
  private adopt(s: ClientSession, greet: () => void): boolean {
    if (!(s instanceof LocalClientSession) || s.closed || this.session || !this.authenticated || this.state !== 'negotiating') return false;
    if (s.username !== this.username || s.host !== this.host?.domain) return false;
    const prev = s.attach(this);
    if (prev instanceof C2SStream && prev !== this) {
      prev.session = undefined;
      prev.close(new StreamError('conflict', 'the session was resumed on another connection'));
    }
    this.session = s;
    this.state = 'ready';
    this.log = this.log.child({ jid: s.jid.toString() });
    greet();
    this.background(this.server.hooks.emit('session/resumed', { session: s }), 'session/resumed');
    return true;
  }

  /**
   * Work started from a socket callback: a failure (a module's hook that throws) must end this
   * stream with internal-server-error and a log line, never reach the process as an unhandled
   * rejection (which would stop the whole server).
   */
  private background(p: Promise<unknown>, what: string): void {
    p.catch((e) => {
      this.log.error({ err: e, during: what }, 'stream task failed');
      this.fatal(new StreamError('internal-server-error'));
    });
  }

  // --- closing (RFC 6120 §4.4) ----------------------------------------------------------------

  /** Fatal stream error: send it, close our stream, drop the connection soon. */
  fatal(err: StreamError): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    const level = (['internal-server-error'] as StreamErrorCondition[]).includes(err.condition) ? 'error' : 'info';
    this.log[level]({ condition: err.condition, text: err.text }, 'stream error');
    this.close(err);
  }

  close(err?: StreamError): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (!this.headerSent) this.sendHeader(this.host?.domain ?? this.server.config.hosts[0]!.domain, undefined);
    if (err) this.transport.write(this.framing.element(err.toElement()));
    this.transport.write(this.framing.close);
    this.state = 'closing';
    this.parser.stop();
    this.unregister({ cause: 'server-closed', error: err, reason: err ? err.condition : 'closed by server' });
    // Wait briefly for the peer's </stream:stream> (RFC 6120 §4.4), then drop the connection.
    this.transport.end();
    this.closeTimer = setTimeout(() => this.transport.destroy(), this.server.config.limits.closeTimeout * 1000);
    this.closeTimer.unref();
  }

  /**
   * Elements received before the peer's close are still processed (a BOSH terminate request
   * carries its final presence, XEP-0124 §13): the close waits for the queue to drain.
   */
  private onStreamClose(): void {
    if (this.pumping || this.queue.length) this.closeAfterQueue = true; else this.onPeerClose();
  }

  private onPeerClose(): void {
    if (this.state === 'closing') { this.transport.end(); return; }
    this.transport.write(this.framing.close);
    this.state = 'closing';
    this.unregister({ cause: 'client-closed', reason: 'closed by client' });
    this.transport.end();
    this.closeTimer = setTimeout(() => this.transport.destroy(), this.server.config.limits.closeTimeout * 1000);
    this.closeTimer.unref();
  }

  /** Stanzas the transport never handed over (./../transports/transport.ts onUndelivered). */
  private onUndelivered(chunks: string[]): void {
    const session = this.session;
    if (!session) return;
    const stanzas: Element[] = [];
    for (const c of chunks) {
      try { const el = parseFragment(c); if (STANZA_KINDS.has(el.name)) stanzas.push(el); } catch { /* our own output: cannot be malformed */ }
    }
    if (stanzas.length) this.background(this.server.hooks.emit('session/undelivered', { session, stanzas }), 'session/undelivered');
  }

  private onTransportClosed(err?: Error): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const wasClosing = this.state === 'closing';
    this.state = 'closed';
    this.parser.stop();
    this.queue.length = 0;
    if (!wasClosing) this.unregister({ cause: 'lost', reason: err ? `connection error: ${err.message}` : 'connection lost' });
  }

  private unregister(ending: StreamEnding): void {
    const s = this.session;
    if (!s || s.closed) return;
    if (s.hibernation?.(ending)) {
      // Kept registered with its presence; it ends when the module closes it (or it resumes).
      const server = this.server;
      const log = this.log;
      const placeholder: SessionStream = {
        write: () => {},
        close: (error) => endSession(server, s, log, error, 'hibernation ended'),
        transport: { secure: this.transport.secure, remoteAddress: this.transport.remoteAddress },
      };
      s.suspend(placeholder);
      this.session = undefined;
      log.info({ reason: ending.reason }, 'session suspended');
      void server.hooks.emit('session/suspended', { session: s }).catch((e) => log.error({ err: e }, 'session/suspended handler failed'));
      return;
    }
    endSession(this.server, s, this.log, ending.error, ending.reason);
  }

  /** Keepalive sweep (called by the server's timer): negotiation and idle timeouts. */
  tick(now: number): void {
    const l = this.server.config.limits;
    if (this.state === 'closing' || this.state === 'closed') return;
    if (!this.session && now - this.openedAt > l.negotiationTimeout * 1000) return this.fatal(new StreamError('connection-timeout', 'negotiation took too long'));
    if (this.stanzaStartedAt && now - this.stanzaStartedAt > l.stanzaTimeout * 1000) return this.fatal(new StreamError('policy-violation', 'a stanza took too long to arrive'));
    const idle = now - this.lastReceived;
    if (this.pingOutstanding && idle > (l.idleTimeout + l.pingTimeout) * 1000) return this.fatal(new StreamError('connection-timeout'));
    if (!this.pingOutstanding && this.session && idle > l.idleTimeout * 1000) {
      this.pingOutstanding = true;
      this.session.sendRaw(xml('iq', NS.CLIENT, { type: 'get', id: 'keepalive-' + now, from: this.host!.domain, to: this.session.jid.toString() }, xml('ping', NS.PING)));
    }
  }
}

/** Unregister a session for good and announce it (presence modules broadcast unavailable). */
function endSession(server: ServerCore, s: LocalClientSession, log: Logger, error: StreamError | undefined, reason: string): void {
  if (s.closed) return;
  s.markClosed();
  server.sessions.remove(s);
  log.info({ reason }, 'session ended');
  void server.hooks.emit('session/closed', { session: s, error, reason }).catch((e) => log.error({ err: e }, 'session/closed handler failed'));
}
