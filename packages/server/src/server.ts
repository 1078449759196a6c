// The composition root: builds every collaborator from the configuration, loads modules,
// opens listeners, and shuts everything down in order. No protocol logic lives here.

import type net from 'node:net';
import { join } from 'node:path';
import { StreamError } from '@magpie/core/protocol/errors';
import type { Config, HostConfig } from './config/schema.js';
import { createLogger, type Logger } from './log/logger.js';
import { HookBus } from './hooks/bus.js';
import { LocalSessionRegistry, type SessionRegistry } from './session/registry.js';
import { Router } from './router/router.js';
import { loadCertificates, type CertificateStore } from './tls/certificates.js';
import { AccountService } from './accounts/accounts.js';
import { AuthThrottle } from './stream/auth-throttle.js';
import { openStorage } from './storage/index.js';
import type { Storage } from './storage/storage.js';
import type { ServerCore } from './server-core.js';
import { listenTcp } from './transports/tcp.js';
import { listenHttp, boundPort } from './transports/http.js';
import { BoshService } from './transports/bosh/service.js';
import type { Transport } from './transports/transport.js';
import { HttpRoutes } from './transports/http-routes.js';
import { C2SStream } from './stream/c2s.js';
import { ComponentStream } from './stream/component.js';
import { ComponentRouter } from './router/components.js';
import { s2sCertificateStore } from './s2s/trust.js';
import { DiscoRegistry } from './modules/disco-registry.js';
import { Metrics } from './modules/metrics.js';
import { ModuleLoader } from './modules/loader.js';
import { builtinModules } from './modules/index.js';
import type { MagpieModule } from './modules/module.js';
import { createCluster, type ClusterNode } from './cluster/index.js';
import { SESSION_HANDOVER_SERVICE } from './session/handover.js';
import { UNACKED_MIRROR_SERVICE } from './session/unacked-mirror.js';
import { OWNED_KEYS_SERVICE } from './modules/owned-keys.js';

export interface StartOptions { logger?: Logger; storage?: Storage; extraModules?: MagpieModule[] }

export class MagpieServer implements ServerCore {
  readonly hooks = new HookBus();
  readonly sessions: SessionRegistry;
  /** Cluster mode (config `cluster`): this node's link to the others. */
  readonly cluster: ClusterNode | undefined;
  readonly router: Router;
  readonly throttle: AuthThrottle;
  readonly disco = new DiscoRegistry();
  readonly metrics = new Metrics();
  readonly httpRoutes = new HttpRoutes();
  readonly log: Logger;
  certs!: CertificateStore;
  storage!: Storage;
  accounts!: AccountService;
  modules!: ModuleLoader;
  stopping = false;
  private hosts: Map<string, HostConfig>;
  private listeners: { type: string; server: net.Server }[] = [];
  readonly components: ComponentRouter;
  private streams = new Set<C2SStream | ComponentStream>();
  private connectionsByAddress = new Map<string, number>();
  private sweeper: NodeJS.Timeout | undefined;
  private ownsStorage = true;
  private s2sCerts: CertificateStore | undefined;

  constructor(readonly config: Config, opts: StartOptions = {}) {
    this.log = opts.logger ?? createLogger(config.log);
    this.hosts = new Map(config.hosts.map((h) => [h.domain, h]));
    this.sessions = new LocalSessionRegistry();
    this.router = new Router({ hooks: this.hooks, log: this.log.child({ component: 'router' }), isLocalHost: (d) => this.isLocalHost(d) });
    this.throttle = new AuthThrottle(config.limits);
    this.components = new ComponentRouter({ components: config.components, hooks: this.hooks, router: this.router, log: this.log,
      metrics: this.metrics, disco: this.disco, hosts: config.hosts.map((h) => h.domain) });
    if (opts.storage) { this.storage = opts.storage; this.ownsStorage = false; }
    this.extraModules = opts.extraModules ?? [];
    if (config.cluster.enabled) ({ node: this.cluster, registry: this.sessions } = createCluster(config.cluster, this));
  }
  private extraModules: MagpieModule[];

  hostConfig(domain: string): HostConfig | undefined { return this.hosts.get(domain); }
  isLocalHost(domain: string): boolean { return this.hosts.has(domain); }
  isServedDomain(domain: string): boolean { return this.hosts.has(domain) || this.components.isConfigured(domain) || this.servedDomains.has(domain); }
  /** A module serves `domain` as an internal component; returns the undo. */
  serveDomain(domain: string): () => void {
    if (this.isServedDomain(domain)) throw new Error(`the domain ${domain} is already served here`);
    this.servedDomains.add(domain);
    return () => { this.servedDomains.delete(domain); };
  }
  private servedDomains = new Set<string>();

  /** Open storage and certificates and load modules (no listeners): enough for the CLI. */
  async init(): Promise<void> {
    if (!this.storage) {
      const s = this.config.storage;
      this.storage = await openStorage(s.type === 'sqlite'
        ? { type: 'sqlite', path: s.path ?? join(this.config.dataDir, 'magpie.sqlite'), archiveWriteChunk: s.archiveWriteChunk, archiveKeyCache: s.archiveKeyCache }
        // Per-account locks in the database only when other processes share it (cluster mode).
        : { type: 'postgres', url: s.url, schema: s.schema, poolSize: s.poolSize, lockPoolSize: s.lockPoolSize, lockTimeoutMs: s.lockTimeoutMs, sharedLocks: this.config.cluster.enabled },
      { log: (level: string, msg: string, obj?: object) => this.log[level as 'info'](obj ?? {}, msg) });
    }
    const digestHosts = new Set(this.config.hosts.filter((h) => h.auth.digestMd5).map((h) => h.domain));
    this.accounts = new AccountService(this.storage.accounts, {
      digestMd5Hosts: digestHosts,
      iterationsByHost: new Map(this.config.hosts.map((h) => [h.domain, h.auth.scramIterations])),
      onChange: async (change, host, username) => {
        if (change === 'deleted') {
          // A deleted account's live sessions must not stay logged in.
          for (const s of [...this.sessions.resources(`${username}@${host}`)]) s.close(new StreamError('not-authorized', 'the account was deleted'));
        }
        await this.hooks.emit(change === 'created' ? 'account/created' : 'account/deleted', { host, username });
      },
    });
  }

  async start(): Promise<void> {
    await this.init();
    this.certs = await loadCertificates(this.config, this.log);
    await this.components.init();
    this.modules = new ModuleLoader(this, this.disco, this.metrics, [...builtinModules(this.disco), ...this.extraModules]);
    if (this.cluster) this.modules.provideCore(SESSION_HANDOVER_SERVICE, this.cluster.handover);
    if (this.cluster) this.modules.provideCore(OWNED_KEYS_SERVICE, this.cluster.ownership);
    if (this.cluster?.unackedMirror) this.modules.provideCore(UNACKED_MIRROR_SERVICE, this.cluster.unackedMirror);
    const loaded = await this.modules.loadAll();
    // Before any listener: a client must never bind before this node knows the others' sessions.
    if (this.cluster) await this.cluster.start(this.storage.kind);
    const bosh = this.boshService();
    for (const l of this.config.listeners) {
      if (l.type === 'http' || l.type === 'https') {
        const server = await listenHttp({ address: l.address, port: l.port, tls: l.type === 'https', certs: this.certs,
          proxyProtocol: l.proxyProtocol, onProxyError: this.onProxyError,
          websocketPath: this.config.http.websocketPath, allowedOrigins: this.config.http.allowedOrigins, maxFrameBytes: this.config.limits.maxStanzaBytes,
          websocketUrl: this.config.http.websocketUrl, bosh, boshUrl: this.config.http.boshUrl, routes: this.httpRoutes,
          onRouteError: (e) => this.log.error({ err: e }, 'HTTP handler failed'),
          onTlsError: (e, addr) => this.log.info({ addr, err: e.message }, 'TLS handshake failed') }, (t) => this.accept(t));
        this.listeners.push({ type: l.type, server: server as unknown as net.Server });
        this.httpRoutes.ports[l.type] ??= boundPort(server);
        this.log.info({ type: l.type, address: l.address, port: boundPort(server), websocket: this.config.http.websocketPath }, 'listening');
        continue;
      }
      if (l.type === 's2s' || l.type === 's2s-tls') {
        // Federation: the connection goes to whichever module claims 'connection/s2s'.
        const certs = (this.s2sCerts ??= s2sCertificateStore(this.config, this.certs));
        const server = await listenTcp({ address: l.address, port: l.port, directTls: l.type === 's2s-tls', certs, requestClientCert: true,
          proxyProtocol: l.proxyProtocol, onProxyError: this.onProxyError,
          onTlsError: (e, addr) => this.log.info({ addr, err: e.message }, 'TLS handshake failed') }, (t) => {
          if (this.stopping) { t.destroy(); return; }
          void this.hooks.fire('connection/s2s', { transport: t, listener: l.type as 's2s' | 's2s-tls' }).then((r) => { if (r === undefined) t.destroy(); }, (e: unknown) => { this.log.error({ err: e }, 'connection/s2s handler failed'); t.destroy(); });
        });
        this.listeners.push({ type: l.type, server });
        const a = server.address() as net.AddressInfo;
        this.log.info({ type: l.type, address: a.address, port: a.port }, 'listening');
        continue;
      }
      const server = await listenTcp({ address: l.address, port: l.port, directTls: l.type === 'c2s-tls', certs: this.certs, requestClientCert: this.config.tls.requestClientCert,
        proxyProtocol: l.proxyProtocol, onProxyError: this.onProxyError,
        onTlsError: (e, addr) => this.log.info({ addr, err: e.message }, 'TLS handshake failed') },
      l.type === 'component' ? (t) => this.accept(t, (x) => new ComponentStream(this, this.components, x)) : (t) => this.accept(t));
      this.listeners.push({ type: l.type, server });
      const a = server.address() as net.AddressInfo;
      this.log.info({ type: l.type, address: a.address, port: a.port }, 'listening');
    }
    this.sweeper = setInterval(() => { const now = Date.now(); for (const s of this.streams) s.tick(now); }, 1000);
    this.sweeper.unref();
    await this.hooks.emit('server/started', {});
    this.log.info({ hosts: [...this.hosts.keys()], modules: loaded, storage: this.storage.kind }, 'Magpie started');
  }

  private readonly onProxyError = (e: Error, addr: string | undefined): void => { this.log.warn({ addr, err: e.message }, 'PROXY protocol: connection refused'); };

  private boshService(): BoshService | undefined {
    const h = this.config.http; const l = this.config.limits;
    if (!h.boshPath) return undefined;
    return new BoshService({ path: h.boshPath, allowedOrigins: h.allowedOrigins, ...h.bosh,
      maxRequestBytes: h.bosh.maxRequestBytes ?? l.maxStanzaBytes, maxPendingBytes: l.maxOutboundBuffer,
      parserLimits: { maxDepth: l.maxDepth, maxAttributes: l.maxAttributes, maxNameLength: l.maxNameLength },
      isLocalHost: (d) => this.isLocalHost(d), log: this.log.child({ component: 'bosh' }), onTransport: (t) => this.accept(t) });
  }

  /** The port a listener of this type is bound to (tests bind to port 0). */
  port(type: 'c2s' | 'c2s-tls' | 'http' | 'https' | 'component' | 's2s' | 's2s-tls'): number {
    const l = this.listeners.find((x) => x.type === type);
    if (!l) throw new Error(`no ${type} listener`);
    return (l.server.address() as net.AddressInfo).port;
  }

  private accept(t: Transport, open: (t: Transport) => C2SStream | ComponentStream = (x) => new C2SStream(this, x)): void {
    if (this.stopping) { t.destroy(); return; }
    const n = (this.connectionsByAddress.get(t.remoteAddress) ?? 0) + 1;
    if (n > this.config.limits.maxConnectionsPerAddress) {
      this.log.warn({ addr: t.remoteAddress }, 'too many connections from one address');
      const s = open(t);
      s.fatal(new StreamError('policy-violation', 'too many connections from your address'));
      return;
    }
    this.connectionsByAddress.set(t.remoteAddress, n);
    const stream = open(t);
    this.streams.add(stream);
    const close = t.onClose;
    t.onClose = (err) => {
      close(err);
      this.streams.delete(stream);
      const left = (this.connectionsByAddress.get(t.remoteAddress) ?? 1) - 1;
      if (left <= 0) this.connectionsByAddress.delete(t.remoteAddress); else this.connectionsByAddress.set(t.remoteAddress, left);
    };
  }

  get connectionCount(): number { return this.streams.size; }

  /** Graceful shutdown: every stream gets <system-shutdown/> (RFC 6120 §4.9.3.20). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.hooks.emit('server/stopping', {});
    for (const l of this.listeners) l.server.close();
    for (const s of this.streams) s.close(new StreamError('system-shutdown'));
    const deadline = Date.now() + this.config.limits.closeTimeout * 1000;
    while (this.streams.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const s of this.streams) s.transport.destroy();
    if (this.sweeper) clearInterval(this.sweeper);
    await this.modules?.unloadAll();
    await this.cluster?.stop();
    if (this.ownsStorage) await this.storage?.close();
    this.log.info('Magpie stopped');
    this.log.flush?.();
  }
}
