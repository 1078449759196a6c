// What the stream layer itself implements (and the CLI: XEP-0227), listed in docs/xep-support.md beside the modules.
import type { SpecSupport } from '../modules/module.js';

export const CORE_SPECS: SpecSupport[] = [
  { spec: 'RFC 6120', version: '§4–§9, §11, §13', status: 'complete', notes: 'c2s streams, STARTTLS, SASL, resource binding, stanza semantics, restricted XML; s2s in the federation module' },
  { spec: 'RFC 7622', status: 'complete', notes: 'PRECIS UsernameCaseMapped/OpaqueString, IDNA2008 domains' },
  { spec: 'RFC 7395', status: 'complete', notes: 'XMPP over WebSocket on the http/https listeners (subprotocol xmpp, origin allow-list, frame limit)' },
  { spec: 'RFC 3921', version: '§3 session', status: 'complete', notes: 'legacy session establishment, advertised as optional' },
  { spec: 'XEP-0124', version: '1.11.2', status: 'partial', notes: 'BOSH on the http/https listeners: rid window, resent responses, long polling, hold/wait/inactivity/polling/pause, terminal conditions with legacy HTTP codes, CORS; no key sequencing (use https), no multiple streams, no acknowledgements' },
  { spec: 'XEP-0114', version: '1.6', status: 'complete', notes: 'external components (jabber:component:accept) on the component listener; one connection per component domain' },
  { spec: 'XEP-0156', version: '1.4.0', status: 'partial', notes: 'host-meta and host-meta.json announce the WebSocket and BOSH endpoints; no DNS TXT method' },
  { spec: 'XEP-0206', version: '1.4', status: 'complete', notes: 'XMPP over BOSH: stream restarts (restartlogic), features in the body, stream errors as remote-stream-error; no channel binding (requests use several TLS connections); §8: stanzas not yet fetched when a session dies get the stream-management death policy (re-routed, stored offline or bounced)' },
  { spec: 'XEP-0178', version: '1.2', status: 'partial', notes: 'SASL EXTERNAL with client certificates on c2s (direct TLS and STARTTLS); s2s in the federation module' },
  { spec: 'XEP-0368', version: '1.1.0', status: 'partial', notes: 'direct TLS listener for clients (c2s-tls); s2s in the federation module' },
  { spec: 'XEP-0227', version: '1.1', status: 'complete', notes: '`magpie export` / `magpie import` (not a module: the CLI, docs/migration.md): SCRAM credentials (plaintext passwords are converted at import), roster, subscription requests, vCard, private XML, privacy lists (the XEP-0191 blocklist among them), PEP nodes and items, offline messages, MAM archive; XInclude of relative files; read user by user with the stream parser (no DTDs)' },
  { spec: 'XEP-0440', version: '0.4.2', status: 'complete', notes: 'advertises tls-exporter (TLS 1.3) and tls-server-end-point; also accepts tls-unique' },
];
