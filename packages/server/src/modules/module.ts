// The shape of a feature module (ARCHITECTURE.md "One feature = one module"): a manifest that
// says what it implements (docs/xep-support.md is generated from it) and validates its options,
// and a setup(api) that registers everything through `api`, so unloading undoes all of it.

import type { z } from 'zod';
import type { Element } from '@magpie/core/xml/element';
import type { EventName, EventPayload, StanzaEvent } from '../hooks/events.js';
import type { StanzaError } from '@magpie/core/protocol/errors';
import type { IqHandler, IqSpec } from '../router/iq-registry.js';
import type { Logger } from '../log/logger.js';
import type { ArchiveStore, KeyValueStore, MapStore } from '../storage/storage.js';
import type { SessionRegistry } from '../session/registry.js';
import type { Config } from '../config/schema.js';
import type { AccountService } from '../accounts/accounts.js';
import type { HttpHandler } from '../transports/http-routes.js';
import type { Origin } from '../session/session.js';
import type { JID } from '@magpie/core/jid/jid';
import type { CertificateStore } from '../tls/certificates.js';

export interface SpecSupport {
  /** 'XEP-0199', 'RFC 6120', ... */
  spec: string;
  /** Version of the XEP implemented, or the RFC sections. */
  version?: string;
  status: 'complete' | 'partial';
  notes?: string;
}

export interface ModuleManifest<O extends z.ZodTypeAny = z.ZodTypeAny> {
  name: string;
  description: string;
  specs: SpecSupport[];
  /** zod schema for this module's options (modules.options.<name> in the config). */
  options?: O;
  /** Modules that must be loaded first. */
  depends?: string[];
  /** Loaded unless the configuration disables it. */
  defaultEnabled: boolean;
}

export interface DiscoIdentity { category: string; type: string; name?: string; lang?: string }

/** Scoped store handles: the store name is fixed by the module. */
export interface ScopedKv { get<T>(host: string, user: string): Promise<T | undefined>; set(host: string, user: string, value: unknown): Promise<void> }
export interface ScopedStores {
  kv(store: string): ScopedKv; map: MapStore; archive: ArchiveStore; raw: { kv: KeyValueStore };
  /** Run `fn` holding this module's lock on one account, in every process sharing the storage
      (Storage.withAccountLock: cluster nodes too). Not reentrant. */
  lock<T>(host: string, user: string, fn: () => Promise<T>): Promise<T>;
}

export interface ModuleApi<O = unknown> {
  readonly name: string;
  readonly options: O;
  readonly log: Logger;
  readonly config: Config;
  readonly sessions: SessionRegistry;
  readonly accounts: AccountService;
  readonly stores: ScopedStores;
  /** Hosted domains. */
  hosts(): string[];
  isLocalHost(domain: string): boolean;
  /** Hosted, a component's, or a module's service domain (see serveDomain). */
  isServedDomain(domain: string): boolean;
  /** Declare a service domain this module answers on `route/component` (e.g. upload.<host>),
      so that other servers may address it over federation. */
  serveDomain(domain: string): void;
  hook<N extends EventName>(name: N, handler: (p: EventPayload<N>) => unknown, priority?: number): void;
  iq(spec: IqSpec, handler: IqHandler): void;
  /** A feature the server (scope 'host') or every account (scope 'account') advertises in disco#info. */
  discoFeature(feature: string, scope?: 'host' | 'account'): void;
  discoIdentity(identity: DiscoIdentity, scope?: 'host' | 'account'): void;
  /** Extended service discovery forms (XEP-0128) on the server's disco#info. */
  discoExtension(form: () => Element): void;
  /** Items the server lists in disco#items (services on other domains, e.g. conference.<host>). */
  discoItem(item: (host: string) => { jid: string; name?: string } | undefined): void;
  /** Fire an event on the hook bus (for events a module owns, e.g. message/offline). */
  fire<N extends EventName>(name: N, payload: EventPayload<N>): Promise<unknown>;
  /** Answer a routed stanza with an error from its destination (RFC 6120 §8.3.1). */
  bounce(ev: StanzaEvent, error: StanzaError): void;
  /** Route a stanza from the server (its from/to must be set). */
  send(stanza: Element): Promise<void>;
  /** Route a stanza on behalf of another origin (a remote server's or a component's stanza). */
  route(stanza: Element, origin: Origin, from: JID, to: JID | undefined): Promise<void>;
  /** The hosts' TLS certificates. */
  certificates(): CertificateStore;
  /** Send an iq and await the answer. */
  request(iq: Element, timeoutMs?: number): Promise<Element>;
  /** A timer that is cleared when the module unloads. */
  every(ms: number, fn: () => void): void;
  after(ms: number, fn: () => void): void;
  onUnload(fn: () => void | Promise<void>): void;
  metric(name: string): { inc(n?: number): void; set(v: number): void };
  /** Offer a service to other modules (e.g. the roster module offers 'roster'). */
  provide<T extends object>(service: string, impl: T): void;
  /** A service another module provides; undefined when that module is not loaded. Name it in
      manifest.depends when it is required, so the loader starts the provider first. */
  service<T extends object>(service: string): T | undefined;
  /** Serve every HTTP path under `prefix` on the HTTP(S) listeners (XEP-0363 files, …). */
  http(prefix: string, handler: HttpHandler): void;
  /** Serve the paths that no route and no listener endpoint serves, `/` included (one module only). */
  httpFallback(handler: HttpHandler): void;
  /** Bound ports of the HTTP and HTTPS listeners (undefined when not configured). */
  httpPorts(): { http?: number; https?: number };
}

export interface MagpieModule<O extends z.ZodTypeAny = z.ZodTypeAny> {
  manifest: ModuleManifest<O>;
  setup(api: ModuleApi<z.infer<O>>): void | Promise<void>;
}

export function defineModule<O extends z.ZodTypeAny>(m: MagpieModule<O>): MagpieModule<O> { return m; }
