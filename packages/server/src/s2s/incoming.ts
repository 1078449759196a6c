// An incoming server-to-server stream (RFC 6120 §4–§8 with jabber:server content): the stream
// header (the `to` domain must be hosted here), STARTTLS (§5), SASL EXTERNAL with the peer's
// certificate (§6, XEP-0178 §3), Server Dialback as receiving server (db:result, XEP-0220
// §2.1–2.4) and as authoritative server (db:verify answered with our keys, XEP-0185), and then
// stanzas, each accepted only for a (from domain, to domain) pair this stream authenticated:
// several pairs may share one connection (dialback for each extra pair, XEP-0220 §2.5).
// Dialback verification runs beside the element queue, never blocking it: two servers that
// verify each other at once would otherwise wait on each other forever.

import { randomBytes } from 'node:crypto';
import { Element, xml } from '@magpie/core/xml/element';
import type { StreamOpenInfo } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError, StreamError, type StanzaErrorCondition } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import type { Transport } from '../transports/transport.js';
import type { Limits } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { openStreamTag, parseVersion } from '../stream/stream-header.js';
import { S2SXmlStream } from './xml-stream.js';
import { acceptStanza } from './stanza-intake.js';
import { NS_BIDI, NS_BIDI_FEATURE } from './bidi.js';
import { certificateValidFor } from './trust.js';
import type { S2SContext } from './context.js';

const STANZA_KINDS = new Set(['message', 'presence', 'iq']);
/** Dialback requests one stream may have waiting for their authoritative server at once. */
const MAX_PENDING_DIALBACK = 10;

export class S2SIncoming extends S2SXmlStream {
  id = '';
  /** The hosted domain the peer addressed in its stream header. */
  localDomain: string | undefined;
  /** The `from` of the peer's stream header, when given. */
  peerDomain: string | undefined;
  /** Authenticated pairs: remote domain → (local domain → how it authenticated). */
  readonly pairs = new Map<string, Map<string, string>>();
  private saslDone = false;
  private pendingDialback = 0;

  /** Told of each pair authenticated on this stream (the manager routes bidi traffic by it). */
  onPair: (remote: string, local: string) => void = () => {};

  constructor(private readonly ctx: S2SContext, private readonly transport: Transport, log: Logger, limits: Limits) {
    super(transport, log, limits);
  }

  get authenticated(): boolean { return this.pairs.size > 0; }
  isAuthorized(from: string, to: string): boolean { return this.pairs.get(from)?.has(to) ?? false; }

  private authorize(from: string, to: string, how: string): void {
    let s = this.pairs.get(from);
    if (!s) { s = new Map(); this.pairs.set(from, s); }
    s.set(to, how);
    this.log = this.log.child({ remote: from });
    this.log.info({ local: to, method: how, bidi: this.bidi }, 'incoming s2s stream authenticated');
    this.onPair(from, to);
  }

  // --- stream header (RFC 6120 §4.7, §4.8) ----------------------------------------------------

  protected onStreamOpen(info: StreamOpenInfo): void {
    this.id = randomBytes(12).toString('hex');
    const to = info.attrs.to !== undefined ? JID.tryParse(info.attrs.to) : undefined;
    const from = info.attrs.from !== undefined ? JID.tryParse(info.attrs.from) : undefined;
    const local = to?.isDomain && this.ctx.isServedDomain(to.domain) ? to.domain : undefined;
    this.sendHeader(local ?? this.localDomain, from?.isDomain ? from.domain : undefined);
    if (info.xmlns !== NS.STREAM || info.name !== 'stream') throw new StreamError('invalid-namespace', 'the root must be <stream> in ' + NS.STREAM);
    if (info.defaultNs !== NS.SERVER) throw new StreamError('invalid-namespace', 'the content namespace must be jabber:server');
    if (!local) throw new StreamError('host-unknown', 'this server does not serve that domain');
    if (this.localDomain && local !== this.localDomain) throw new StreamError('host-unknown', 'the domain changed during negotiation');
    if (info.attrs.from !== undefined && !from?.isDomain) throw new StreamError('invalid-from', 'the stream "from" must be a domain');
    const version = parseVersion(info.attrs.version);
    if (!version || version[0] < 1) throw new StreamError('unsupported-version', 'XMPP 1.0 or later is required');
    if (this.ctx.stopping) throw new StreamError('system-shutdown');
    // After SASL the peer is who it authenticated as (RFC 6120 §6.4.6).
    if (this.saslDone && from && !this.pairs.has(from.domain)) throw new StreamError('invalid-from', 'not the authenticated domain');
    this.localDomain = local;
    this.peerDomain = from?.domain ?? this.peerDomain;
    this.write(this.features());
  }

  private sendHeader(from: string | undefined, to: string | undefined): void {
    this.writeRaw(openStreamTag({ id: this.id || randomBytes(12).toString('hex'), from, to, lang: 'en', contentNs: NS.SERVER, extraNs: { db: NS.DIALBACK } }));
    this.headerSent = true;
  }

  protected sendHeaderIfNeeded(): void { if (!this.headerSent) this.sendHeader(this.localDomain ?? this.ctx.config.hosts[0]!.domain, undefined); }

  private features(): Element {
    const f = xml('features', NS.STREAM);
    const policy = this.ctx.policy(this.peerDomain);
    const secure = this.transport.secure;
    if (!secure && this.transport.canStartTls) {
      const st = f.c('starttls', {}, NS.TLS);
      if (policy.requireTls) st.c('required');
    }
    if (this.ctx.config.s2s.bidi && !this.saslDone) f.c('bidi', {}, NS_BIDI_FEATURE);
    if (this.saslDone || (!secure && policy.requireTls)) return f;
    // EXTERNAL only when it would succeed: a chain we trust that names the claimed domain.
    if (this.peerDomain && certificateValidFor(this.transport.peerCertificate(), this.peerDomain)) {
      f.c('mechanisms', {}, NS.SASL).c('mechanism').t('EXTERNAL');
    }
    if (policy.allowDialback) f.c('dialback', {}, NS.DIALBACK_FEATURES).c('errors');
    return f;
  }

  // --- elements -------------------------------------------------------------------------------

  protected async process(el: Element): Promise<void> {
    if (el.xmlns === NS.TLS && el.name === 'starttls') return this.startTls();
    if (el.xmlns === NS_BIDI && el.name === 'bidi') {
      if (!this.ctx.config.s2s.bidi || this.authenticated) throw new StreamError('unsupported-stanza-type', 'bidirectional streams are not offered here');
      this.bidi = true;
      return;
    }
    if (el.xmlns === NS.SASL) return this.sasl(el);
    if (el.xmlns === NS.DIALBACK && el.name === 'result') return this.dialbackResult(el);
    if (el.xmlns === NS.DIALBACK && el.name === 'verify') return this.dialbackVerify(el);
    if (STANZA_KINDS.has(el.name) && el.xmlns === NS.SERVER) return this.stanza(el);
    if (STANZA_KINDS.has(el.name) && !this.authenticated) throw new StreamError('not-authorized', 'authenticate first');
    throw new StreamError('unsupported-stanza-type', `<${el.name}/> is not expected here`);
  }

  private async startTls(): Promise<void> {
    if (this.transport.secure || !this.transport.canStartTls) {
      this.write(xml('failure', NS.TLS));
      return this.close(undefined, 'STARTTLS refused');
    }
    this.write(xml('proceed', NS.TLS));
    this.restartParser();
    try { await this.transport.startTls(); } catch (e) {
      this.log.info({ err: (e as Error).message }, 'TLS handshake failed');
      this.transport.destroy();
      return;
    }
    this.log.debug('TLS established');
  }

  // --- SASL EXTERNAL (RFC 6120 §6, XEP-0178 §3) ------------------------------------------------

  private saslFailure(condition: string): void {
    this.write(xml('failure', NS.SASL, {}, xml(condition, NS.SASL)));
  }

  private async sasl(el: Element): Promise<void> {
    if (el.name !== 'auth') { if (el.name === 'abort') return this.saslFailure('aborted'); return this.saslFailure('malformed-request'); }
    if (this.saslDone) throw new StreamError('policy-violation', 'already authenticated');
    if (!this.transport.secure) return this.saslFailure('encryption-required');
    if (el.attr('mechanism') !== 'EXTERNAL') return this.saslFailure('invalid-mechanism');
    const text = el.text().trim();
    let claimed = this.peerDomain;
    if (text !== '' && text !== '=') {
      const decoded = Buffer.from(text, 'base64').toString('utf8');
      const j = JID.tryParse(decoded);
      if (!j?.isDomain) return this.saslFailure('invalid-authzid');
      if (this.peerDomain && j.domain !== this.peerDomain) return this.saslFailure('invalid-authzid');
      claimed = j.domain;
    }
    if (!claimed || this.ctx.isServedDomain(claimed) || !certificateValidFor(this.transport.peerCertificate(), claimed)) {
      this.log.info({ claimed }, 'SASL EXTERNAL refused: no valid certificate for the domain');
      return this.saslFailure('not-authorized');
    }
    this.write(xml('success', NS.SASL));
    this.saslDone = true;
    this.peerDomain = claimed;
    this.authorize(claimed, this.localDomain!, 'SASL EXTERNAL');
    this.restartParser();
  }

  // --- dialback, receiving server (XEP-0220 §2.1.2, §2.3) --------------------------------------

  private dialbackError(name: 'result' | 'verify', from: string | undefined, to: string | undefined, id: string | undefined, cond: StanzaErrorCondition, text?: string): void {
    this.write(xml(name, NS.DIALBACK, { from, to, id, type: 'error' }, new StanzaError(cond, text).toElement(NS.DIALBACK)));
  }

  private async dialbackResult(el: Element): Promise<void> {
    if (el.attr('type') !== undefined) throw new StreamError('not-authorized', 'a dialback answer nobody asked for');
    const from = JID.tryParse(el.attr('from') ?? '');
    const to = JID.tryParse(el.attr('to') ?? '');
    if (!from?.isDomain || !to?.isDomain) throw new StreamError('improper-addressing', 'db:result needs domain from and to');
    const remote = from.domain; const local = to.domain;
    // Answers go from our domain to theirs (XEP-0220 §2.1.2).
    if (!this.ctx.isServedDomain(local)) return this.dialbackError('result', local, remote, undefined, 'item-not-found', 'that domain is not served here');
    // Nobody else speaks for a domain hosted here.
    if (this.ctx.isServedDomain(remote)) return this.dialbackError('result', local, remote, undefined, 'not-authorized', 'that domain is served here');
    const policy = this.ctx.policy(remote);
    if (!policy.allowDialback) return this.dialbackError('result', local, remote, undefined, 'not-allowed', 'dialback is not accepted from that domain');
    if (policy.requireTls && !this.transport.secure) return this.dialbackError('result', local, remote, undefined, 'policy-violation', 'TLS is required');
    if (policy.requireValidCert && !certificateValidFor(this.transport.peerCertificate(), remote)) {
      return this.dialbackError('result', local, remote, undefined, 'not-authorized', 'a valid certificate is required');
    }
    if (this.pendingDialback >= MAX_PENDING_DIALBACK) return this.dialbackError('result', local, remote, undefined, 'resource-constraint', 'too many requests in flight');
    const key = el.text().trim();
    this.pendingDialback++;
    void this.ctx.verifyKey(local, remote, this.id, key).then((outcome) => {
      this.pendingDialback--;
      if (this.state !== 'open') return;
      if (outcome === 'valid') {
        this.authorize(remote, local, 'dialback');
        this.write(xml('result', NS.DIALBACK, { from: local, to: remote, type: 'valid' }));
        return;
      }
      if (outcome === 'invalid') {
        this.log.warn({ remote, local }, 'dialback key refused by the authoritative server');
        this.write(xml('result', NS.DIALBACK, { from: local, to: remote, type: 'invalid' }));
        // Nothing else to trust on a stream whose only claim failed (XEP-0220 §2.3.2).
        if (!this.authenticated) this.close(new StreamError('not-authorized', 'dialback failed'), 'dialback failed');
        return;
      }
      this.dialbackError('result', local, remote, undefined, outcome, 'the authoritative server could not be asked');
    }, (e: unknown) => {
      this.pendingDialback--;
      this.log.error({ err: e }, 'dialback verification failed');
      if (this.state === 'open') this.dialbackError('result', local, remote, undefined, 'internal-server-error');
    });
  }

  // --- dialback, authoritative server (XEP-0220 §2.2, §2.4) ------------------------------------

  private async dialbackVerify(el: Element): Promise<void> {
    if (el.attr('type') !== undefined) throw new StreamError('not-authorized', 'a dialback answer nobody asked for');
    const from = el.attr('from'); const to = el.attr('to'); const id = el.attr('id');
    const f = JID.tryParse(from ?? ''); const t = JID.tryParse(to ?? '');
    if (!f?.isDomain || !t?.isDomain || !id) throw new StreamError('improper-addressing', 'db:verify needs domain from and to and an id');
    if (!this.ctx.isServedDomain(t.domain)) return this.dialbackError('verify', t.domain, f.domain, id, 'item-not-found', 'that domain is not served here');
    // The key was made for (receiving = the asker, originating = our domain, their stream id).
    const ok = this.ctx.keys.verify(f.domain, t.domain, id, el.text());
    this.log.info({ receiving: f.domain, originating: t.domain, valid: ok }, 'dialback key checked as authoritative server');
    this.write(xml('verify', NS.DIALBACK, { from: t.domain, to: f.domain, id, type: ok ? 'valid' : 'invalid' }));
  }

  // --- stanzas (RFC 6120 §8, §13.9) ------------------------------------------------------------

  private async stanza(el: Element): Promise<void> {
    if (!this.authenticated) throw new StreamError('not-authorized', 'authenticate first');
    this.lastActivity = Date.now();
    await acceptStanza(this.ctx, el, { knowsRemote: (d) => this.pairs.has(d), isAuthorized: (r, l) => this.isAuthorized(r, l) }, this.id);
  }

  // --- XEP-0288 bidirectional use ---------------------------------------------------------------

  /** The peer asked to receive our stanzas on this stream (before authenticating). */
  bidi = false;

  /** Send a stanza to the peer on its own stream (bidi: only for pairs it authenticated). */
  send(stanza: Element): void {
    this.lastActivity = Date.now();
    this.write(stanza);
  }

  protected onEnded(): void { /* the manager listens through onceEnded */ }

  /** Timers (called by the manager's sweep). */
  tick(now: number): void {
    if (this.state !== 'open') return;
    const s = this.ctx.config.s2s;
    if (!this.authenticated && now - this.openedAt > s.authTimeout * 1000 && this.pendingDialback === 0) {
      this.fatal(new StreamError('connection-timeout', 'authentication took too long'));
    } else if (this.authenticated && now - this.lastActivity > s.idleTimeout * 1000) {
      this.close(undefined, 'idle');
    }
  }
}
