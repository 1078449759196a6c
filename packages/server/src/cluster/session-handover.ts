// The cluster side of moving a session between nodes (issue #8; XEP-0198 §5 resumption on a
// node other than the one the client was on; the contract is ../session/handover.ts). Requests
// and answers travel on the nodes' own channels (<p>:to:<node>), like stanzas: a PUBLISH that
// reaches nobody means the holder is gone, so the asker refuses at once instead of waiting.
//
// Where a session is: an SM-ID ends in ".<node>" of the node that minted it; a session that
// moved keeps its SM-ID (the client resumes with it again), so the node that took it records
// itself under <p>:smid:<previd> (a TTL bounds what a crashed node leaves behind).

import { randomBytes } from 'node:crypto';
import { serialize, type Element } from '@magpie/core/xml/element';
import type { Logger } from '../log/logger.js';
import type { Exporter, FetchResult, HandoverReply, HandoverRequest, LocalExport, SessionHandoverService } from '../session/handover.js';
import type { ClusterRedis } from './redis-link.js';
import type { ClusterKeys, DirectMessage } from './wire.js';

/** What the handover needs of its node. */
export interface HandoverLink { readonly name: string; readonly keys: ClusterKeys; readonly cmd: ClusterRedis; readonly log: Logger }

type Msg<T extends DirectMessage['t']> = Extract<DirectMessage, { t: T }>;

export class ClusterHandover implements SessionHandoverService {
  private exporter: Exporter | undefined;
  /** Asks of this node waiting for an answer, by request id. */
  private readonly waiting = new Map<string, { resolve(r: HandoverReply): void; timer: NodeJS.Timeout }>();
  /** Sessions this node parked for another node, waiting for its verdict. */
  private readonly parked = new Map<string, { exp: LocalExport; to: string; full: string; timer: NodeJS.Timeout }>();

  constructor(private readonly node: HandoverLink) {}

  get idSuffix(): string { return `.${this.node.name}`; }

  setExporter(exporter: Exporter | undefined): void { this.exporter = exporter; }

  /** Which node holds `previd`: a recorded move first, else the node named in the id. */
  private async holder(previd: string): Promise<string | undefined> {
    const moved = await this.node.cmd.get(this.node.keys.smid(previd)).catch(() => null);
    if (moved) return moved;
    const dot = previd.indexOf('.');
    return dot > 0 ? previd.slice(dot + 1) : undefined;
  }

  async fetch(req: HandoverRequest, timeoutMs: number): Promise<FetchResult | undefined> {
    const owner = await this.holder(req.previd);
    if (!owner || owner === this.node.name) return undefined;
    const rid = randomBytes(9).toString('base64url');
    const answer = new Promise<HandoverReply>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(rid);
        this.node.log.info({ holder: owner, timeoutMs }, 'cluster: session handover timed out');
        resolve({ ok: false });
      }, timeoutMs);
      this.waiting.set(rid, { resolve, timer });
    });
    const ask: Msg<'sm-take'> = { t: 'sm-take', rid, from: this.node.name, previd: req.previd, host: req.host, user: req.username, waitMs: timeoutMs };
    const receivers = await this.node.cmd.publish(this.node.keys.inbox(owner), JSON.stringify(ask)).catch(() => 0);
    if (receivers === 0) {
      // The holder is gone (killed: membership reaps its sessions, their messages go offline).
      this.settleWait(rid, { ok: false });
      return { ok: false };
    }
    const reply = await answer;
    if (!reply.ok) return reply;
    return {
      ok: true, state: reply.state,
      settle: (taken) => { this.publish(owner, { t: 'sm-settle', rid, taken }); },
    };
  }

  claim(previd: string, ttlSeconds: number): void {
    this.node.cmd.set(this.node.keys.smid(previd), this.node.name, 'EX', Math.max(1, Math.round(ttlSeconds)))
      .catch((e: unknown) => this.node.log.warn({ err: (e as Error).message }, 'cluster: could not record a moved session'));
  }

  release(previd: string): void {
    // Only this node's record: the session may have moved on since.
    this.node.cmd.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, this.node.keys.smid(previd), this.node.name)
      .catch(() => { /* expires by itself */ });
  }

  /** A handover message on this node's channel (cluster/node.ts). */
  onMessage(m: Msg<'sm-take'> | Msg<'sm-state'> | Msg<'sm-settle'>): void {
    switch (m.t) {
      case 'sm-take': void this.onTake(m); break;
      case 'sm-state': this.onState(m); break;
      case 'sm-settle': this.onSettle(m); break;
    }
  }

  /** Another node asks for one of our sessions. */
  private async onTake(m: Msg<'sm-take'>): Promise<void> {
    let exp: LocalExport | undefined;
    try { exp = await this.exporter?.({ previd: m.previd, host: m.host, username: m.user }); } catch (e) {
      this.node.log.error({ err: e }, 'cluster: session export failed');
    }
    const reply: HandoverReply = exp?.reply ?? { ok: false };
    if (exp && reply.ok) {
      // The asker has waitMs in all; past twice that it is not coming back: keep the session.
      const timer = setTimeout(() => this.verdict(m.rid, false), 2 * m.waitMs + 1000);
      timer.unref();
      this.parked.set(m.rid, { exp, to: m.from, full: reply.state.full, timer });
    }
    const n = await this.node.cmd.publish(this.node.keys.inbox(m.from), JSON.stringify({ t: 'sm-state', rid: m.rid, from: this.node.name, reply } satisfies Msg<'sm-state'>)).catch(() => 0);
    if (n === 0) this.verdict(m.rid, false);
  }

  private onState(m: Msg<'sm-state'>): void {
    if (this.settleWait(m.rid, m.reply)) return;
    // Too late: the client was told <failed/>; the holder keeps the session hibernated.
    if (m.reply.ok) this.publish(m.from, { t: 'sm-settle', rid: m.rid, taken: false });
  }

  private onSettle(m: Msg<'sm-settle'>): void { this.verdict(m.rid, m.taken); }

  private verdict(rid: string, taken: boolean): void {
    const p = this.parked.get(rid);
    if (!p) return;
    this.parked.delete(rid);
    clearTimeout(p.timer);
    if (!taken) { p.exp.abort?.(); return; }
    // What reached the parked session after the snapshot follows it, in order (the new owner
    // is bound by now: it settles only after attaching the session).
    for (const el of p.exp.commit?.() ?? []) this.forward(p.to, p.full, el);
  }

  private settleWait(rid: string, reply: HandoverReply): boolean {
    const w = this.waiting.get(rid);
    if (!w) return false;
    this.waiting.delete(rid);
    clearTimeout(w.timer);
    w.resolve(reply);
    return true;
  }

  private forward(node: string, full: string, el: Element): void {
    this.publish(node, { t: 'stanza', to: full, hop: 0, x: serialize(el) });
  }

  private publish(node: string, m: DirectMessage): void {
    this.node.cmd.publish(this.node.keys.inbox(node), JSON.stringify(m))
      .catch((e: unknown) => this.node.log.warn({ err: (e as Error).message, node }, 'cluster: handover message not sent'));
  }

  /** Node stopping: refuse what is pending, keep what is parked. */
  stop(): void {
    for (const rid of [...this.waiting.keys()]) this.settleWait(rid, { ok: false });
    for (const rid of [...this.parked.keys()]) this.verdict(rid, false);
  }
}
