// Service Discovery (XEP-0030) for the server (§3, §4) and, on behalf of accounts, for bare JIDs
// (XEP-0030 §3.1 and §4.1: the server answers for an account; identity account/registered and
// the features modules register with scope 'account'). Access to an account's answers follows
// XEP-0030 §8 (Security Considerations), so that disco is no presence leak or harvesting tool:
// disco#info to a bare JID is service-unavailable when the account does not exist or when the
// requester may not see the account's presence (RFC 6121 subscription 'from'/'both', from the
// roster service) and is neither the account itself nor the server; disco#items is an empty
// result in the same cases, and otherwise lists the account's available resources (all its
// connected ones to the account itself).
// Other modules reach the server's answer through the 'disco' service (entity capabilities,
// XEP-0115, hashes it and answers its 'node#ver' caps node like the node-less query, §6.2).

import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { JID } from '@magpie/core/jid/jid';
import { defineModule } from '../module.js';
import type { DiscoRegistry } from '../disco-registry.js';
import type { DiscoIdentity } from '../module.js';
import { ROSTER, type RosterService } from '../im-services/services.js';

export function infoResult(node: string | undefined, identities: DiscoIdentity[], features: Iterable<string>, extensions: Element[] = []): Element {
  const q = xml('query', NS.DISCO_INFO, { node });
  for (const i of identities) q.c('identity', { category: i.category, type: i.type, name: i.name, 'xml:lang': i.lang });
  for (const f of [...new Set(features)].sort()) q.c('feature', { var: f });
  q.append(...extensions);
  return q;
}

export const DISCO = 'disco';
/** What the disco module offers other modules (api.service<DiscoService>(DISCO)). */
export interface DiscoService {
  /** The server's node-less disco#info <query/>, exactly as a client receives it. */
  hostInfo(host: string): Element;
  /**
   * Accept further nodes on the server's disco#info that answer like the node-less query (the
   * XEP-0115 caps node 'node#ver'). Returns the function that removes the alias.
   */
  addNodeAlias(matches: (host: string, node: string) => boolean): () => void;
  /** Nodes an account offers (PEP, XEP-0163 §6): listed in its disco#items, answered for
      disco#info with that node. Returns the function that removes the provider. */
  addAccountNodes(p: AccountNodes): () => void;
  /** Nodes on the server's own JID (the XEP-0050 command list and command nodes): answered
      for disco#info and disco#items with that node. Returns the function that removes it. */
  addHostNodes(p: HostNodes): () => void;
}
export interface HostNodes {
  /** disco#items of `node`, undefined when the node is not this provider's. */
  items(host: string, node: string, from: JID): Promise<{ jid: string; node?: string; name?: string }[] | undefined>;
  /** disco#info of `node`, undefined when it is not this provider's; may throw (forbidden). */
  info(host: string, node: string, from: JID): Promise<Element | undefined>;
}
export interface AccountNodes {
  /** The nodes `from` may see (XEP-0163 §6: only those it may subscribe to or read). */
  items(account: JID, from: JID): Promise<{ node: string; name?: string }[]>;
  /** disco#info for one node, undefined when it is not this provider's or not visible to `from`. */
  info(account: JID, node: string, from: JID): Promise<Element | undefined>;
}

/** The registry is shared with the server; the module reads it at query time. */
export function createDiscoModule(registry: DiscoRegistry) {
  return defineModule({
    manifest: {
      name: 'disco',
      description: 'Service discovery of the server and of accounts',
      specs: [{ spec: 'XEP-0030', version: '2.5rc3', status: 'complete' }],
      defaultEnabled: true,
    },
    setup(api) {
      const aliases: ((host: string, node: string) => boolean)[] = [];
      const hostInfo = (node?: string): Element =>
        infoResult(node, registry.hostIdentities, [NS.DISCO_INFO, NS.DISCO_ITEMS, ...registry.hostFeatures], registry.extensions.map((f) => f()));
      const nodeProviders: AccountNodes[] = [];
      const hostNodes: HostNodes[] = [];
      api.provide<DiscoService>(DISCO, {
        hostInfo: () => hostInfo(),
        addNodeAlias: (m) => { aliases.push(m); return () => { const i = aliases.indexOf(m); if (i >= 0) aliases.splice(i, 1); }; },
        addAccountNodes: (p) => { nodeProviders.push(p); return () => { const i = nodeProviders.indexOf(p); if (i >= 0) nodeProviders.splice(i, 1); }; },
        addHostNodes: (p) => { hostNodes.push(p); return () => { const i = hostNodes.indexOf(p); if (i >= 0) hostNodes.splice(i, 1); }; },
      });

      // XEP-0030 §8: who may learn about an account through its server. The account itself
      // and the server are trusted; anyone else needs a presence subscription from the account.
      const mayDiscover = async (from: JID, account: JID): Promise<boolean> => {
        if (from.bareString() === account.bareString()) return true;
        if (from.isDomain && api.isLocalHost(from.domain)) return true;
        const roster = api.service<RosterService>(ROSTER);
        return !!roster && (await roster.hasFrom(account.domain, account.local, from.bareString()));
      };

      api.iq({ type: 'get', scope: 'host', xmlns: NS.DISCO_INFO, name: 'query' }, async (ev, q) => {
        const node = q.attr('node');
        if (node === undefined || aliases.some((m) => m(ev.to.domain, node))) return hostInfo(node);
        for (const p of hostNodes) { const r = await p.info(ev.to.domain, node, ev.from); if (r) return r; }
        throw new StanzaError('item-not-found');
      });
      api.iq({ type: 'get', scope: 'host', xmlns: NS.DISCO_ITEMS, name: 'query' }, async (ev, q) => {
        const node = q.attr('node');
        if (node !== undefined) {
          for (const p of hostNodes) {
            const items = await p.items(ev.to.domain, node, ev.from);
            if (!items) continue;
            const r = xml('query', NS.DISCO_ITEMS, { node });
            for (const it of items) r.c('item', { jid: it.jid, node: it.node, name: it.name });
            return r;
          }
          throw new StanzaError('item-not-found');
        }
        const r = xml('query', NS.DISCO_ITEMS);
        for (const f of registry.items) { const it = f(ev.to.domain); if (it) r.c('item', { jid: it.jid, name: it.name }); }
        return r;
      });
      api.iq({ type: 'get', scope: 'bare', xmlns: NS.DISCO_INFO, name: 'query' }, async (ev, q) => {
        // §8 rule 1: the same error whether the account is missing or hidden from this requester.
        if (!(await api.accounts.userExists(ev.to.domain, ev.to.local))) throw new StanzaError('service-unavailable');
        const node = q.attr('node');
        // A node's provider decides who may see it (a PEP node with the open access model is
        // public, XEP-0163 §6); unknown and hidden nodes are alike.
        if (node !== undefined) {
          for (const p of nodeProviders) { const r = await p.info(ev.to.bare, node, ev.from); if (r) return r; }
          throw new StanzaError('item-not-found');
        }
        if (!(await mayDiscover(ev.from, ev.to))) throw new StanzaError('service-unavailable');
        return infoResult(undefined, registry.accountIdentities, [NS.DISCO_INFO, NS.DISCO_ITEMS, ...registry.accountFeatures]);
      });
      api.iq({ type: 'get', scope: 'bare', xmlns: NS.DISCO_ITEMS, name: 'query' }, async (ev, q) => {
        // §8 rule 2: an empty result for a missing account (node or not) and, without a node,
        // for a requester who may not see the account's available resources.
        const empty = xml('query', NS.DISCO_ITEMS, { node: q.attr('node') });
        if (!(await api.accounts.userExists(ev.to.domain, ev.to.local))) return empty;
        if (q.attr('node') !== undefined) throw new StanzaError('item-not-found');
        if (!(await mayDiscover(ev.from, ev.to))) return empty;
        // The account sees all its connected resources; others only the available ones (a
        // resource that sent no presence is not shown to contacts, RFC 6121 §4.6).
        const own = ev.from.bareString() === ev.to.bareString();
        for (const s of api.sessions.resources(ev.to.bareString())) if (own || s.presence) empty.c('item', { jid: s.jid.toString() });
        for (const p of nodeProviders) for (const n of await p.items(ev.to.bare, ev.from)) empty.c('item', { jid: ev.to.bareString(), node: n.node, name: n.name });
        return empty;
      });
    },
  });
}
