// Routing to external components (XEP-0114): the registry of configured component domains and
// of the one live connection each may have, and the claim of `route/component` (docs/routing.md
// step 2) for stanzas addressed to a component's domain. A configured component that is not
// connected answers with service-unavailable (RFC 6120 §8.3.3.19), so a sender learns at once
// that the service is down instead of waiting for a reply that never comes.

import { readFile } from 'node:fs/promises';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { Element } from '@magpie/core/xml/element';
import type { StreamError } from '@magpie/core/protocol/errors';
import type { HookBus } from '../hooks/bus.js';
import type { StanzaEvent } from '../hooks/events.js';
import type { ComponentConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../modules/metrics.js';
import type { DiscoRegistry } from '../modules/disco-registry.js';
import type { Router } from './router.js';

/** What the router sees of an authenticated component connection. */
export interface ComponentLink {
  readonly domain: string;
  send(stanza: Element): void;
  close(error?: StreamError): void;
}

export interface ComponentRouterDeps {
  components: readonly ComponentConfig[];
  hooks: HookBus;
  router: Router;
  log: Logger;
  metrics: Metrics;
  disco: DiscoRegistry;
  /** Hosted domains. */
  hosts: readonly string[];
}

interface Configured { domain: string; name?: string; secret?: string; secretFile?: string }

export class ComponentRouter {
  private readonly configured = new Map<string, Configured>();
  private readonly links = new Map<string, ComponentLink>();
  private readonly metric;

  constructor(private readonly deps: ComponentRouterDeps) {
    for (const c of deps.components) this.configured.set(c.domain, { ...c });
    const m = deps.metrics;
    this.metric = {
      connected: m.counter('components.connected'), authFailures: m.counter('components.auth_failures'),
      toComponent: m.counter('components.stanzas_out'), fromComponent: m.counter('components.stanzas_in'),
      bounced: m.counter('components.bounced'),
    };
    deps.hooks.on('route/component', (ev) => this.route(ev), 0);
    // A connected component is a service of the server: list it in disco#items (XEP-0030 §4),
    // under the hosts it is a subdomain of, or under every host when it is under none of them.
    for (const c of this.configured.values()) {
      const parents = deps.hosts.filter((h) => c.domain.endsWith('.' + h));
      deps.disco.items.push((host) => {
        if (!this.links.has(c.domain)) return undefined;
        return parents.length === 0 || parents.includes(host) ? { jid: c.domain, name: c.name } : undefined;
      });
    }
  }

  /** Read secrets kept in files (at start, so a missing file stops the start with its key). */
  async init(): Promise<void> {
    let i = 0;
    for (const c of this.configured.values()) {
      if (c.secretFile !== undefined) {
        let text: string;
        try { text = await readFile(c.secretFile, 'utf8'); } catch (e) {
          throw new Error(`components.${i}.secretFile: cannot read ${c.secretFile}: ${(e as Error).message}`);
        }
        c.secret = text.replace(/\r?\n$/, '');
        if (!c.secret) throw new Error(`components.${i}.secretFile: ${c.secretFile} is empty`);
      }
      i++;
    }
  }

  isConfigured(domain: string): boolean { return this.configured.has(domain); }
  secretOf(domain: string): string | undefined { return this.configured.get(domain)?.secret; }
  isConnected(domain: string): boolean { return this.links.has(domain); }
  get connectedCount(): number { return this.links.size; }

  /** Register an authenticated connection; false when the domain already has one (conflict). */
  attach(link: ComponentLink): boolean {
    if (this.links.has(link.domain)) return false;
    this.links.set(link.domain, link);
    this.metric.connected.set(this.links.size);
    return true;
  }

  detach(link: ComponentLink): void {
    if (this.links.get(link.domain) !== link) return;
    this.links.delete(link.domain);
    this.metric.connected.set(this.links.size);
  }

  authFailed(): void { this.metric.authFailures.inc(); }
  received(): void { this.metric.fromComponent.inc(); }

  private route(ev: StanzaEvent): unknown {
    const domain = ev.to.domain;
    if (!this.configured.has(domain)) return undefined;
    const link = this.links.get(domain);
    if (link) { link.send(ev.stanza); this.metric.toComponent.inc(); return true; }
    // errorReply never answers an error; an iq result has no one waiting for an answer either.
    if (!(ev.stanza.name === 'iq' && ev.stanza.attrs.type === 'result')) {
      this.metric.bounced.inc();
      this.deps.router.bounce(ev, new StanzaError('service-unavailable', `${domain} is not connected`));
    }
    return true;
  }
}
