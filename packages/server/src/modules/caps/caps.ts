// Entity Capabilities (XEP-0115) on the server's side:
// - the server's own caps (§6.3): the verification string (§5.1) of the disco#info answer the
//   disco module gives for the server, advertised as a stream feature, and the caps node
//   'node#ver' answered like the node-less query (§6.2) through the disco service's node alias;
// - client caps (§6.1, §5.4, §8): the 'caps' service telling other modules (PEP) what a local
//   client supports, learnt and verified once per verification string (./client-caps.ts).
// The hash is recomputed from the live answer whenever it is needed (stream features, the caps
// node), memoised on S, since modules may add features while they load; it is logged once the
// server has started.

import { z } from 'zod';
import { defineModule } from '../module.js';
import { DISCO, type DiscoService } from '../disco/disco.js';
import { CAPS_HASHES, NS_CAPS, verificationInput, verificationString } from './verification.js';
import { CAPS, createClientCaps, type CapsService } from './client-caps.js';

export { CAPS, type CapsService };

export default defineModule({
  manifest: {
    name: 'caps',
    description: 'Entity capabilities: the server\'s own (stream feature, caps node) and a verified cache of clients\' capabilities',
    specs: [{ spec: 'XEP-0115', version: '1.6.0', status: 'complete', notes: 'server caps in stream features; client caps verified (§5.4) and cached for other modules; the legacy format (no hash) is ignored; no caps optimization' }],
    options: z.object({
      /** The caps 'node': a URI identifying the software (§4). */
      node: z.string().url().default('https://github.com/magpie-xmpp/magpie'),
      /** Hash function for the server's verification string (§8.1; SHA-1 is mandatory to implement). */
      hash: z.enum(Object.keys(CAPS_HASHES) as [string, ...string[]]).default('sha-1'),
      /** Advertise the server's caps in <stream:features/> (§6.3). */
      streamFeature: z.boolean().default(true),
      /** Learn local clients' capabilities from their presence. */
      clientCaps: z.boolean().default(true),
      /** How long to wait for a client's disco#info answer. */
      queryTimeoutMs: z.number().int().positive().default(10_000),
      /** Caps changes one session may announce before the server stops looking them up. */
      maxLookupsPerSession: z.number().int().positive().default(16),
      /** A client's disco#info answer with more child elements (features, identities, forms) is ignored. */
      maxFeatures: z.number().int().positive().default(1000),
      /** Verified verification strings kept in memory (all are also stored). */
      memoryCacheEntries: z.number().int().positive().default(1000),
      /** Verified verification strings kept in the store; beyond it the oldest are dropped. */
      maxStoredEntries: z.number().int().positive().default(10_000),
      /** Cluster: '+notify' features of one client shared with the other nodes (PEP filtering there). */
      maxSharedNotify: z.number().int().min(0).max(10_000).default(256),
    }).strict(),
    depends: ['disco'],
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const disco = api.service<DiscoService>(DISCO);
    if (!disco) throw new Error('caps: the disco service is missing');
    api.discoFeature(NS_CAPS);

    // Memoised on S: recomputing S is cheap, hashing is skipped while nothing changed.
    let last: { s: string | undefined; ver: string | undefined } | undefined;
    const serverVer = (host: string): string | undefined => {
      const info = disco.hostInfo(host);
      const s = verificationInput(info);
      if (last && last.s === s) return last.ver;
      // Ill-formed (two modules registered the same identity): advertise nothing rather than a
      // string no client could verify, and say so once.
      if (s === undefined) api.log.error('the server\'s disco#info answer repeats an identity; no entity capabilities advertised');
      last = { s, ver: s === undefined ? undefined : verificationString(info, o.hash) };
      return last.ver;
    };
    api.onUnload(disco.addNodeAlias((host, node) => { const v = serverVer(host); return v !== undefined && node === `${o.node}#${v}`; }));

    api.hook('server/started', () => {
      for (const h of api.hosts()) api.log.info({ host: h, node: o.node, ver: serverVer(h) }, 'entity capabilities');
    });
    if (o.streamFeature) {
      // After authentication only (as ejabberd does): before it a client cannot query the
      // server's disco#info to check the string anyway.
      api.hook('stream/features', (ev) => {
        if (!ev.authenticated) return;
        const ver = serverVer(ev.host);
        if (ver) ev.features.c('c', { hash: o.hash, node: o.node, ver }, NS_CAPS);
      });
    }

    const clients = createClientCaps(api, o);
    api.provide<CapsService>(CAPS, clients.service);
    if (o.clientCaps) {
      // A local client's broadcast presence (to its own bare JID); never stops the event.
      api.hook('pre-presence/bare', (ev) => {
        if (!ev.session || ev.stanza.attrs.type !== undefined || ev.to.bareString() !== ev.from.bareString()) return undefined;
        clients.onPresence(ev.session, ev.stanza);
        return undefined;
      }, 50);
    }
  },
});
