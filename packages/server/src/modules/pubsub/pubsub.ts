// Publish-Subscribe (XEP-0060 1.26) and the Personal Eventing Protocol (XEP-0163 1.2.2): one
// engine (./engine.ts) behind a PEP service on every account (./pep.ts) and a generic service on
// pubsub.<host> (./service-domain.ts). Other modules (bookmarks, avatars) use PEP through the
// 'pep' service: publish on an account's behalf and hear about its publications.

import { z } from 'zod';
import { JID } from '@magpie/core/jid/jid';
import { StanzaError } from '@magpie/core/protocol/errors';
import { defineModule } from '../module.js';
import { ROSTER, type RosterService } from '../im-services/services.js';
import { CAPS, type CapsService } from '../caps/client-caps.js';
import { PubSubService, type Notifier, type Relations, type ServiceSync } from './engine.js';
import { NodeStore } from './node-store.js';
import { NS_PUBSUB, defaultNodeConfig } from './node-config.js';
import { handleOwner, handlePubsub, NS_OWNER } from './protocol.js';
import { createPepNotifier, type PepListener } from './pep.js';
import { createRemoteInterest, type RemoteInterest } from './pep-remote.js';
import { nodeInfo, serviceNotifier, serviceRouter } from './service-domain.js';
import { DISCO, type DiscoService } from '../disco/disco.js';

export const PEP = 'pep';
export interface PepService {
  /** PEP is served to clients (option pep.enabled); modules built on it stay idle otherwise. */
  readonly enabled: boolean;
  /** The PEP service of the account `bare` (which must exist). */
  of(bare: JID): PubSubService;
  /** Hear every PEP publication, retraction, purge and deletion. Returns the unsubscribe. */
  onEvent(l: PepListener): () => void;
}

/** XEP-0060 §10 features this engine implements (pubsub#<name>). */
const FEATURES = ['access-open', 'access-presence', 'access-roster', 'access-whitelist', 'auto-create', 'config-node', 'config-node-max',
  'create-and-configure', 'create-nodes', 'delete-items', 'delete-nodes', 'item-ids', 'last-published', 'manage-subscriptions',
  'modify-affiliations', 'outcast-affiliation', 'persistent-items', 'publish', 'publish-options', 'purge-nodes', 'retract-items',
  'retrieve-affiliations', 'retrieve-default', 'retrieve-items', 'retrieve-subscriptions', 'subscribe', 'multi-subscribe',
  'subscription-options', 'rsm'];
const PEP_ONLY = ['auto-subscribe', 'filtered-notifications', 'presence-notifications'];
const SERVICE_ONLY = ['instant-nodes', 'access-authorize'];
const feature = (f: string): string => `${NS_PUBSUB}#${f}`;

const configOptions = (maxItems: number, access: 'open' | 'presence') => z.object({
  /** max_items of a node created without one. */
  defaultMaxItems: z.number().int().min(1).default(maxItems),
  /** The most items one node keeps (also what max_items='max' means). */
  maxItems: z.number().int().min(1).default(1000),
  /** The most nodes in one service. */
  maxNodes: z.number().int().min(1).default(access === 'presence' ? 256 : 10_000),
  /** access_model of a node created without one. */
  defaultAccessModel: z.enum(['open', 'presence', 'roster', 'whitelist']).default(access),
}).strict();

export default defineModule({
  manifest: {
    name: 'pubsub',
    description: 'Publish-subscribe: PEP on every account and a generic service on pubsub.<host>',
    specs: [
      { spec: 'XEP-0060', version: '1.26', status: 'partial', notes: 'access models open/presence/roster/whitelist, and authorize on the generic service (pending subscriptions approved or denied by the owners through the subscribe_authorization form or subscription management; limit per node); publish models publishers/subscribers/open; publish-options; subscription options deliver and show-values (local subscribers), also with subscribe; item retrieval paged with RSM (§6.5.4: max, after, before, index, count); no get-pending ad-hoc command, default subscription options, digests or collections' },
      { spec: 'XEP-0163', version: '1.2.2', status: 'complete', notes: '+notify filtering from verified caps of local clients; last item on presence; remote contacts\' caps learnt from their presence and verified by a disco#info query from the account; no XEP-0033 replyto' },
      { spec: 'XEP-0223', version: '1.1.1', status: 'complete', notes: 'persist_items and access_model=whitelist accepted as publish-options' },
      { spec: 'XEP-0292', version: '0.12', status: 'complete', notes: 'vCard4 over PEP: a PEP node, nothing more is needed from the server' },
    ],
    options: z.object({
      /** Largest item payload, bytes of serialised XML. */
      maxItemBytes: z.number().int().min(64).default(256 * 1024),
      /** PubSub services (accounts or domains) kept in memory. */
      cacheServices: z.number().int().min(1).default(10_000),
      pep: configOptions(1, 'presence').extend({
        enabled: z.boolean().default(true),
        /** Contacts on other servers: their caps (from presence) are verified and remembered. */
        remote: z.object({
          /** Remote resources remembered per account. */
          maxResourcesPerAccount: z.number().int().min(0).default(100),
          /** Verified verification strings kept in memory. */
          maxCachedVers: z.number().int().min(1).default(1000),
          /** How long to wait for a remote client's disco#info answer. */
          queryTimeoutMs: z.number().int().positive().default(10_000),
        }).strict().prefault({}),
      }).strict().prefault({}),
      service: configOptions(10, 'open').extend({
        enabled: z.boolean().default(true),
        /** Service domain; {host} is replaced by each hosted domain. */
        domain: z.string().default('pubsub.{host}'),
        /** Who may create nodes: 'local' (this server's users), 'anyone', or a list of bare JIDs. */
        creators: z.union([z.enum(['local', 'anyone']), z.array(z.string())]).default('local'),
        /** Subscription requests awaiting the owners' approval on one 'authorize' node. */
        maxPendingPerNode: z.number().int().min(1).default(100),
      }).strict().prefault({}),
    }).strict(),
    depends: ['disco', 'roster', 'caps'],
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const relations: Relations = {
      async rosterItem(owner, contact) {
        const j = JID.tryParse(owner);
        if (!j?.local || !api.isLocalHost(j.domain)) return undefined;
        const it = await api.service<RosterService>(ROSTER)?.get(j.domain, j.local, contact);
        return it && { subscription: it.subscription, groups: it.groups };
      },
      presenceKnown(jid) {
        const j = JID.tryParse(jid);
        return !!j?.local && api.isLocalHost(j.domain);
      },
    };
    const defaults = defaultNodeConfig;

    // Services in memory, least recently used first out.
    const cache = new Map<string, PubSubService>();
    const cached = (key: string, make: () => PubSubService): PubSubService => {
      let s = cache.get(key);
      if (s) { cache.delete(key); cache.set(key, s); return s; }
      s = make();
      cache.set(key, s);
      while (cache.size > o.cacheServices) cache.delete(cache.keys().next().value!);
      return s;
    };

    // Cluster mode: mutations hold the account's lock in storage and other nodes drop their copy.
    const syncOf = (host: string, user: string): ServiceSync | undefined => !api.config.cluster.enabled ? undefined : {
      lock: (fn) => api.stores.lock(host, user, fn),
      changed: () => api.fire('cache/invalidate', { scope: 'pubsub', host, user }).then(() => undefined, (e: unknown) => { api.log.error({ err: e }, 'pubsub: invalidation failed'); }),
    };
    let byDomainRef: Map<string, PubSubService> | undefined;
    api.hook('cache/invalidate', ({ scope, host, user, remote }) => {
      if (scope !== 'pubsub' || !remote) return undefined;
      if (user === '') byDomainRef?.get(host)?.invalidate(); else cache.get(`pep ${user}@${host}`)?.invalidate();
      return undefined;
    });

    const listeners = new Set<PepListener>();
    const pending = new Map<string, Set<Promise<void>>>();
    let pepNotifier: ReturnType<typeof createPepNotifier>;
    const pepOf = (bare: JID): PubSubService => cached(`pep ${bare.bareString()}`, () => new PubSubService({
      host: bare.domain, user: bare.local, jid: bare.bareString(), owner: bare.bareString(), defaults: defaults(o.pep, true),
      limits: { maxItems: o.pep.maxItems, maxNodes: o.pep.maxNodes, maxItemBytes: o.maxItemBytes },
      mayCreate: (from) => from.bareString() === bare.bareString(),
    }, new NodeStore(api.stores.map, bare.domain, bare.local), relations, pepNotifier, syncOf(bare.domain, bare.local)));
    let remote: RemoteInterest | undefined;
    pepNotifier = createPepNotifier({ api, serviceOf: pepOf, listeners, pending, remote: () => remote });
    api.provide<PepService>(PEP, { enabled: o.pep.enabled, of: pepOf, onEvent: (l) => { listeners.add(l); return () => { listeners.delete(l); }; } });

    const allFeatures = (extra: string[]): string[] => [...FEATURES, ...extra].map(feature);
    if (o.pep.enabled) {
      api.discoIdentity({ category: 'pubsub', type: 'pep' }, 'account');
      api.discoIdentity({ category: 'pubsub', type: 'pep' }, 'host');
      for (const f of allFeatures(PEP_ONLY)) { api.discoFeature(f, 'account'); api.discoFeature(f, 'host'); }

      const handler = (owner: boolean) => async (ev: Parameters<Parameters<typeof api.iq>[1]>[0], p: Parameters<Parameters<typeof api.iq>[1]>[1]) => {
        if (!(await api.accounts.userExists(ev.to.domain, ev.to.local))) throw new StanzaError('item-not-found', 'no such account');
        const type = ev.stanza.attrs.type as 'get' | 'set';
        const svc = pepOf(ev.to.bare);
        const result = await (owner ? handleOwner : handlePubsub)(svc, type, ev.from, p);
        // Work other modules started on this request (e.g. the vCard from an avatar) is done
        // before the client hears that it succeeded.
        // (Listeners may start more work while it runs: wait until the account has none, a few
        // rounds at most, as conversions settle after one echo.)
        for (let round = 0; round < 8; round++) {
          const set = pending.get(svc.jid);
          if (!set?.size) break;
          await Promise.all([...set]);
        }
        return result;
      };
      for (const type of ['get', 'set'] as const) {
        api.iq({ type, scope: 'bare', xmlns: NS_PUBSUB, name: 'pubsub' }, handler(false));
        api.iq({ type, scope: 'bare', xmlns: NS_OWNER, name: 'pubsub' }, handler(true));
      }
      api.onUnload(api.service<CapsService>(CAPS)?.onFeatures((s, features) => {
        pepNotifier.onAvailable(s, features).catch((e: unknown) => api.log.error({ err: e }, 'PEP last items failed'));
      }) ?? (() => undefined));
      remote = createRemoteInterest(api, o.pep.remote, (owner, full, features) => {
        pepNotifier.onRemoteKnown(owner, full, features).catch((e: unknown) => api.log.error({ err: e }, 'PEP last items failed'));
      });
      // XEP-0163 §6: the account's nodes in its disco#items and disco#info, as visible to the asker.
      const disco = api.service<DiscoService>(DISCO);
      if (disco) {
        api.onUnload(disco.addAccountNodes({
          async items(account, from) {
            const svc = pepOf(account);
            const out: { node: string; name?: string }[] = [];
            for (const node of (await svc.nodeNames()).sort()) {
              const rec = await svc.record(node);
              if (rec && (await svc.mayAccess(rec, from.toString()))) out.push(rec.config.title ? { node, name: rec.config.title } : { node });
            }
            return out;
          },
          async info(account, node, from) {
            const svc = pepOf(account);
            const rec = await svc.record(node);
            if (!rec || !(await svc.mayAccess(rec, from.toString()))) return undefined;
            return nodeInfo(node, rec, [account.bareString()]);
          },
        }));
      }
      api.hook('account/deleted', ({ host, username }) => { cache.delete(`pep ${username}@${host}`); return undefined; });
    }

    if (o.service.enabled) {
      const byDomain = new Map<string, PubSubService>();
      byDomainRef = byDomain;
      const notifier: Notifier = serviceNotifier(api);
      const creators = o.service.creators;
      for (const host of api.hosts()) {
        const domain = o.service.domain.replaceAll('{host}', host);
        if (api.isLocalHost(domain)) throw new Error(`pubsub: the service domain ${domain} is a hosted domain`);
        byDomain.set(domain, new PubSubService({
          host: domain, user: '', jid: domain, defaults: defaults(o.service, false),
          limits: { maxItems: o.service.maxItems, maxNodes: o.service.maxNodes, maxItemBytes: o.maxItemBytes },
          mayCreate: (from) => creators === 'anyone' || (creators === 'local' ? !!from.local && api.isLocalHost(from.domain) : creators.includes(from.bareString())),
          authorize: { maxPendingPerNode: o.service.maxPendingPerNode },
        }, new NodeStore(api.stores.map, domain, ''), relations, notifier, syncOf(domain, '')));
        api.serveDomain(domain);
        api.discoItem((h) => (h === host ? { jid: domain, name: 'Publish-Subscribe' } : undefined));
      }
      serviceRouter(api, (d) => byDomain.get(d), allFeatures(SERVICE_ONLY));
    }
  },
});
