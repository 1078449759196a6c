// The external component stream (XEP-0114 §3, jabber:component:accept): the component opens a
// stream to its own domain, proves the shared secret with <handshake/> = hex SHA-1(stream id +
// secret), then exchanges stanzas that must carry `from` (at its domain) and `to`, like a
// server-to-server stream (RFC 6120 §4.9.3.7, §4.9.3.10). Parser limits, header checks and
// timeouts are those of client streams. One connection per component domain: a second one is
// refused with <conflict/> while the first is up (XEP-0114 §3 allows either side to give way;
// refusing the newcomer keeps a working component from being kicked by a stale config).
// Stanzas are jabber:client inside the server: the stream's namespace is mapped at the edge.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Element, serialize, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError, StreamError, errorReply } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import { escapeAttr } from '@magpie/core/xml/escape';
import type { StreamOpenInfo } from '@magpie/core/xml/parser';
import type { Transport } from '../transports/transport.js';
import type { ServerCore } from '../server-core.js';
import type { Logger } from '../log/logger.js';
import type { ComponentLink, ComponentRouter } from '../router/components.js';
import { xmlStreamFraming, type InputFramer } from './framing.js';
import { CLOSE_STREAM, validLang } from './stream-header.js';

type State = 'header' | 'handshake' | 'ready' | 'closing' | 'closed';
const STANZA_KINDS = new Set(['message', 'presence', 'iq']);
const IQ_TYPES = new Set(['get', 'set', 'result', 'error']);
const MAX_PENDING = 1000;

/** The handshake value a component must send (XEP-0114 §3): lowercase hex SHA-1(id + secret). */
export function handshakeDigest(streamId: string, secret: string): string {
  return createHash('sha1').update(streamId + secret, 'utf8').digest('hex');
}

/** Constant-time comparison whatever the lengths: compare digests of both sides. */
function sameSecret(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(h(a), h(b)) && a.length === b.length;
}

/** Stanzas arrive in the stream's namespace; inside the server they are jabber:client. */
function toClientNs(el: Element): Element {
  if (el.xmlns === NS.COMPONENT) el.xmlns = NS.CLIENT;
  for (const c of el.children) if (typeof c !== 'string') toClientNs(c);
  return el;
}

export class ComponentStream implements ComponentLink {
  id = '';
  domain = '';
  state: State = 'header';
  log: Logger;
  readonly openedAt = Date.now();
  private stanzaStartedAt = 0;
  private headerSent = false;
  private parser: InputFramer;
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private paused = false;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(readonly server: ServerCore, private readonly components: ComponentRouter, readonly transport: Transport) {
    this.log = server.log.child({ conn: transport.id, addr: transport.remoteAddress, stream: 'component' });
    const l = server.config.limits;
    this.parser = xmlStreamFraming.createInput({
      onStreamOpen: (info) => this.onStreamOpen(info),
      onElement: (el) => this.onElement(el),
      onStreamClose: () => this.onPeerClose(),
      onError: (cond, text) => this.fatal(new StreamError(cond, text)),
    }, { maxStanzaBytes: l.maxStanzaBytes, maxDepth: l.maxDepth, maxAttributes: l.maxAttributes, maxNameLength: l.maxNameLength, maxHeaderBytes: l.maxHeaderBytes });
    transport.onData = (chunk) => {
      this.parser.write(chunk);
      if (!this.parser.inStanza) this.stanzaStartedAt = 0;
      else if (this.stanzaStartedAt === 0) this.stanzaStartedAt = Date.now();
    };
    transport.onClose = (err) => this.onTransportClosed(err);
  }

  // --- stream header (XEP-0114 §3; checks as RFC 6120 §4.8, §4.9.3) ---------------------------

  private onStreamOpen(info: StreamOpenInfo): void {
    if (this.state !== 'header') return this.fatal(new StreamError('invalid-xml', 'a component stream is never restarted'));
    this.id = randomBytes(16).toString('hex');
    const to = info.attrs.to !== undefined ? JID.tryParse(info.attrs.to) : undefined;
    const domain = to?.isDomain && this.components.isConfigured(to.domain) ? to.domain : undefined;
    this.sendHeader(domain ?? this.server.config.hosts[0]!.domain);
    if (info.xmlns !== NS.STREAM || info.name !== 'stream') return this.fatal(new StreamError('invalid-namespace', 'the root must be <stream> in ' + NS.STREAM));
    if (info.defaultNs !== NS.COMPONENT) return this.fatal(new StreamError('invalid-namespace', 'the content namespace must be ' + NS.COMPONENT));
    if (info.attrs.to === undefined) return this.fatal(new StreamError('host-unknown', 'no "to" address'));
    if (!domain) return this.fatal(new StreamError('host-unknown', 'no component is configured for that domain'));
    const lang = info.attrs['xml:lang'];
    if (lang !== undefined && !validLang(lang)) return this.fatal(new StreamError('bad-format', 'invalid xml:lang'));
    if (this.server.stopping) return this.fatal(new StreamError('system-shutdown'));
    this.domain = domain;
    this.log = this.log.child({ component: domain });
    this.state = 'handshake';
    this.log.info('component connected');
  }

  /** XEP-0114's header: no version (the protocol predates XMPP 1.0 stream features). */
  private sendHeader(from: string): void {
    this.transport.write(`<?xml version='1.0'?><stream:stream xmlns:stream='${NS.STREAM}' xmlns='${NS.COMPONENT}' id='${escapeAttr(this.id || randomBytes(16).toString('hex'))}' from='${escapeAttr(from)}'>`);
    this.headerSent = true;
  }

  // --- element intake, strictly in arrival order ----------------------------------------------

  private onElement(el: Element): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (this.state === 'handshake') return this.handshake(el);
    this.pending++;
    // Back-pressure: stop reading while routing is behind a fast component.
    if (this.pending > MAX_PENDING && !this.paused) { this.paused = true; this.transport.pause(); }
    this.chain = this.chain.then(() => this.stanza(toClientNs(el))).catch((e: unknown) => {
      if (e instanceof StreamError) return this.fatal(e);
      this.log.error({ err: e }, 'error while routing a stanza from a component');
      this.reject(el, new StanzaError('internal-server-error'));
    }).finally(() => {
      this.pending--;
      if (this.paused && this.pending < MAX_PENDING / 2) { this.paused = false; this.transport.resume(); }
    });
  }

  private handshake(el: Element): void {
    if (el.name !== 'handshake' || el.xmlns !== NS.COMPONENT) return this.fatal(new StreamError('not-authorized', 'send <handshake/> first'));
    const secret = this.components.secretOf(this.domain);
    const given = el.text().trim();
    if (secret === undefined || !sameSecret(given, handshakeDigest(this.id, secret))) {
      this.components.authFailed();
      this.log.warn('component handshake failed');
      return this.fatal(new StreamError('not-authorized', 'handshake failed'));
    }
    if (!this.components.attach(this)) {
      this.log.warn('component already connected; refusing the new connection');
      return this.fatal(new StreamError('conflict', `${this.domain} is already connected`));
    }
    this.attached = true;
    this.state = 'ready';
    this.transport.write(`<handshake/>`);
    this.log.info('component authenticated');
  }

  private async stanza(el: Element): Promise<void> {
    if (this.state !== 'ready') return;
    if (!STANZA_KINDS.has(el.name) || el.xmlns !== NS.CLIENT) throw new StreamError('unsupported-stanza-type', `<${el.name}/> is not a stanza`);
    // XEP-0114 §3: `from` and `to` are mandatory; `from` must be at the component's domain.
    if (el.attrs.from === undefined) throw new StreamError('improper-addressing', 'a stanza from a component needs a "from" address');
    const from = JID.tryParse(el.attrs.from);
    if (!from || from.domain !== this.domain) throw new StreamError('invalid-from', `"from" must be at ${this.domain}`);
    if (el.attrs.to === undefined) throw new StreamError('improper-addressing', 'a stanza from a component needs a "to" address');
    el.attrs.from = from.toString();
    const to = JID.tryParse(el.attrs.to);
    if (!to) { el.attrs.to = this.server.config.hosts[0]!.domain; return this.reject(el, new StanzaError('jid-malformed', 'the "to" address is not a valid JID')); }
    el.attrs.to = to.toString();
    const type = el.attrs.type;
    if (el.name === 'iq') {
      if (!el.attrs.id || type === undefined || !IQ_TYPES.has(type)) return this.reject(el, new StanzaError('bad-request', 'an iq needs an id and a type of get, set, result or error'));
      if ((type === 'get' || type === 'set') && el.elements().length !== 1) return this.reject(el, new StanzaError('bad-request', 'an iq get or set carries exactly one child'));
    }
    this.components.received();
    await this.server.router.route(el, { kind: 'component', domain: this.domain }, from, to);
  }

  /** A stanza error answered on this stream, from the address the stanza was sent to. */
  private reject(el: Element, err: StanzaError): void {
    const reply = errorReply(toClientNs(el), err);
    if (reply) this.send(reply);
  }

  // --- output ---------------------------------------------------------------------------------

  send(stanza: Element): void {
    if (this.state !== 'ready') return;
    // Serialised as if its own namespace were inherited: the stanza lands in the stream's
    // default namespace (jabber:component:accept) without an xmlns of its own.
    this.transport.write(serialize(stanza, stanza.xmlns));
    if (this.transport.bufferedBytes > this.server.config.limits.maxOutboundBuffer) {
      this.log.warn({ buffered: this.transport.bufferedBytes }, 'component is not reading; closing');
      this.fatal(new StreamError('policy-violation', 'too much unread data'));
    }
  }

  // --- closing (RFC 6120 §4.4) ----------------------------------------------------------------

  fatal(err: StreamError): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.log[err.condition === 'internal-server-error' ? 'error' : 'info']({ condition: err.condition, text: err.text }, 'stream error');
    this.close(err);
  }

  close(err?: StreamError): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    if (!this.headerSent) this.sendHeader(this.domain || this.server.config.hosts[0]!.domain);
    if (err) this.transport.write(serialize(err.toElement(), NS.COMPONENT));
    this.transport.write(CLOSE_STREAM);
    this.ending(err ? err.condition : 'closed by server');
  }

  private onPeerClose(): void {
    if (this.state === 'closing') { this.transport.end(); return; }
    this.transport.write(CLOSE_STREAM);
    this.ending('closed by component');
  }

  private ending(reason: string): void {
    this.state = 'closing';
    this.parser.stop();
    this.detach(reason);
    // Wait briefly for the peer's </stream:stream> (RFC 6120 §4.4), then drop the connection.
    this.transport.end();
    this.closeTimer = setTimeout(() => this.transport.destroy(), this.server.config.limits.closeTimeout * 1000);
    this.closeTimer.unref();
  }

  private onTransportClosed(err?: Error): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    const wasClosing = this.state === 'closing';
    this.state = 'closed';
    this.parser.stop();
    if (!wasClosing) this.detach(err ? `connection error: ${err.message}` : 'connection lost');
  }

  private attached = false;
  private detach(reason: string): void {
    if (!this.attached) return;
    this.attached = false;
    this.components.detach(this);
    this.log.info({ reason }, 'component disconnected');
  }

  /** Called every second by the server: handshake and stanza timeouts (no idle ping). */
  tick(now: number): void {
    if (this.state === 'closing' || this.state === 'closed') return;
    const l = this.server.config.limits;
    if (this.state !== 'ready' && now - this.openedAt > l.negotiationTimeout * 1000) return this.fatal(new StreamError('connection-timeout', 'handshake took too long'));
    if (this.stanzaStartedAt && now - this.stanzaStartedAt > l.stanzaTimeout * 1000) this.fatal(new StreamError('policy-violation', 'a stanza took too long to arrive'));
  }
}
