// Server-to-server federation (RFC 6120 with jabber:server streams; XEP-0220 Server Dialback
// with XEP-0185 keys; XEP-0178 SASL EXTERNAL between servers; XEP-0368 direct TLS; XEP-0288
// bidirectional connections): owns
// 'route/remote' (stanzas for domains not hosted here) and 'connection/s2s' (connections
// accepted on the s2s and s2s-tls listeners). The protocol lives in src/s2s/; this module wires
// it to the server: configuration (the `s2s` key), routing, certificates, timers, shutdown.
// Off unless `s2s.enabled` is true.

import { z } from 'zod';
import { defineModule } from '../module.js';
import { DialbackKeys } from '../../s2s/dialback-key.js';
import { FederationManager } from '../../s2s/manager.js';
import { policyFor } from '../../s2s/policy.js';
import { trustBundle } from '../../s2s/trust.js';
import type { S2SContext } from '../../s2s/context.js';

export const FEDERATION = 'federation';

export default defineModule({
  manifest: {
    name: 'federation',
    description: 'Server-to-server federation: s2s streams, dialback, SASL EXTERNAL, DNS SRV resolution',
    specs: [
      { spec: 'RFC 6120', version: '§3.2, §4–§6, §8, §13.7 (s2s)', status: 'complete', notes: 'jabber:server streams in and out, SRV then A/AAAA resolution, STARTTLS, SASL EXTERNAL, stanza from/to checks (invalid-from, host-unknown, improper-addressing), several domain pairs per incoming stream; one outgoing stream per domain pair' },
      { spec: 'XEP-0220', version: '1.1.1', status: 'complete', notes: 'receiving, originating and authoritative roles; dialback errors; verification never blocks the stream' },
      { spec: 'XEP-0185', version: '1.0', status: 'complete', notes: 'HMAC-SHA256 keys over receiving, originating domain and stream id; s2s.dialbackSecret or a random secret per start' },
      { spec: 'XEP-0178', version: '1.2', status: 'partial', notes: 's2s: offered to a peer whose certificate chain validates (system CAs + s2s.caFile) for its domain; used outgoing when the peer offers it and our certificate is configured (not generated); dialback otherwise' },
      { spec: 'XEP-0288', version: '1.0.1', status: 'complete', notes: 'off by default (s2s.bidi); offered, requested before authentication, used both ways; interoperates with Prosody mod_s2s_bidi' },
      { spec: 'XEP-0368', version: '1.1.0', status: 'complete', notes: 's2s: _xmpps-server SRV records merged with _xmpp-server (direct TLS first among equal priorities, ALPN xmpp-server), s2s-tls listener' },
    ],
    options: z.object({}).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const cfg = api.config;
    if (!cfg.s2s.enabled) {
      if (cfg.listeners.some((l) => l.type === 's2s' || l.type === 's2s-tls')) api.log.warn('an s2s listener is configured but s2s.enabled is false: its connections are closed');
      return;
    }
    const certs = api.certificates();
    const bundle = trustBundle(cfg);
    let stopping = false;
    const ctx: S2SContext = {
      config: cfg, log: api.log, keys: new DialbackKeys(cfg.s2s.dialbackSecret),
      get stopping() { return stopping; },
      isServedDomain: (d) => api.isServedDomain(d),
      policy: (d) => policyFor(cfg, d),
      route: (stanza, origin, from, to) => api.route(stanza, origin, from, to),
      verifyKey: (receiving, originating, id, key) => manager.verifyKey(receiving, originating, id, key),
      clientTls: (local, remote) => {
        const h = certs.get(local) ?? certs.hosts[0]!;
        return { servername: remote, cert: h.cert, key: h.key, minVersion: certs.minVersion, ...(bundle ? { ca: bundle } : {}) };
      },
      hasConfiguredCertificate: (d) => certs.get(d)?.generated === false,
    };
    const manager = new FederationManager({
      ctx, limits: cfg.limits, log: api.log,
      bounce: (ev, err) => api.bounce(ev, err),
    });
    api.provide(FEDERATION, manager);

    const queued = api.metric('queued');
    api.hook('route/remote', (ev) => {
      // Only a domain served here (hosted, a component's or a service's) can authenticate
      // itself to a peer (by dialback, or SASL EXTERNAL where its certificate covers it).
      if (!api.isServedDomain(ev.from.domain)) return undefined;
      if (api.isServedDomain(ev.to.domain)) return undefined;
      queued.inc();
      manager.send(ev);
      return true;
    });
    api.hook('connection/s2s', ({ transport }) => { manager.accept(transport); return true; });
    api.hook('server/stopping', () => { stopping = true; manager.closeAll(); });
    // Gauges for operators: in a cluster each node should hold at most one authenticated
    // outgoing stream per (local, remote) domain pair, whichever node peers connect to.
    const outgoing = api.metric('outgoing_streams');
    const incoming = api.metric('incoming_streams');
    api.every(1000, () => {
      manager.tick(Date.now());
      outgoing.set(manager.outgoingPairs().filter((p) => p.ready).length);
      incoming.set(manager.incoming.size);
    });
    api.onUnload(() => { stopping = true; manager.closeAll(); });
  },
});
