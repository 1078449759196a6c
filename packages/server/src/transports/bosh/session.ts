// One BOSH session (XEP-0124, XEP-0206) as a Transport for the c2s stream: requests in rid order
// (§14, ./rid-window.ts), long polling with at most `hold` requests held for at most `wait`
// seconds (§7.2, §8), overactivity and too-frequent polling refused with policy-violation
// (§11, §12), the inactivity timeout (§10) and session pauses (§10, 'maxpause'), client
// termination with its payloads forwarded first (§13), and terminal conditions (§17.2),
// stream errors arriving as remote-stream-error bodies (XEP-0206 §7).
// Not supported: the key sequencing of §15 (documented; TLS protects the session instead),
// multiple streams (§16), acknowledgements (§9: no 'ack' in the creation response, so clients
// do not rely on them).

import { randomBytes } from 'node:crypto';
import type { Logger } from '../../log/logger.js';
import type { Framing } from '../../stream/framing.js';
import type { HeaderAttrs } from '../../stream/stream-header.js';
import type { PeerCertificate, Transport } from '../transport.js';
import { isLoopbackAddress } from '../transport.js';
import { type BoshRequest, type TerminalCondition, BOSH_VERSION, httpStatus, lowerVersion, responseBody, terminateBody } from './body.js';
import { RidWindow } from './rid-window.js';
import { boshFraming, CLOSE_MARK, ERROR_MARK, type InputEvent } from './framing.js';
import { isEmptyRequest, overactive, pollingTooFast, type LastRequest } from './pacing.js';

/** Where a response goes: an HTTP response, with the session's content type. */
export interface Reply { send(status: number, body: string): void }

export interface SessionParams {
  sid: string;
  log: Logger;
  remoteAddress: string;
  remotePort: number;
  localPort: number;
  secure: boolean;
  /** The client sent no 'ver': it reads HTTP status codes, not terminal conditions (§17.1). */
  legacy: boolean;
  ver: [number, number] | undefined;
  domain: string;
  lang: string | undefined;
  from: string | undefined;
  wait: number;
  hold: number;
  inactivity: number;
  polling: number;
  maxPause: number;
  /** The stream closes a session with more unfetched output than this (limits.maxOutboundBuffer). */
  maxPendingBytes: number;
  onEnd(s: BoshSession): void;
}

interface Held { rid: number; reply: Reply; timer: NodeJS.Timeout | undefined }
interface Ahead { req: BoshRequest; reply: Reply; at: number }

export class BoshSession implements Transport {
  readonly id = randomBytes(6).toString('base64url');
  readonly canStartTls = false;
  readonly servername = undefined;
  readonly loopback: boolean;
  readonly requests: number;
  readonly framing: Framing;
  onData: (chunk: Uint8Array | string) => void = () => {};
  onClose: (error?: Error) => void = () => {};
  onUndelivered: ((chunks: string[]) => void) | undefined;
  private readonly window: RidWindow;
  private readonly held: Held[] = [];
  private readonly ahead = new Map<number, Ahead>();
  private input: InputEvent[] = [];
  private out: string[] = [];
  private outBytes = 0;
  private streamId: string | undefined;
  private streamError: string | undefined;
  private endRequested = false;
  private ended = false;
  private created = false;
  private restartExpected = false;
  /** The client sent type='terminate': its request waits for the stream to close (§13). */
  private clientTerminating = false;
  private flushScheduled = false;
  private last: LastRequest | undefined;
  private lastHeld: Map<number, LastRequest> = new Map();
  private inactivityTimer: NodeJS.Timeout | undefined;
  private pauseSeconds: number | undefined;

  constructor(private readonly p: SessionParams, private readonly creationRid: number) {
    this.loopback = isLoopbackAddress(p.remoteAddress);
    // §6: `requests` one more than `hold`, so a client can always send while one request is held.
    this.requests = p.hold + 1;
    this.window = new RidWindow(creationRid - 1, Math.max(this.requests, 2));
    this.framing = boshFraming({
      takeInput: () => { const i = this.input; this.input = []; return i; },
      streamOpened: (a: HeaderAttrs) => { this.streamId = a.id; },
      authenticated: () => { this.restartExpected = true; },
    });
  }

  get sid(): string { return this.p.sid; }
  get remoteAddress(): string { return this.p.remoteAddress; }
  get remotePort(): number { return this.p.remotePort; }
  get localPort(): number { return this.p.localPort; }
  get secure(): boolean { return this.p.secure; }
  get log(): Logger { return this.p.log; }
  get isEnded(): boolean { return this.ended; }
  get bufferedBytes(): number { return this.outBytes; }

  /** The session creation request (§7.1): opens the stream; its response carries the session's attributes. */
  start(req: BoshRequest, reply: Reply): void {
    this.window.advance();
    this.last = { empty: false, at: Date.now(), answered: 'no' };
    this.lastHeld.set(req.rid, this.last);
    this.hold(req.rid, reply);
    this.deliver([{ kind: 'open', attrs: this.openAttrs(req) }]);
  }

  private openAttrs(req: BoshRequest): Record<string, string> {
    const a: Record<string, string> = { to: this.p.domain, version: req.attrs['{urn:xmpp:xbosh}version'] ?? '1.0' };
    const lang = req.attrs['xml:lang'] ?? this.p.lang;
    if (lang !== undefined) a['xml:lang'] = lang;
    if (req.attrs.from !== undefined) a.from = req.attrs.from;
    return a;
  }

  // --- requests ------------------------------------------------------------------------------

  handle(req: BoshRequest, reply: Reply): void {
    if (this.ended) { reply.send(httpStatus('item-not-found', this.p.legacy), terminateBody('item-not-found')); return; }
    this.clearInactivity();
    this.route(req, reply);
    // Requests waiting ahead of a missing rid do not keep a session alive: if the gap is never
    // filled, the inactivity timeout ends it (and answers them).
    if (!this.ended && !this.held.length) this.armInactivity();
  }

  private route(req: BoshRequest, reply: Reply): void {
    if (this.endRequested && !this.held.length) { this.held.push({ rid: req.rid, reply, timer: undefined }); this.scheduleFlush(); return; }
    const now = Date.now();
    switch (this.window.classify(req.rid)) {
      case 'outside': return this.fail('item-not-found', reply, 'rid outside the window');
      case 'repeat': {
        const h = this.held.find((x) => x.rid === req.rid);
        // §14.3: the earlier copy of this request is answered with a recoverable error and the
        // response goes to the latest one.
        if (h) { h.reply.send(200, responseBody({ type: 'error' })); h.reply = reply; return; }
        const a = this.ahead.get(req.rid);
        if (a) { a.reply.send(200, responseBody({ type: 'error' })); a.reply = reply; return; }
        const cached = this.window.cached(req.rid);
        if (!cached) return this.fail('item-not-found', reply, 'the response to that rid is no longer available');
        this.p.log.debug({ rid: req.rid }, 'resending a response');
        reply.send(cached.status, cached.body);
        return;
      }
      case 'ahead': {
        const prev = this.ahead.get(req.rid);
        if (prev) { prev.reply.send(200, responseBody({ type: 'error' })); prev.reply = reply; return; }
        if (this.tooMany(req)) return this.fail('policy-violation', reply, 'too many simultaneous requests');
        this.ahead.set(req.rid, { req, reply, at: now });
        return;
      }
      case 'next':
        this.process(req, reply, now);
        for (let a = this.ahead.get(this.window.lastProcessed + 1); a && !this.ended; a = this.ahead.get(this.window.lastProcessed + 1)) {
          this.ahead.delete(this.window.lastProcessed + 1);
          this.process(a.req, a.reply, a.at);
        }
    }
  }

  private tooMany(req: BoshRequest): boolean { return overactive(this.held.length + this.ahead.size + 1, this.requests, req); }

  private process(req: BoshRequest, reply: Reply, at: number): void {
    this.window.advance();
    if (this.tooMany(req)) return this.fail('policy-violation', reply, 'too many simultaneous requests');
    const empty = isEmptyRequest(req);
    if (pollingTooFast(this.last, empty, at, this.p.polling)) return this.fail('policy-violation', reply, 'polling too frequently');
    this.last = { empty, at, answered: 'no' };
    this.lastHeld.set(req.rid, this.last);
    this.pauseSeconds = undefined;
    if (req.pause !== undefined && this.p.maxPause > 0 && req.pause <= this.p.maxPause) {
      // §10: answer everything now (the pause response carries no payloads) and allow a longer gap.
      for (const h of [...this.held]) this.answer(h, [], 'early');
      this.pauseSeconds = req.pause;
      this.remember(req.rid, reply, 200, responseBody({}));
      return;
    }
    const events: InputEvent[] = [];
    if (req.restart) {
      // XEP-0206 §5: a restart is only meaningful after SASL success; its payloads are ignored.
      if (!this.restartExpected) return this.fail('bad-request', reply, 'restart request before authentication');
      this.restartExpected = false;
      events.push({ kind: 'open', attrs: this.openAttrs(req) });
    } else {
      for (const el of req.payloads) events.push({ kind: 'element', el });
      if (req.terminate) events.push({ kind: 'close' });
    }
    if (req.terminate) this.clientTerminating = true;
    this.hold(req.rid, reply, req.terminate);
    this.deliver(events);
  }

  private hold(rid: number, reply: Reply, terminating = false): void {
    const h: Held = { rid, reply, timer: undefined };
    // A terminate request waits for the stream to close; `wait` still bounds it.
    if (this.p.wait > 0 || terminating) {
      h.timer = setTimeout(this.guard(() => this.answer(h, this.takeOut(), 'timeout')), Math.max(this.p.wait, 1) * 1000);
      h.timer.unref();
    }
    this.held.push(h);
    this.scheduleFlush();
  }

  private deliver(events: InputEvent[]): void {
    this.input.push(...events);
    this.onData(''); // the doorbell: see ./framing.ts
  }

  // --- output --------------------------------------------------------------------------------

  write(data: string): void {
    if (this.ended || data === '') return;
    if (data === CLOSE_MARK) return; // end() follows; the terminate body is built there
    if (data.startsWith(ERROR_MARK)) {
      this.streamError = data.slice(ERROR_MARK.length);
      // A client that stopped fetching (policy-violation from the stream) gets the error, not the backlog.
      if (this.outBytes > this.p.maxPendingBytes) this.takeOut();
      return;
    }
    this.out.push(data);
    this.outBytes += data.length;
    this.scheduleFlush();
  }

  private takeOut(): string[] { const o = this.out; this.out = []; this.outBytes = 0; return o; }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.ended) return;
    this.flushScheduled = true;
    // Deferred so that everything the stream writes in one turn (e.g. SASL success, then a
    // restart) goes out in one body.
    setImmediate(this.guard(() => { this.flushScheduled = false; this.flush(); }));
  }

  private flush(): void {
    if (this.ended) return;
    if (this.endRequested) return this.finishWithTerminate();
    if (this.clientTerminating) return;
    const limit = this.p.wait === 0 ? 0 : this.p.hold;
    while (this.held.length > limit) this.answer(this.held[0]!, this.takeOut(), 'early');
    if (this.out.length && this.held.length) this.answer(this.held[0]!, this.takeOut(), 'early');
  }

  private answer(h: Held, payloads: string[], why: 'early' | 'timeout'): void {
    const i = this.held.indexOf(h);
    if (i < 0) return;
    this.held.splice(i, 1);
    if (h.timer) clearTimeout(h.timer);
    const attrs = h.rid === this.creationRid && !this.created ? this.creationAttrs() : {};
    if (h.rid === this.creationRid) this.created = true;
    const last = this.lastHeld.get(h.rid);
    this.lastHeld.delete(h.rid);
    if (last) last.answered = payloads.length ? 'payload' : why;
    this.remember(h.rid, h.reply, 200, responseBody(attrs, payloads));
    if (!this.held.length) this.armInactivity();
  }

  private remember(rid: number, reply: Reply, status: number, body: string): void {
    this.window.remember(rid, { status, body });
    reply.send(status, body);
  }

  /** §7.2 and XEP-0206 §3: the session's parameters, in the first response only. */
  private creationAttrs(): Record<string, string | number | undefined> {
    const ver = this.p.ver ? lowerVersion(this.p.ver, BOSH_VERSION) : BOSH_VERSION;
    return {
      sid: this.p.sid, wait: this.p.wait, requests: this.requests, hold: this.p.hold,
      inactivity: this.p.inactivity, polling: this.p.polling, maxpause: this.p.maxPause || undefined,
      ver: `${ver[0]}.${ver[1]}`, from: this.p.domain, authid: this.streamId,
      'xmpp:version': '1.0', 'xmpp:restartlogic': 'true',
    };
  }

  /** Timer callbacks run outside any request: a failure ends this session, never the process. */
  private guard(fn: () => void): () => void {
    return () => {
      try { fn(); } catch (e) {
        this.p.log.error({ err: e }, 'BOSH session task failed');
        try { this.finish(); } catch { /* already reported */ }
      }
    };
  }

  // --- ending --------------------------------------------------------------------------------

  private armInactivity(): void {
    this.clearInactivity();
    if (this.ended) return;
    const secs = this.pauseSeconds ?? this.p.inactivity;
    this.inactivityTimer = setTimeout(this.guard(() => {
      this.p.log.info({ seconds: secs }, 'BOSH session inactive; ending it');
      this.finish();
    }), secs * 1000);
    this.inactivityTimer.unref();
  }

  private clearInactivity(): void { if (this.inactivityTimer) { clearTimeout(this.inactivityTimer); this.inactivityTimer = undefined; } }

  /** A binding error (§17.2): this request gets the condition, the others other-request. */
  fail(condition: TerminalCondition, reply: Reply, why: string): void {
    this.p.log.info({ condition, why }, 'BOSH session terminated');
    reply.send(httpStatus(condition, this.p.legacy), terminateBody(condition));
    for (const h of this.held.splice(0)) { if (h.timer) clearTimeout(h.timer); h.reply.send(200, terminateBody('other-request')); }
    for (const a of this.ahead.values()) a.reply.send(200, terminateBody('other-request'));
    this.ahead.clear();
    this.finish();
  }

  /**
   * The stream closed its side (c2s wrote its close, then calls end()): the oldest held request
   * gets type='terminate' with what is left to send, the stream error last (XEP-0206 §7); the
   * others an empty body (XEP-0124 §13). Without a held request the next one gets it.
   */
  private finishWithTerminate(): void {
    if (!this.held.length) return;
    const payloads = this.takeOut();
    if (this.streamError) payloads.push(this.streamError);
    const [first, ...rest] = this.held.splice(0);
    for (const h of [first!, ...rest]) if (h.timer) clearTimeout(h.timer);
    first!.reply.send(200, terminateBody(this.streamError ? 'remote-stream-error' : undefined, payloads));
    for (const h of rest) h.reply.send(200, responseBody({}));
    this.finish();
  }

  end(): void {
    if (this.ended || this.endRequested) return;
    this.endRequested = true;
    this.scheduleFlush();
  }

  destroy(): void {
    if (this.ended) return;
    this.endRequested = true;
    if (this.held.length) this.finishWithTerminate(); else this.finish();
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.clearInactivity();
    for (const h of this.held.splice(0)) { if (h.timer) clearTimeout(h.timer); h.reply.send(200, terminateBody()); }
    for (const a of this.ahead.values()) a.reply.send(200, terminateBody('other-request'));
    this.ahead.clear();
    // XEP-0206 §8: what the client never fetched goes back to the stream, which
    // treats it like stanzas for an unavailable resource (never silently lost).
    if (this.out.length) { try { this.onUndelivered?.(this.out); } catch (e) { this.p.log.error({ err: e }, 'undelivered output handler failed'); } }
    this.out = []; this.outBytes = 0; this.input = [];
    this.p.onEnd(this);
    this.onClose();
  }

  // --- Transport odds and ends ---------------------------------------------------------------

  startTls(): Promise<void> { return Promise.reject(new Error('no STARTTLS over BOSH')); }
  pause(): void { /* requests are bounded by `requests`: back-pressure comes from the client's own pacing */ }
  resume(): void {}
  // Requests of one session travel over different HTTP connections, so there is no single TLS
  // channel to bind SASL to (RFC 5929): no -PLUS mechanisms over BOSH.
  channelBindingTypes(): string[] { return []; }
  channelBinding(): Uint8Array | undefined { return undefined; }
  peerCertificate(): PeerCertificate | undefined { return undefined; }
}
