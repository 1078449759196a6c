// The federation manager: one outgoing stream per (local domain → remote domain) pair, set up on
// demand, with the stanzas for the pair queued in order meanwhile (at most
// s2s.maxQueuedStanzas; more bounce with resource-constraint); incoming streams; dialback
// verification requests routed onto the outgoing stream to the authoritative server; idle and
// negotiation timeouts.
//
// Setup of a pair, and what queued stanzas bounce with when it fails:
// - each address of the resolution (resolver.ts) is tried in order, each TCP connect limited to
//   s2s.connectTimeout, and each connected stream to s2s.authTimeout until authenticated;
// - while every address refuses or is unreachable, rounds are retried (backoff 0.5 s doubling to
//   at most 4 s) for s2s.retryWindow seconds from the first attempt, so a peer that restarts
//   within that window receives what was queued, in order;
// - then every queued stanza bounces to its sender: remote-server-timeout when the last round
//   timed out (connect or authentication), remote-server-not-found otherwise.
// Stanzas written to a stream that then breaks are not retried (no XEP-0198 between servers).

import { StanzaError, StreamError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../hooks/events.js';
import type { Limits } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Transport } from '../transports/transport.js';
import { boundedResolver, resolveServer, type Candidate, type SrvResolver } from './resolver.js';
import { OutgoingSocket } from './outgoing-socket.js';
import { S2SOutgoing, SetupError, type VerifyRequest } from './outgoing.js';
import { S2SIncoming } from './incoming.js';
import type { S2SContext, VerifyOutcome } from './context.js';

interface Pair {
  local: string;
  remote: string;
  stream: S2SOutgoing | undefined;
  ready: boolean;
  queue: StanzaEvent[];
  verifies: VerifyRequest[];
}

export interface ManagerDeps {
  ctx: S2SContext;
  limits: Limits;
  log: Logger;
  bounce(ev: StanzaEvent, err: StanzaError): void;
  dns?: SrvResolver;
}

const sleep = (ms: number) => new Promise<void>((r) => { const t = setTimeout(r, ms); t.unref(); });

export class FederationManager {
  private readonly pairs = new Map<string, Pair>();
  readonly incoming = new Set<S2SIncoming>();
  /** XEP-0288: incoming streams that take our stanzas for a (local → remote) pair. */
  private readonly bidiRoutes = new Map<string, S2SIncoming>();
  private stopped = false;
  private dns: SrvResolver | undefined;

  constructor(private readonly deps: ManagerDeps) {}

  private get cfg() { return this.deps.ctx.config.s2s; }
  private key(local: string, remote: string): string { return `${local}\n${remote}`; }

  private pair(local: string, remote: string): Pair {
    const k = this.key(local, remote);
    let p = this.pairs.get(k);
    if (!p) {
      p = { local, remote, stream: undefined, ready: false, queue: [], verifies: [] };
      this.pairs.set(k, p);
      void this.establish(p);
    }
    return p;
  }

  /** route/remote: queue or send a stanza from a hosted domain to a remote one. */
  send(ev: StanzaEvent): void {
    if (this.stopped) { this.deps.bounce(ev, new StanzaError('remote-server-not-found', 'the server is shutting down')); return; }
    const k = this.key(ev.from.domain, ev.to.domain);
    const existing = this.pairs.get(k);
    const back = this.bidiRoutes.get(k);
    // Our own stream wins when there is one (set up or under way: its queue keeps the order).
    if (!existing && back && !back.closed) { back.send(ev.stanza); return; }
    const p = existing ?? this.pair(ev.from.domain, ev.to.domain);
    if (p.ready && p.stream && !p.stream.closed) { p.stream.send(ev.stanza); return; }
    if (p.queue.length >= this.cfg.maxQueuedStanzas) {
      this.deps.bounce(ev, new StanzaError('resource-constraint', `too many stanzas waiting for ${ev.to.domain}`));
      return;
    }
    p.queue.push(ev);
  }

  /** Receiving role: ask the authoritative server for `originating` (over our outgoing stream). */
  verifyKey(receiving: string, originating: string, streamId: string, key: string): Promise<VerifyOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const timer = setTimeout(() => done('remote-server-timeout'), this.cfg.authTimeout * 1000);
      timer.unref();
      const done = (o: VerifyOutcome) => { if (settled) return; settled = true; clearTimeout(timer); resolve(o); };
      if (this.stopped) return done('remote-server-not-found');
      const req: VerifyRequest = { id: streamId, key, done };
      const p = this.pair(receiving, originating);
      if (p.stream && !p.stream.closed) p.stream.verify(req); else p.verifies.push(req);
    });
  }

  private async establish(p: Pair): Promise<void> {
    const { ctx, limits } = this.deps;
    const log = this.deps.log.child({ s2s: 'out', local: p.local, remote: p.remote });
    const windowEnd = Date.now() + this.cfg.retryWindow * 1000;
    let backoff = 500;
    let condition: 'remote-server-not-found' | 'remote-server-timeout' = 'remote-server-not-found';
    let why = 'no address';
    for (;;) {
      let candidates: Candidate[];
      try { candidates = await resolveServer(p.remote, this.cfg.routes, this.deps.dns ?? (this.dns ??= boundedResolver(this.cfg.connectTimeout * 1000))); } catch (e) { candidates = []; why = `resolution failed: ${(e as Error).message}`; }
      let refusedOnly = true;
      condition = 'remote-server-not-found';
      for (const c of candidates) {
        if (this.stopped) break;
        let sock: OutgoingSocket;
        try {
          sock = await OutgoingSocket.connect(c, this.cfg.connectTimeout * 1000, ctx.clientTls(p.local, p.remote));
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          why = `${c.host}:${c.port}: ${err.message}`;
          if (err.code === 'ETIMEDOUT') condition = 'remote-server-timeout';
          log.info({ addr: `${c.host}:${c.port}`, err: err.message }, 'connection attempt failed');
          continue;
        }
        const stream = new S2SOutgoing(ctx, sock, p.local, p.remote, log.child({ conn: sock.id, addr: `${c.host}:${c.port}` }), limits);
        p.stream = stream;
        stream.onceEnded(() => this.streamEnded(p, stream));
        for (const r of p.verifies.splice(0)) stream.verify(r);
        stream.start();
        const timer = setTimeout(() => stream.fail('remote-server-timeout', 'authentication took too long'), this.cfg.authTimeout * 1000);
        timer.unref();
        try {
          await stream.ready;
          clearTimeout(timer);
          if (this.pairs.get(this.key(p.local, p.remote)) !== p) return; // dropped meanwhile
          p.ready = true;
          for (const ev of p.queue.splice(0)) stream.send(ev.stanza);
          return;
        } catch (e) {
          clearTimeout(timer);
          refusedOnly = false;
          const se = e instanceof SetupError ? e : new SetupError('remote-server-not-found', String(e));
          condition = se.condition === 'remote-server-timeout' ? 'remote-server-timeout' : 'remote-server-not-found';
          why = se.message;
          p.stream = undefined;
        }
      }
      if (!refusedOnly || this.stopped || candidates.length === 0 || Date.now() + backoff > windowEnd) break;
      log.debug({ backoff }, 'every address refused; retrying');
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 4000);
    }
    log.info({ condition, why, bounced: p.queue.length }, 'could not reach the remote server');
    this.drop(p, condition, why);
  }

  private drop(p: Pair, condition: 'remote-server-not-found' | 'remote-server-timeout', why: string): void {
    if (this.pairs.get(this.key(p.local, p.remote)) === p) this.pairs.delete(this.key(p.local, p.remote));
    for (const ev of p.queue.splice(0)) this.deps.bounce(ev, new StanzaError(condition, why));
    for (const r of p.verifies.splice(0)) r.done(condition);
  }

  private streamEnded(p: Pair, stream: S2SOutgoing): void {
    // A stream that was ready and ended: the next stanza sets up a new one.
    if (p.ready && p.stream === stream) this.drop(p, 'remote-server-not-found', 'connection closed');
  }

  accept(t: Transport): void {
    const log = this.deps.log.child({ s2s: 'in', conn: t.id, addr: t.remoteAddress });
    const s = new S2SIncoming(this.deps.ctx, t, log, this.deps.limits);
    if (this.stopped || this.incoming.size >= this.cfg.maxIncoming) {
      log.warn('too many incoming s2s connections');
      s.close(new StreamError(this.stopped ? 'system-shutdown' : 'resource-constraint'), 'refused');
      return;
    }
    this.incoming.add(s);
    const routes: string[] = [];
    s.onPair = (remote, local) => {
      if (!s.bidi) return;
      const k = this.key(local, remote);
      this.bidiRoutes.set(k, s);
      routes.push(k);
    };
    s.onceEnded(() => {
      this.incoming.delete(s);
      for (const k of routes) if (this.bidiRoutes.get(k) === s) this.bidiRoutes.delete(k);
    });
  }

  tick(now: number): void {
    for (const s of this.incoming) s.tick(now);
    for (const p of this.pairs.values()) {
      if (p.ready && p.stream && now - p.stream.lastActivity > this.cfg.idleTimeout * 1000) p.stream.close(undefined, 'idle');
    }
  }

  /** Shutdown: every stream gets system-shutdown; queued stanzas bounce. */
  closeAll(): void {
    this.stopped = true;
    for (const s of this.incoming) s.close(new StreamError('system-shutdown'), 'shutdown');
    for (const p of [...this.pairs.values()]) {
      p.stream?.close(new StreamError('system-shutdown'), 'shutdown');
      this.drop(p, 'remote-server-not-found', 'the server is shutting down');
    }
  }

  /** Authenticated incoming pairs (tests, admin). */
  incomingPairs(): { remote: string; local: string; method: string }[] {
    const out: { remote: string; local: string; method: string }[] = [];
    for (const s of this.incoming) for (const [remote, locals] of s.pairs) for (const [local, method] of locals) out.push({ remote, local, method });
    return out;
  }

  /** Live outgoing pairs (tests, admin). */
  outgoingPairs(): { local: string; remote: string; ready: boolean; method?: string; bidi: boolean }[] {
    return [...this.pairs.values()].map((p) => ({ local: p.local, remote: p.remote, ready: p.ready, method: p.stream?.method, bidi: p.stream?.bidi ?? false }));
  }
}
