// Loads the enabled modules in dependency order, validates each one's options against its
// manifest, and builds the `api` each one sees. Everything a module registers is recorded so
// unload() removes it (hooks, iq handlers, timers, unload callbacks).

import type { Element } from '@magpie/core/xml/element';
import type { ServerCore } from '../server-core.js';
import type { MagpieModule, ModuleApi, ScopedKv } from './module.js';
import type { DiscoRegistry } from './disco-registry.js';
import type { Metrics } from './metrics.js';
import type { Json } from '../storage/storage.js';

export class ModuleError extends Error {}

interface Loaded { module: MagpieModule; undo: (() => void | Promise<void>)[] }

export class ModuleLoader {
  private loaded = new Map<string, Loaded>();
  private services = new Map<string, object>();
  constructor(private readonly core: ServerCore, private readonly disco: DiscoRegistry, private readonly metrics: Metrics, private readonly available: MagpieModule[]) {}

  /** A service the server itself offers to modules (cluster mode's session handover and owned keys), before loadAll. */
  provideCore(service: string, impl: object): void { this.services.set(service, impl); }

  /** Which modules the configuration enables, in dependency order; throws naming the problem. */
  plan(): MagpieModule[] {
    const cfg = this.core.config.modules;
    const byName = new Map(this.available.map((m) => [m.manifest.name, m]));
    for (const n of [...(cfg.enabled ?? []), ...cfg.disabled, ...Object.keys(cfg.options)]) {
      if (!byName.has(n)) throw new ModuleError(`modules: unknown module '${n}' (known: ${[...byName.keys()].sort().join(', ')})`);
    }
    const wanted = new Set(cfg.enabled ?? this.available.filter((m) => m.manifest.defaultEnabled).map((m) => m.manifest.name));
    for (const n of cfg.disabled) wanted.delete(n);
    const order: MagpieModule[] = [];
    const visiting = new Set<string>();
    const visit = (name: string, from?: string): void => {
      const m = byName.get(name);
      if (!m) throw new ModuleError(`module '${from}' depends on unknown module '${name}'`);
      if (order.includes(m)) return;
      if (visiting.has(name)) throw new ModuleError(`module dependency cycle at '${name}'`);
      if (!wanted.has(name)) throw new ModuleError(`module '${from}' needs '${name}', which is disabled`);
      visiting.add(name);
      for (const d of m.manifest.depends ?? []) visit(d, name);
      visiting.delete(name);
      order.push(m);
    };
    for (const n of wanted) visit(n);
    return order;
  }

  async loadAll(): Promise<string[]> {
    for (const m of this.plan()) await this.load(m);
    return [...this.loaded.keys()];
  }

  async load(module: MagpieModule): Promise<void> {
    const name = module.manifest.name;
    const raw = this.core.config.modules.options[name] ?? {};
    let options: unknown = raw;
    if (module.manifest.options) {
      const r = module.manifest.options.safeParse(raw);
      if (!r.success) throw new ModuleError(`modules.options.${name}: ` + r.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`).join('; '));
      options = r.data;
    }
    const entry: Loaded = { module, undo: [] };
    const api = this.api(name, options, entry.undo);
    await module.setup(api);
    this.loaded.set(name, entry);
    this.core.log.debug({ module: name }, 'module loaded');
  }

  async unloadAll(): Promise<void> {
    for (const [, l] of [...this.loaded].reverse()) for (const u of l.undo.reverse()) await u();
    this.loaded.clear();
  }

  names(): string[] { return [...this.loaded.keys()]; }

  private api(name: string, options: unknown, undo: (() => void | Promise<void>)[]): ModuleApi<never> {
    const core = this.core;
    const disco = this.disco;
    const storage = core.storage;
    const kv = (store: string): ScopedKv => ({
      get: <T>(host: string, user: string) => storage.kv.get(host, user, store) as Promise<T | undefined>,
      set: (host: string, user: string, value: unknown) => storage.kv.set(host, user, store, value as Json | undefined),
    });
    const api: ModuleApi<unknown> = {
      name, options, log: core.log.child({ module: name }), config: core.config, sessions: core.sessions, accounts: core.accounts,
      stores: { kv, map: storage.map, archive: storage.archive, raw: { kv: storage.kv }, lock: (host, user, fn) => storage.withAccountLock(host, user, name, fn) },
      hosts: () => core.config.hosts.map((h) => h.domain),
      isLocalHost: (d) => core.isLocalHost(d),
      isServedDomain: (d) => core.isServedDomain(d),
      serveDomain: (d) => { undo.push(core.serveDomain(d)); },
      hook: (ev, handler, priority) => { undo.push(core.hooks.on(ev, handler as never, priority)); },
      iq: (spec, handler) => { undo.push(core.router.iq.add(spec, handler)); },
      discoFeature: (f, scope = 'host') => {
        const set = scope === 'host' ? disco.hostFeatures : disco.accountFeatures;
        set.add(f); undo.push(() => { set.delete(f); });
      },
      discoIdentity: (id, scope = 'host') => {
        const list = scope === 'host' ? disco.hostIdentities : disco.accountIdentities;
        list.push(id); undo.push(() => { const i = list.indexOf(id); if (i >= 0) list.splice(i, 1); });
      },
      discoExtension: (f: () => Element) => { disco.extensions.push(f); undo.push(() => { disco.extensions.splice(disco.extensions.indexOf(f), 1); }); },
      discoItem: (f) => { disco.items.push(f); undo.push(() => { disco.items.splice(disco.items.indexOf(f), 1); }); },
      fire: (ev, payload) => core.hooks.fire(ev, payload),
      bounce: (ev, err) => core.router.bounce(ev, err),
      send: (stanza) => core.router.send(stanza),
      request: (iq, ms) => core.router.request(iq, ms),
      route: (stanza, origin, from, to) => core.router.route(stanza, origin, from, to),
      certificates: () => core.certs,
      every: (ms, fn) => { const t = setInterval(fn, ms); t.unref(); undo.push(() => clearInterval(t)); },
      after: (ms, fn) => { const t = setTimeout(fn, ms); t.unref(); undo.push(() => clearTimeout(t)); },
      onUnload: (fn) => { undo.push(fn); },
      metric: (n) => this.metrics.counter(`${name}.${n}`),
      provide: (service, impl) => {
        if (this.services.has(service)) throw new ModuleError(`service '${service}' is already provided`);
        this.services.set(service, impl);
        undo.push(() => { this.services.delete(service); });
      },
      service: <T extends object>(service: string) => this.services.get(service) as T | undefined,
      http: (prefix, handler) => { undo.push(core.httpRoutes.add(prefix, handler)); },
      httpFallback: (handler) => { undo.push(core.httpRoutes.setFallback(handler)); },
      httpPorts: () => ({ ...core.httpRoutes.ports }),
    };
    return api as ModuleApi<never>;
  }
}
