// An outgoing server-to-server stream, for one (local domain → remote domain) pair (RFC 6120
// §4–§6): our header, the peer's features, STARTTLS (required unless the domain's policy says
// otherwise), then SASL EXTERNAL when the peer offers it and our certificate is one an operator
// configured (XEP-0178 §2), else Server Dialback as originating server with a XEP-0185 key
// (XEP-0220 §2.1.1). The same stream carries our db:verify questions as receiving server
// (XEP-0220 §2.2) once TLS is settled, whether or not it is authenticated itself.

import { Element, xml } from '@magpie/core/xml/element';
import type { StreamOpenInfo } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import { StreamError, type StanzaErrorCondition } from '@magpie/core/protocol/errors';
import type { Limits } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { openStreamTag, parseVersion } from '../stream/stream-header.js';
import { S2SXmlStream } from './xml-stream.js';
import { certificateValidFor } from './trust.js';
import type { OutgoingSocket } from './outgoing-socket.js';
import type { S2SContext, VerifyOutcome } from './context.js';
import { acceptStanza } from './stanza-intake.js';
import { NS_BIDI, NS_BIDI_FEATURE } from './bidi.js';

const STANZA_KINDS = new Set(['message', 'presence', 'iq']);

/** Why a stream could not be authenticated; `condition` is what queued stanzas bounce with. */
export class SetupError extends Error {
  constructor(readonly condition: StanzaErrorCondition, message: string) { super(message); }
}

export interface VerifyRequest { id: string; key: string; done(outcome: VerifyOutcome): void }

type Phase = 'header' | 'tls' | 'auth-sasl' | 'auth-dialback' | 'ready' | 'failed';

export class S2SOutgoing extends S2SXmlStream {
  /** The id of the peer's current stream header (dialback keys are bound to it). */
  id = '';
  phase: Phase = 'header';
  method: 'SASL EXTERNAL' | 'dialback' | undefined;
  /** XEP-0288 requested: the peer may send its stanzas back on this stream. */
  bidi = false;
  private peerDeclaredDialback = false;
  private triedSasl = false;
  private settled = false;
  private readyResolve!: () => void;
  private readyReject!: (e: SetupError) => void;
  /** Resolves once stanzas may flow; rejects with why they cannot. */
  readonly ready: Promise<void>;
  private verifyOpen = false;
  private readonly verifies = new Map<string, VerifyRequest>();
  private readonly waitingVerifies: VerifyRequest[] = [];

  constructor(private readonly ctx: S2SContext, private readonly socket: OutgoingSocket, readonly local: string, readonly remote: string, log: Logger, limits: Limits) {
    super(socket, log, limits);
    this.ready = new Promise<void>((res, rej) => { this.readyResolve = res; this.readyReject = rej; });
    this.ready.catch(() => {}); // observed by the manager; never an unhandled rejection
  }

  get policy() { return this.ctx.policy(this.remote); }

  start(): void { this.sendHeader(); }

  private sendHeader(): void {
    // The initiating entity sends no id (RFC 6120 §4.7.3: the receiving entity chooses it).
    this.writeRaw(openStreamTag({ id: '', from: this.local, to: this.remote, lang: 'en', contentNs: NS.SERVER, extraNs: { db: NS.DIALBACK } }).replace(" id=''", ''));
    this.headerSent = true;
  }

  protected sendHeaderIfNeeded(): void { if (!this.headerSent) this.sendHeader(); }

  protected onStreamOpen(info: StreamOpenInfo): void {
    if (info.xmlns !== NS.STREAM || info.name !== 'stream') throw new StreamError('invalid-namespace');
    if (info.defaultNs !== NS.SERVER) throw new StreamError('invalid-namespace', 'the content namespace must be jabber:server');
    const v = parseVersion(info.attrs.version);
    if (!v || v[0] < 1) throw new StreamError('unsupported-version', 'XMPP 1.0 or later is required');
    if (!info.attrs.id) throw new StreamError('invalid-xml', 'a stream id is required');
    this.id = info.attrs.id;
    this.peerDeclaredDialback = info.prefixes.db === NS.DIALBACK;
  }

  protected async process(el: Element): Promise<void> {
    if (el.xmlns === NS.STREAM && el.name === 'features') return this.onFeatures(el);
    if (el.xmlns === NS.STREAM && el.name === 'error') {
      const cond = el.elements().find((c) => c.xmlns === NS.STREAMS && c.name !== 'text')?.name;
      this.log.info({ condition: cond, text: el.getChildText('text', NS.STREAMS) }, 'peer sent a stream error');
      this.fail(cond === 'connection-timeout' ? 'remote-server-timeout' : 'remote-server-not-found', `stream error ${cond}`);
      return;
    }
    if (el.xmlns === NS.TLS) return this.onTls(el);
    if (el.xmlns === NS.SASL) return this.onSasl(el);
    if (el.xmlns === NS.DIALBACK && el.name === 'result') return this.onResult(el);
    if (el.xmlns === NS.DIALBACK && el.name === 'verify') return this.onVerify(el);
    if (this.bidi && this.phase === 'ready' && el.xmlns === NS.SERVER && STANZA_KINDS.has(el.name)) {
      // The peer is the server we resolved and connected to (and, with TLS, checked): it may
      // send for its domain to ours.
      this.lastActivity = Date.now();
      const mine = (r: string, l: string) => r === this.remote && l === this.local;
      return acceptStanza(this.ctx, el, { knowsRemote: (d) => d === this.remote, isAuthorized: mine }, this.id);
    }
    throw new StreamError('unsupported-stanza-type', `<${el.name}/> is not expected on an outgoing stream`);
  }

  // --- negotiation ----------------------------------------------------------------------------

  private async onFeatures(f: Element): Promise<void> {
    if (this.phase === 'ready') return;
    this.lastFeatures = f;
    const policy = this.policy;
    if (!this.socket.secure) {
      if (f.getChild('starttls', NS.TLS)) { this.phase = 'tls'; this.write(xml('starttls', NS.TLS)); return; }
      if (policy.requireTls) return this.fail('remote-server-not-found', 'the peer does not offer TLS and our policy requires it');
    } else {
      const valid = certificateValidFor(this.socket.peerCertificate(), this.remote);
      if (policy.requireValidCert && !valid) return this.fail('remote-server-not-found', 'the peer certificate is not valid for the domain');
      this.log.debug({ certificateValid: valid }, 'TLS in place');
    }
    this.openVerifies();
    if (this.phase === 'auth-sasl' && this.method === 'SASL EXTERNAL') return this.becomeReady();
    // XEP-0288 §2.2: ask for bidirectionality before authenticating (after TLS).
    if (!this.bidi && this.ctx.config.s2s.bidi && f.getChild('bidi', NS_BIDI_FEATURE)) {
      this.bidi = true;
      this.write(xml('bidi', NS_BIDI));
    }
    const mechs = f.getChild('mechanisms', NS.SASL)?.getChildren('mechanism', NS.SASL).map((m) => m.text().trim()) ?? [];
    if (!this.triedSasl && this.socket.secure && mechs.includes('EXTERNAL') && this.ctx.hasConfiguredCertificate(this.local)) {
      this.triedSasl = true;
      this.phase = 'auth-sasl';
      this.write(xml('auth', NS.SASL, { mechanism: 'EXTERNAL' }, Buffer.from(this.local).toString('base64')));
      return;
    }
    this.startDialback(f);
  }

  private startDialback(f: Element | undefined): void {
    const offered = (f !== undefined && f.getChild('dialback', NS.DIALBACK_FEATURES) !== undefined) || this.peerDeclaredDialback;
    if (!offered) return this.fail('remote-server-not-found', 'no authentication method in common');
    if (!this.policy.allowDialback) return this.fail('remote-server-not-found', 'dialback is not allowed with that domain and SASL EXTERNAL did not work');
    this.phase = 'auth-dialback';
    this.write(xml('result', NS.DIALBACK, { from: this.local, to: this.remote }, this.ctx.keys.generate(this.remote, this.local, this.id)));
  }

  private lastFeatures: Element | undefined;

  private async onTls(el: Element): Promise<void> {
    if (this.phase !== 'tls') throw new StreamError('unsupported-stanza-type');
    if (el.name !== 'proceed') return this.fail('remote-server-not-found', 'the peer refused STARTTLS');
    this.restartParser();
    try {
      await this.socket.startTls(this.ctx.clientTls(this.local, this.remote), this.ctx.config.s2s.connectTimeout * 1000);
    } catch (e) {
      this.fail('remote-server-not-found', `TLS handshake failed: ${(e as Error).message}`);
      this.socket.destroy();
      return;
    }
    this.phase = 'header';
    this.sendHeader();
  }

  private async onSasl(el: Element): Promise<void> {
    if (this.phase !== 'auth-sasl') throw new StreamError('unsupported-stanza-type');
    if (el.name === 'success') {
      this.method = 'SASL EXTERNAL';
      this.restartParser();
      this.sendHeader();
      return;
    }
    this.log.info({ condition: el.elements()[0]?.name }, 'SASL EXTERNAL refused; trying dialback');
    this.startDialback(this.lastFeatures ?? xml('features', NS.STREAM));
  }

  private async onResult(el: Element): Promise<void> {
    if (this.phase !== 'auth-dialback' || el.attr('from') !== this.remote || el.attr('to') !== this.local) {
      throw new StreamError('not-authorized', 'a dialback result nobody asked for');
    }
    const type = el.attr('type');
    if (type === 'valid') { this.method = 'dialback'; return this.becomeReady(); }
    this.fail('remote-server-not-found', `dialback ${type ?? 'answer without type'}`);
  }

  private becomeReady(): void {
    this.phase = 'ready';
    this.lastActivity = Date.now();
    this.log.info({ method: this.method, secure: this.socket.secure, bidi: this.bidi }, 'outgoing s2s stream authenticated');
    if (!this.settled) { this.settled = true; this.readyResolve(); }
  }

  /** Give up on this stream: queued stanzas bounce with `condition`. */
  fail(condition: StanzaErrorCondition, why: string): void {
    this.log.info({ why }, 'outgoing s2s stream failed');
    if (!this.settled) { this.settled = true; this.readyReject(new SetupError(condition, why)); }
    this.phase = 'failed';
    this.close(undefined, why);
  }

  // --- db:verify as receiving server ----------------------------------------------------------

  /** Ask the peer (authoritative for `remote`) whether a key it sent us is its own. */
  verify(req: VerifyRequest): void {
    if (this.state !== 'open') return req.done('remote-server-not-found');
    if (this.verifyOpen) this.sendVerify(req); else this.waitingVerifies.push(req);
  }

  private openVerifies(): void {
    this.verifyOpen = true;
    for (const r of this.waitingVerifies.splice(0)) this.sendVerify(r);
  }

  private sendVerify(req: VerifyRequest): void {
    const prior = this.verifies.get(req.id);
    if (prior) prior.done('internal-server-error');
    this.verifies.set(req.id, req);
    this.write(xml('verify', NS.DIALBACK, { from: this.local, to: this.remote, id: req.id }, req.key));
  }

  private async onVerify(el: Element): Promise<void> {
    const id = el.attr('id') ?? '';
    const req = this.verifies.get(id);
    if (!req || el.attr('from') !== this.remote || el.attr('to') !== this.local) throw new StreamError('not-authorized', 'a dialback verification nobody asked for');
    this.verifies.delete(id);
    const type = el.attr('type');
    req.done(type === 'valid' ? 'valid' : type === 'invalid' ? 'invalid' : 'remote-server-not-found');
  }

  protected onEnded(reason: string): void {
    if (!this.settled) { this.settled = true; this.readyReject(new SetupError('remote-server-not-found', reason)); }
    for (const r of [...this.waitingVerifies.splice(0), ...this.verifies.values()]) r.done('remote-server-not-found');
    this.verifies.clear();
  }

  /** Send a stanza (only once ready). */
  send(stanza: Element): void {
    this.lastActivity = Date.now();
    this.write(stanza);
  }
}
