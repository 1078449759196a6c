// One node of a Magpie cluster (issue #8; ARCHITECTURE.md "cluster": Redis, no home-made
// protocol). It publishes this node's sessions to the shared registry (wire.ts), keeps the
// proxies of the other nodes' sessions current from Redis pub/sub, carries stanzas for remote
// sessions to their node, delivers the stanzas other nodes send here, and re-registers after a
// Redis outage. Membership and failure handling are in membership.ts.
//
// Transport: pub/sub, not streams (bench/RESULTS.md "Cluster transport"): PUBLISH answers how
// many nodes received the message, so a stanza for a node that is gone (killed: its connection
// to Redis is closed) is known undeliverable at once and re-routed here (offline storage).

import { JID } from '@magpie/core/jid/jid';
import type { Element } from '@magpie/core/xml/element';
import { serialize } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { STREAM_ERROR_CONDITIONS, StanzaError, StreamError, errorReply, type StreamErrorCondition } from '@magpie/core/protocol/errors';
import type { ClientSession } from '../session/session.js';
import type { Logger } from '../log/logger.js';
import type { HookBus } from '../hooks/bus.js';
import type { StanzaEvent } from '../hooks/events.js';
import type { Router } from '../router/router.js';
import type { ClusterConfig } from '../config/cluster-schema.js';
import { ClusterSessionRegistry, type LocalSessionListener } from './cluster-registry.js';
import { RemoteClientSession, type RemoteLink } from './remote-session.js';
import { RedisLink } from './redis-link.js';
import { Membership } from './membership.js';
import { ClusterHandover } from './session-handover.js';
import { Ownership } from './ownership.js';
import { ClusterUnackedMirror, type Orphan } from './unacked-mirror.js';
import { SyncReceiver, publishSessions } from './registry-sync.js';
import { ClusterInvalidation } from './invalidation.js';
import { ClusterKeys, parseEntry, type DirectMessage, type RegistryEvent, type SessionEntry } from './wire.js';

/** Re-routings of one stanza between nodes before it is dropped (stale views on two nodes). */
const MAX_HOPS = 3;
/** Below the router's own iq/host handler (0), which resolves the requests made on this node. */
const ANSWER_PRIORITY = -1000;

export interface ClusterDeps { config: ClusterConfig; nodeName: string; log: Logger; hooks: HookBus; router: Router; registry: ClusterSessionRegistry }

export const bareOf = (full: string): string => { const i = full.indexOf('/'); return i < 0 ? full : full.slice(0, i); };

export class ClusterNode implements RemoteLink, LocalSessionListener {
  readonly keys: ClusterKeys;
  readonly name: string;
  readonly link: RedisLink;
  private readonly log: Logger;
  private readonly registry: ClusterSessionRegistry;
  private readonly membership: Membership;
  /** Sessions moving between nodes (XEP-0198 resumption elsewhere), offered to modules. */
  readonly handover: ClusterHandover;
  /** Keys (MUC rooms) owned by one node at a time: the OWNED_KEYS_SERVICE given to modules. */
  readonly ownership: Ownership;
  /** XEP-0198 queues copied to Redis (config mirrorUnacked): the UNACKED_MIRROR_SERVICE. */
  readonly unackedMirror: ClusterUnackedMirror | undefined;
  /** Modules' per-account caches, dropped on every node after a change (acknowledged). */
  private readonly invalidation: ClusterInvalidation;
  private readonly hops = new WeakMap<Element, number>();
  private readonly pending = new Set<Promise<unknown>>();
  /** Nodes heard from while a snapshot was loading (their events are newer than it). */
  private heardDuringLoad: Set<string> | undefined;
  private started = false;
  private readonly syncIn: SyncReceiver;
  /** (Re)registrations run one at a time (a Redis recovery and a 'leave' may ask at once). */
  private registering: Promise<void> = Promise.resolve();
  /** Nodes whose entries are being re-read from Redis, and whether they published meanwhile. */
  private readonly reloading = new Map<string, boolean>();
  private unhook: (() => void) | undefined;
  private stopped = false;
  readonly startedAt = Date.now();

  constructor(private readonly deps: ClusterDeps) {
    this.name = deps.nodeName;
    this.log = deps.log.child({ component: 'cluster', node: deps.nodeName });
    this.keys = new ClusterKeys(deps.config.keyPrefix);
    this.registry = deps.registry;
    this.link = new RedisLink(deps.config, this.name, this.log, {
      onMessage: (ch, msg) => this.onMessage(ch, msg),
      onRecovered: () => { this.membership.recovered(); this.track(this.rejoin('Redis reconnected')); },
    });
    this.ownership = new Ownership(this, this.log);
    this.membership = new Membership({ node: this, config: deps.config, log: this.log, registry: this.registry,
      announceClosed: (e, why) => this.announceClosed(e, why), reaped: (n) => this.ownership.reaped(n),
      orphaned: (n, entries) => this.recoverUnacked(n, entries) });
    const link = this.link;
    this.handover = new ClusterHandover({ name: this.name, keys: this.keys, get cmd() { return link.cmd; }, log: this.log });
    this.unackedMirror = deps.config.mirrorUnacked ? new ClusterUnackedMirror({ name: this.name, keys: this.keys, get cmd() { return link.cmd; }, log: this.log }) : undefined;
    this.invalidation = new ClusterInvalidation({
      name: this.name, log: this.log, waitMs: deps.config.invalidateWaitMs,
      publishEvent: (ev) => this.cmd.publish(this.keys.events, JSON.stringify(ev)),
      direct: (node, msg) => this.direct(node, msg, () => undefined, () => undefined),
      runHandlers: (scope, host, user) => this.deps.hooks.emit('cache/invalidate', { scope, host, user, remote: true }),
    });
    this.syncIn = new SyncReceiver({ registry: this.registry, create: (e) => this.createProxy(e), reload: (n) => this.track(this.reloadNode(n)) });
  }

  get cmd() { return this.link.cmd; }

  /** Join the cluster; `storageKind` must be postgres (load.ts refuses other configurations). */
  async start(storageKind: string): Promise<void> {
    if (storageKind !== 'postgres') throw new Error(`cluster mode needs PostgreSQL storage (storage.type: postgres), not ${storageKind}`);
    await this.link.connect([this.keys.events, this.keys.inbox(this.name)]);
    await this.loadSnapshot();
    // A previous run under this name that died leaves sessions behind: their contacts must
    // still learn they are gone (reaped here, without waiting for another node to notice;
    // after the snapshot, so that the unavailable presence reaches contacts on other nodes).
    if ((await this.cmd.exists(this.keys.nodeSessions(this.name), this.keys.unackedIndex(this.name))) || (await this.cmd.hexists(this.keys.nodes, this.name))) {
      await this.membership.reap(this.name, false);
    }
    this.registry.listener = this;
    // A module holding state about sessions of other nodes (MUC occupants) learns they ended.
    this.registry.onRemoteEnded = (s) => {
      this.deps.hooks.emit('session/remote-ended', { jid: s.jid.toString(), node: s.node })
        .catch((e: unknown) => this.log.error({ err: e }, 'cluster: session/remote-ended handler failed'));
    };
    const unhooks = [
      this.deps.hooks.on('iq/host', (ev) => this.unresolvedAnswer(ev), ANSWER_PRIORITY),
      this.deps.hooks.on('iq/bare', (ev) => this.unresolvedAnswer(ev), ANSWER_PRIORITY),
      // Modules' per-account caches (privacy lists, PubSub services) are dropped on every node
      // after a change, before the change is answered (invalidation.ts).
      this.deps.hooks.on('cache/invalidate', ({ scope, host, user, remote }) => (remote ? undefined : this.invalidation.broadcast(scope, host, user))),
    ];
    this.unhook = () => { for (const u of unhooks) u(); };
    await this.register();
    this.membership.start();
    this.started = true;
    this.log.info({ keyPrefix: this.deps.config.keyPrefix, remoteSessions: this.registry.remoteSize }, 'cluster: node joined');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.membership.stop();
    this.handover.stop();
    this.invalidation.stop();
    this.unhook?.();
    this.registry.listener = undefined;
    await Promise.allSettled([...this.pending]);
    await this.unackedMirror?.flushed();
    if (this.link.up) {
      try {
        await this.membership.clearOwn();
        await this.ownership.releaseNode(this.name);
        await this.cmd.multi().del(this.keys.nodeSessions(this.name)).hdel(this.keys.nodes, this.name).del(this.keys.alive(this.name))
          .publish(this.keys.events, JSON.stringify({ t: 'leave', node: this.name } satisfies RegistryEvent)).exec();
      } catch (e) { this.log.warn({ err: (e as Error).message }, 'cluster: could not deregister cleanly'); }
    }
    await this.link.close();
    this.log.info('cluster: node left');
  }

  // --- local sessions -> Redis (LocalSessionListener) ------------------------------------------

  entryOf(s: ClientSession): SessionEntry {
    return { node: this.name, id: s.id, full: s.jid.toString(), priority: s.priority, presence: s.presence ? serialize(s.presence) : null, interested: s.interested, connectedAt: s.connectedAt, shared: s.shared.toRecord() };
  }

  up(s: ClientSession): void {
    const e = this.entryOf(s);
    this.track(Promise.all([
      this.cmd.hset(this.keys.bare(s.jid.bareString()), e.full, JSON.stringify(e)),
      this.cmd.sadd(this.keys.nodeSessions(this.name), e.full),
      this.cmd.publish(this.keys.events, JSON.stringify({ t: 'up', e } satisfies RegistryEvent)),
    ]));
  }

  down(s: ClientSession): void {
    const full = s.jid.toString();
    this.track(Promise.all([
      this.cmd.delIfOwner(this.keys.bare(s.jid.bareString()), this.keys.nodeSessions(this.name), full, s.id, this.name),
      this.cmd.publish(this.keys.events, JSON.stringify({ t: 'down', node: this.name, full, id: s.id } satisfies RegistryEvent)),
    ]));
  }

  // --- stanzas to remote sessions (RemoteLink) -------------------------------------------------

  forward(s: RemoteClientSession, stanza: Element): void {
    const hop = this.hops.get(stanza) ?? 0;
    const to = s.jid.toString();
    this.direct(s.node, { t: 'stanza', to, hop, x: serialize(stanza) }, (n) => {
      if (n > 0) return;
      // Nobody listens on that node's channel: it is gone (or reconnecting, in which case it
      // re-announces its sessions). Stop routing to it and deliver as if it had no sessions.
      this.log.info({ node: s.node, to }, 'cluster: node unreachable; re-routing the stanza here');
      this.registry.dropNode(s.node);
      this.reroute(stanza, hop + 1);
    }, (e) => this.unroutable(stanza, e));
  }

  closeRemote(s: RemoteClientSession, error?: StreamError): void {
    this.direct(s.node, { t: 'close', to: s.jid.toString(), id: s.id, cond: error?.condition, text: error?.text }, () => undefined, () => undefined);
  }

  // Stanzas and close requests for one node are sent together, one PUBLISH of a JSON array per
  // node per event-loop turn (bench/RESULTS.md "Cluster: batched PUBLISH"): one Redis command,
  // promise and reply per turn instead of per stanza. Order is kept: one array, in call order,
  // on the one connection that carries every publication of this node.
  private readonly outbox = new Map<string, { msgs: DirectMessage[]; done: ((n: number) => void)[]; fail: ((e: unknown) => void)[] }>();
  private outboxScheduled = false;

  private direct(node: string, msg: DirectMessage, done: (receivers: number) => void, fail: (e: unknown) => void): void {
    let box = this.outbox.get(node);
    if (!box) this.outbox.set(node, (box = { msgs: [], done: [], fail: [] }));
    box.msgs.push(msg); box.done.push(done); box.fail.push(fail);
    if (this.outboxScheduled) return;
    this.outboxScheduled = true;
    setImmediate(this.flushOutbox);
  }

  private readonly flushOutbox = (): void => {
    this.outboxScheduled = false;
    const boxes = [...this.outbox];
    this.outbox.clear();
    for (const [node, box] of boxes) {
      const payload = box.msgs.length === 1 ? JSON.stringify(box.msgs[0]) : JSON.stringify(box.msgs);
      const p = this.cmd.publish(this.keys.inbox(node), payload).then(
        (n) => { for (const d of box.done) d(n); },
        (e: unknown) => { for (const f of box.fail) f(e); });
      this.track(p);
    }
  };

  /** Route a stanza again on this node (its destination was not where we thought). */
  private reroute(stanza: Element, hop: number): void {
    if (hop > MAX_HOPS) { this.log.warn({ to: stanza.attrs.to }, 'cluster: stanza dropped after too many re-routings'); return; }
    const from = JID.tryParse(stanza.attrs.from ?? '');
    const to = JID.tryParse(stanza.attrs.to ?? '');
    if (!from || !to) return;
    this.hops.set(stanza, hop);
    this.deps.router.route(stanza, { kind: 'local' }, from, to).catch((e: unknown) => this.log.error({ err: e }, 'cluster: re-routing failed'));
  }

  /**
   * A local client answered a server request that was not made here (a module on another node
   * asked it, through the proxy), or a remote server did (a request sent on another node's s2s
   * stream, answered over the peer's stream to this node, to the server or to an account's
   * bare JID as for push and caps queries): every node gets the answer and the one waiting
   * resolves it. Only answers from local clients and peers are passed on, so an answer never
   * travels twice.
   */
  private unresolvedAnswer(ev: StanzaEvent): undefined {
    const type = ev.stanza.attrs.type;
    if (type !== 'result' && type !== 'error') return undefined;
    if (!(ev.origin.kind === 'c2s' && ev.to.isDomain) && ev.origin.kind !== 's2s') return undefined;
    this.track(this.cmd.publish(this.keys.events, JSON.stringify({ t: 'answer', node: this.name, x: serialize(ev.stanza) } satisfies RegistryEvent)));
    return undefined;
  }

  private resolveElsewhere(x: string): void {
    let el: Element;
    try { el = parseFragment(x); } catch { return; }
    const from = JID.tryParse(el.attrs.from ?? '');
    const to = JID.tryParse(el.attrs.to ?? '');
    if (!from || !to || to.resource) return;
    this.deps.router.route(el, { kind: 'local' }, from, to).catch((e: unknown) => this.log.error({ err: e }, 'cluster: answer routing failed'));
  }

  /** Redis is unavailable: the sender learns that the stanza could not be carried. */
  private unroutable(stanza: Element, e: unknown): void {
    this.log.debug({ err: (e as Error).message, to: stanza.attrs.to }, 'cluster: cannot route a stanza to another node');
    const type = stanza.attrs.type;
    const answerable = stanza.name === 'message' ? type !== 'error' : stanza.name === 'iq' && (type === 'get' || type === 'set');
    if (!answerable) return;
    const reply = errorReply(stanza, new StanzaError('remote-server-timeout', 'the cluster node of this resource cannot be reached'));
    const from = JID.tryParse(stanza.attrs.to ?? '');
    const to = JID.tryParse(stanza.attrs.from ?? '');
    if (!reply || !from || !to) return;
    this.deps.router.route(reply, { kind: 'local' }, from, to).catch((err: unknown) => this.log.error({ err }, 'cluster: bounce failed'));
  }

  // --- Redis -> this node ----------------------------------------------------------------------

  private onMessage(channel: string, message: string): void {
    let m: unknown;
    try { m = JSON.parse(message); } catch { this.log.warn({ channel }, 'cluster: unparsable message'); return; }
    try {
      if (channel === this.keys.events) this.onEvent(m as RegistryEvent);
      else if (Array.isArray(m)) for (const x of m as DirectMessage[]) this.onDirectSafe(x, channel);
      else this.onDirect(m as DirectMessage);
    } catch (e) { this.log.error({ err: e, channel }, 'cluster: failed to handle a message'); }
  }

  private createProxy = (e: SessionEntry): RemoteClientSession => new RemoteClientSession(JID.parse(e.full), e, this, this.log);

  private onEvent(ev: RegistryEvent): void {
    const node = ev.t === 'up' ? ev.e.node : ev.node;
    if (node === this.name) {
      // Another node found us dead (a long stall, a network split): register again.
      if (ev.t === 'leave' && this.started && !this.stopped) this.track(this.rejoin('the cluster considered this node dead'));
      return;
    }
    this.heardDuringLoad?.add(node);
    if (this.reloading.has(node)) this.reloading.set(node, true);
    if (this.syncIn.onEvent(ev)) return;
    switch (ev.t) {
      case 'up': this.registry.applyUp(ev.e, this.createProxy); break;
      case 'down': this.registry.applyDown(ev.node, ev.full, ev.id); break;
      case 'sync': this.registry.applySync(ev.node, ev.entries, this.createProxy); break;
      case 'leave': this.registry.dropNode(ev.node); break;
      case 'answer': this.resolveElsewhere(ev.x); break;
      case 'invalidate': this.invalidation.onEvent(ev); break;
    }
  }

  /** One message of a batch: a failure does not stop the ones after it. */
  private onDirectSafe(m: DirectMessage, channel: string): void {
    try { this.onDirect(m); } catch (e) { this.log.error({ err: e, channel }, 'cluster: failed to handle a message'); }
  }

  private onDirect(m: DirectMessage): void {
    if (m.t === 'sm-take' || m.t === 'sm-state' || m.t === 'sm-settle') { this.handover.onMessage(m); return; }
    if (m.t === 'svc') { this.ownership.deliver(m); return; }
    if (m.t === 'invalidated') { this.invalidation.onAck(m.rid); return; }
    const s = this.registry.localSession(m.to);
    if (m.t === 'close') {
      if (!s || s.id !== m.id) return;
      const cond = STREAM_ERROR_CONDITIONS.includes(m.cond as StreamErrorCondition) ? m.cond as StreamErrorCondition : undefined;
      s.log.info({ condition: cond }, 'closed at the request of another cluster node');
      s.close(cond ? new StreamError(cond, m.text) : undefined);
      return;
    }
    let el: Element;
    try { el = parseFragment(m.x); } catch { this.log.warn({ to: m.to }, 'cluster: unparsable stanza from another node'); return; }
    if (s && !s.closed) s.send(el); else this.reroute(el, m.hop + 1);
  }

  // --- (re)registration ------------------------------------------------------------------------

  /** Write this node and all its local sessions to Redis, then tell the others (in chunks:
      registry-sync.ts). */
  register(): Promise<void> {
    const run = this.registering.catch(() => undefined).then(async () => {
      await this.membership.refreshAlive();
      await this.cmd.hset(this.keys.nodes, this.name, JSON.stringify({ startedAt: this.startedAt }));
      await this.ownership.reclaim();
      await publishSessions({ cmd: this.cmd, keys: this.keys, node: this.name, registry: this.registry, entryOf: (s) => this.entryOf(s), chunkSize: this.deps.config.syncChunkSize });
      await this.unackedMirror?.reindex(this.deps.config.syncChunkSize);
    });
    this.registering = run;
    return run;
  }

  /** Replace what is known of `node` with its entries in Redis (see SyncReceiver); if it
      published while they were read, read again (a few times) rather than drop newer entries. */
  private async reloadNode(node: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      this.reloading.set(node, false);
      let entries: SessionEntry[];
      let heard = false;
      try { entries = await this.membership.entriesOf(node); } finally { heard = this.reloading.get(node) === true; this.reloading.delete(node); }
      if (!heard) { this.registry.applySync(node, entries, this.createProxy); return; }
      if (attempt === 3) { for (const e of entries) if (!this.registry.get(e.full)) this.registry.applyUp(e, this.createProxy); return; }
    }
  }

  private async rejoin(why: string): Promise<void> {
    if (this.stopped) return;
    try {
      await this.register();
      await this.loadSnapshot();
      this.log.warn({ why, localSessions: this.registry.size, remoteSessions: this.registry.remoteSize }, 'cluster: node re-registered');
    } catch (e) {
      this.log.error({ err: (e as Error).message, why }, 'cluster: re-registration failed; retrying at the next heartbeat');
      this.membership.rejoinPending = true;
    }
  }

  /** Read every other live node's sessions from Redis into the cache. */
  async loadSnapshot(): Promise<void> {
    const heard = (this.heardDuringLoad = new Set());
    try {
      const members = (await this.cmd.hkeys(this.keys.nodes)).filter((n) => n !== this.name);
      for (const node of members) {
        if (!(await this.cmd.exists(this.keys.alive(node)))) continue; // dead: membership reaps it
        const entries = await this.membership.entriesOf(node);
        if (heard.has(node)) { for (const e of entries) if (!this.registry.get(e.full)) this.registry.applyUp(e, this.createProxy); } else this.registry.applySync(node, entries, this.createProxy);
      }
      for (const node of this.registry.remoteNodes()) if (!members.includes(node) && !heard.has(node)) this.registry.dropNode(node);
    } finally {
      if (this.heardDuringLoad === heard) this.heardDuringLoad = undefined;
    }
  }

  /** The unacknowledged stanzas of a dead node's sessions go to the stream management module's
      death policy here ('session/orphaned'; its re-routing never targets the dead session: its
      proxy is closed and out of the registry). Mirrors of any node are read, even with the
      mirror off here: another node may have it on. */
  private async recoverUnacked(node: string, entries: SessionEntry[]): Promise<void> {
    const mirror = this.unackedMirror ?? new ClusterUnackedMirror({ name: this.name, keys: this.keys, cmd: this.cmd, log: this.log });
    const byFull = new Map(entries.map((e) => [e.full, e]));
    const handle = async (o: Orphan): Promise<void> => {
      const e = byFull.get(o.full) ?? { node, id: o.smId, full: o.full, priority: 0, presence: null, interested: false, connectedAt: 0 };
      const s = this.createProxy(e);
      s.markClosed();
      await this.deps.hooks.emit('session/orphaned', { session: s, stanzas: o.stanzas });
    };
    const r = await mirror.recover(node, this.deps.config.syncChunkSize, 16, handle);
    if (r.sessions) this.log.warn({ dead: node, sessions: r.sessions, stanzas: r.stanzas }, 'cluster: unacknowledged stanzas of a dead node recovered');
  }

  /** Tell local modules that a session of a dead node is gone (presence broadcasts unavailable). */
  private async announceClosed(e: SessionEntry, why: string): Promise<void> {
    const s = this.createProxy(e);
    s.markClosed();
    await this.deps.hooks.emit('session/closed', { session: s, reason: why });
  }

  track(p: Promise<unknown>): void {
    const q = p.catch((e: unknown) => this.log.debug({ err: (e as Error).message }, 'cluster: Redis write failed (re-registered when Redis is back)'))
      .finally(() => this.pending.delete(q));
    this.pending.add(q);
  }
}

export { parseEntry };
