// Service Discovery (XEP-0030) for the server (§3, §4) and, on behalf of accounts, for bare JIDs
// (RFC 6121 does not require it; XEP-0030 §3.1 lets the server answer for an account: identity
// account/registered and the features modules register with scope 'account').

import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import { defineModule } from '../module.js';
import type { DiscoRegistry } from '../disco-registry.js';
import type { DiscoIdentity } from '../module.js';

export function infoResult(node: string | undefined, identities: DiscoIdentity[], features: Iterable<string>, extensions: Element[] = []): Element {
  const q = xml('query', NS.DISCO_INFO, { node });
  for (const i of identities) q.c('identity', { category: i.category, type: i.type, name: i.name, 'xml:lang': i.lang });
  for (const f of [...new Set(features)].sort()) q.c('feature', { var: f });
  q.append(...extensions);
  return q;
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
      api.iq({ type: 'get', scope: 'host', xmlns: NS.DISCO_INFO, name: 'query' }, (_ev, q) => {
        const node = q.attr('node');
        if (node !== undefined) throw new StanzaError('item-not-found');
        return infoResult(undefined, registry.hostIdentities, [NS.DISCO_INFO, NS.DISCO_ITEMS, ...registry.hostFeatures], registry.extensions.map((f) => f()));
      });
      api.iq({ type: 'get', scope: 'host', xmlns: NS.DISCO_ITEMS, name: 'query' }, (ev, q) => {
        if (q.attr('node') !== undefined) throw new StanzaError('item-not-found');
        const r = xml('query', NS.DISCO_ITEMS);
        for (const f of registry.items) { const it = f(ev.to.domain); if (it) r.c('item', { jid: it.jid, name: it.name }); }
        return r;
      });
      api.iq({ type: 'get', scope: 'bare', xmlns: NS.DISCO_INFO, name: 'query' }, async (ev, q) => {
        if (!(await api.accounts.userExists(ev.to.domain, ev.to.local))) throw new StanzaError('service-unavailable');
        if (q.attr('node') !== undefined) throw new StanzaError('item-not-found');
        return infoResult(undefined, registry.accountIdentities, [NS.DISCO_INFO, NS.DISCO_ITEMS, ...registry.accountFeatures]);
      });
      api.iq({ type: 'get', scope: 'bare', xmlns: NS.DISCO_ITEMS, name: 'query' }, async (ev) => {
        if (!(await api.accounts.userExists(ev.to.domain, ev.to.local))) throw new StanzaError('service-unavailable');
        return xml('query', NS.DISCO_ITEMS);
      });
    },
  });
}
