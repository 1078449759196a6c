// The configuration file's schema (one YAML file; docs/configuration.md documents every key).
// Validated with zod in strict mode: an unknown key or a bad value stops the start with a
// message naming the key path and what was expected. Every limit has a safe default.

import { z } from 'zod';
import { isIP } from 'node:net';
import { S2SSchema } from './s2s-schema.js';
import { ClusterSchema } from './cluster-schema.js';

const port = z.number().int().min(0).max(65535);
const duration = z.number().int().positive(); // seconds

export const HostSchema = z.object({
  /** The domain this virtual host serves (RFC 7622 domainpart). */
  domain: z.string().min(1),
  /** PEM certificate chain and key for this host (SNI). When absent a dev cert is generated. */
  tls: z.object({ cert: z.string(), key: z.string() }).strict().optional(),
  auth: z.object({
    /** SASL mechanisms offered, in order; -PLUS variants are offered only where binding exists. */
    mechanisms: z.array(z.enum([
      'SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS',
      'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'EXTERNAL', 'ANONYMOUS', 'DIGEST-MD5',
    ])).default(['SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'EXTERNAL']),
    /** SASL ANONYMOUS (RFC 4505): guests get a random localpart. Off by default. */
    anonymous: z.boolean().default(false),
    /** DIGEST-MD5 (historic, RFC 6331). Off by default; needs a stored MD5 secret per account. */
    digestMd5: z.boolean().default(false),
    /** PBKDF2 iterations of the SCRAM keys derived from a password (accounts created, passwords
        changed, XEP-0227 imports of plaintext passwords). RFC 7677 asks for at least 4096. */
    scramIterations: z.number().int().min(4096).max(10_000_000).default(4096),
  }).strict().prefault({}),
  /** Bare JIDs of this host's administrators: they may run the XEP-0133 service administration
      commands (modules 'adhoc' and 'admin'). Empty by default: nobody administers in-band. */
  admins: z.array(z.string().min(1)).default([]),
}).strict();

export const ListenerSchema = z.object({
  /** c2s: STARTTLS port (RFC 6120); c2s-tls: direct TLS (XEP-0368); http/https: web clients
      (XMPP over WebSocket, RFC 7395); component: external components (XEP-0114); s2s: federation
      with STARTTLS (5269); s2s-tls: federation over direct TLS (XEP-0368, 5270). */
  type: z.enum(['c2s', 'c2s-tls', 'http', 'https', 'component', 's2s', 's2s-tls']),
  /** Default '::', except a component listener: loopback only (its secret crosses in the clear). */
  address: z.string().optional(),
  port,
  /** Behind a TCP load balancer (HAProxy `send-proxy`/`send-proxy-v2`, nginx stream
      `proxy_protocol on`): every connection starts with a PROXY protocol v1 or v2 header naming
      the client; only `trusted` sources may connect. Not on component listeners. */
  proxyProtocol: z.object({
    trusted: z.array(z.string().refine((t) => { const [a, b] = t.split('/'); return isIP(a ?? '') !== 0 && (b === undefined || (/^\d{1,3}$/.test(b) && Number(b) <= (isIP(a ?? '') === 4 ? 32 : 128))); }, 'expected an IP address or CIDR block')).min(1),
    timeoutMs: z.number().int().min(100).max(60_000).default(5000),
  }).strict().optional(),
}).strict()
  .refine((l) => !l.proxyProtocol || l.type !== 'component', { message: 'proxyProtocol is not for component listeners (they stay on loopback or a private network)', path: ['proxyProtocol'] })
  .transform((l) => ({ ...l, address: l.address ?? (l.type === 'component' ? '127.0.0.1' : '::') }));

/** An external component (XEP-0114): its domain and the shared secret of its handshake. */
export const ComponentSchema = z.object({
  domain: z.string().min(1),
  /** Exactly one of secret / secretFile (a file holding the secret, read at start). */
  secret: z.string().min(1).optional(),
  secretFile: z.string().min(1).optional(),
  /** Name shown in the server's disco#items. */
  name: z.string().optional(),
}).strict().refine((c) => (c.secret === undefined) !== (c.secretFile === undefined), { message: 'give exactly one of secret and secretFile' });

export const LimitsSchema = z.object({
  maxStanzaBytes: z.number().int().min(1024).default(262144),
  maxHeaderBytes: z.number().int().min(512).default(8192),
  maxDepth: z.number().int().min(4).max(1000).default(64),
  maxAttributes: z.number().int().min(4).default(64),
  maxNameLength: z.number().int().min(16).default(256),
  /** Seconds a new connection has to authenticate and bind. */
  negotiationTimeout: duration.default(60),
  /** Seconds without any data before the server pings the client (XEP-0199). */
  idleTimeout: duration.default(300),
  /** Seconds to wait for the answer to that ping before closing with connection-timeout. */
  pingTimeout: duration.default(60),
  /** Seconds one stanza may take to arrive in full (a tag trickled byte by byte never ends). */
  stanzaTimeout: duration.default(120),
  /** Seconds to wait for the peer's </stream:stream> after we close. */
  closeTimeout: duration.default(5),
  /** Failed SASL attempts allowed on one stream before it is closed (RFC 6120 §6.4.5). */
  authRetries: z.number().int().min(1).max(10).default(3),
  /** Per address and per account: failures in `authFailureWindow` seconds before throttling. */
  authFailuresBeforeDelay: z.number().int().min(0).default(3),
  authFailureWindow: duration.default(300),
  /** Upper bound of the delay (ms) added before a SASL failure answer when throttled. */
  authMaxDelayMs: z.number().int().min(0).default(5000),
  /** Above this many failures in the window the server answers temporary-auth-failure. */
  authLockoutFailures: z.number().int().min(1).default(20),
  maxResourcesPerAccount: z.number().int().min(1).default(64),
  maxConnectionsPerAddress: z.number().int().min(1).default(500),
  /** Bytes queued for a slow reader before its connection is closed (policy-violation). */
  maxOutboundBuffer: z.number().int().min(65536).default(4 * 1024 * 1024),
}).strict();

export const ConfigSchema = z.object({
  hosts: z.array(HostSchema).min(1).prefault([{ domain: 'localhost' }]),
  listeners: z.array(ListenerSchema).prefault([
    { type: 'c2s', address: '::', port: 5222 },
    { type: 'c2s-tls', address: '::', port: 5223 },
    { type: 'http', address: '::', port: 5280 },
    { type: 'https', address: '::', port: 5443 },
  ]),
  /** External components (XEP-0114) allowed to connect to the component listener. */
  components: z.array(ComponentSchema).default([]),
  /** The web listeners' endpoints. */
  http: z.object({
    websocketPath: z.string().startsWith('/').default('/xmpp-websocket'),
    /** Origins allowed to open a WebSocket; empty allows any (SASL authenticates in-band). */
    allowedOrigins: z.array(z.string()).default([]),
    /** Public WebSocket URL for host-meta (XEP-0156), e.g. behind a proxy; else derived per request. */
    websocketUrl: z.string().regex(/^wss?:\/\/[^\s]+$/).optional(),
    /** BOSH (XEP-0124/XEP-0206) on the same listeners; '' turns it off. */
    boshPath: z.string().regex(/^(\/.*)?$/).default('/http-bind'),
    /** Public BOSH URL for host-meta (XEP-0156), e.g. behind a proxy; else derived per request. */
    boshUrl: z.string().regex(/^https?:\/\/[^\s]+$/).optional(),
    bosh: z.object({
      /** Longest a request is held waiting for data (seconds); a client may ask for less. */
      maxWait: z.number().int().min(1).max(300).default(60),
      /** Most requests held at once (a client may ask for fewer, 0 = polling). */
      maxHold: z.number().int().min(1).max(2).default(1),
      /** Seconds without any request before the session (and the XMPP session) ends. */
      inactivity: z.number().int().min(1).max(600).default(60),
      /** Shortest interval between empty polls, in seconds (faster: policy-violation). */
      polling: z.number().int().min(0).max(60).default(2),
      /** Longest session pause a client may request (seconds); 0: pauses not offered. */
      maxPause: z.number().int().min(0).max(3600).default(120),
      maxSessionsPerAddress: z.number().int().min(1).default(100),
      /** Bytes of one request body; unset: limits.maxStanzaBytes. */
      maxRequestBytes: z.number().int().min(1024).optional(),
    }).strict().prefault({}),
  }).strict().prefault({}),
  /** Where generated certificates and the SQLite database live by default. */
  dataDir: z.string().default('./data'),
  storage: z.discriminatedUnion('type', [
    z.object({ type: z.literal('sqlite'), path: z.string().optional(),
      /** Rows per transaction when the message archive writes a batch; the event loop runs between them. */
      archiveWriteChunk: z.number().int().min(1).max(100_000).optional(),
      /** Archive keys (host, user, store → integer) cached in memory. */
      archiveKeyCache: z.number().int().min(1).max(10_000_000).optional() }).strict(),
    z.object({ type: z.literal('postgres'), url: z.string().url(), schema: z.string().regex(/^[a-z_][a-z0-9_]*$/).optional(), poolSize: z.number().int().min(1).max(200).optional(),
      /** Connections that hold per-account locks (advisory locks), apart from the main pool. */
      lockPoolSize: z.number().int().min(1).max(100).optional(),
      /** Longest wait for a per-account lock before the operation fails. */
      lockTimeoutMs: z.number().int().min(100).max(600_000).optional() }).strict(),
  ]).prefault({ type: 'sqlite' }),
  tls: z.object({
    /** Require TLS for clients that are not on a loopback address. */
    requireForClients: z.boolean().default(true),
    /** Also require TLS on loopback (off: local tools and tests may log in in the clear). */
    requireOnLoopback: z.boolean().default(false),
    minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2'),
    /** Ask clients for a certificate (SASL EXTERNAL, XEP-0178). */
    requestClientCert: z.boolean().default(true),
    /** PEM file of CAs trusted to issue client certificates. */
    clientCa: z.string().optional(),
  }).strict().prefault({}),
  limits: LimitsSchema.prefault({}),
  /** Server-to-server federation (config/s2s-schema.ts). */
  s2s: S2SSchema.prefault({}),
  /** Cluster mode: sessions and routing across nodes on Redis (config/cluster-schema.ts). */
  cluster: ClusterSchema.prefault({}),
  /** What happens when a client binds a resource that is already online (RFC 6120 §7.7.2.2). */
  resourceConflict: z.enum(['kick-old', 'reject-new', 'rename']).default('kick-old'),
  /** Feature modules to load, and their options by module name. */
  modules: z.object({
    enabled: z.array(z.string()).optional(),
    disabled: z.array(z.string()).default([]),
    options: z.record(z.string(), z.record(z.string(), z.unknown())).prefault({}),
  }).strict().prefault({}),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    destination: z.string().default('stdout'),
    pretty: z.boolean().default(false),
  }).strict().prefault({}),
  /** `magpie import` / `magpie export` (XEP-0227 files; docs/migration.md). */
  migration: z.object({
    /** Largest <user/> element read from an import file (its roster, vCard, messages...). */
    maxUserBytes: z.number().int().min(65536).default(64 * 1024 * 1024),
    /** Bytes read in all, over the file and the files it includes. */
    maxFileBytes: z.number().int().min(1024).default(16 * 1024 * 1024 * 1024),
    /** Rows read or written per storage call (archives, offline messages, PEP items). */
    pageSize: z.number().int().min(1).max(10_000).default(500),
  }).strict().prefault({}),
  /** Software version answer (XEP-0092): hide the OS by default. */
  version: z.object({ showOs: z.boolean().default(false) }).strict().prefault({}),
}).strict();

export type Config = z.infer<typeof ConfigSchema>;
export type HostConfig = z.infer<typeof HostSchema>;
export type ListenerConfig = z.infer<typeof ListenerSchema>;
export type Limits = z.infer<typeof LimitsSchema>;
export type ComponentConfig = z.infer<typeof ComponentSchema>;
