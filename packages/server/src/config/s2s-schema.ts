// The `s2s` configuration key: server-to-server federation (RFC 6120 s2s, XEP-0220 dialback,
// XEP-0178 SASL EXTERNAL, XEP-0368 direct TLS). Kept in its own file so schema.ts only names it.
// Defaults follow what Prosody and ejabberd ship: TLS required, a valid certificate preferred
// (SASL EXTERNAL) with dialback allowed when it is not.

import { z } from 'zod';

const duration = z.number().int().positive(); // seconds

/** Trust policy for one remote domain (or the defaults for every domain). */
export const S2SPolicySchema = z.object({
  /** Refuse a peer (in and out) that does not encrypt the stream with TLS. */
  requireTls: z.boolean().optional(),
  /** Refuse a peer whose certificate does not validate for its domain (no dialback fallback). */
  requireValidCert: z.boolean().optional(),
  /** Accept and use Server Dialback (XEP-0220) when certificates do not authenticate. */
  allowDialback: z.boolean().optional(),
}).strict();

export const S2SRouteSchema = z.union([
  z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:]+):\d{1,5}$/, 'expected host:port'),
  z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535), directTls: z.boolean().default(false) }).strict(),
]);

export const S2SSchema = z.object({
  /** Federation is off unless turned on (a fresh install serves `localhost` with a self-signed
      certificate, which cannot federate; opening 5269 is the operator's decision). */
  enabled: z.boolean().default(false),
  /** Secret for dialback keys (XEP-0185); random per start when absent. Required in cluster
      mode (load.ts), the same on every node: a peer may check a key with another node. */
  dialbackSecret: z.string().min(16).optional(),
  /** PEM file of extra CAs trusted for peer certificates (besides the system ones). */
  caFile: z.string().optional(),
  /** Trust the system / Node bundled CAs as well as `caFile`. */
  systemCas: z.boolean().default(true),
  /** Static routes that replace DNS: domain → 'host:port' or {host, port, directTls}. */
  routes: z.record(z.string(), S2SRouteSchema).default({}),
  /** Trust policy by remote domain; keys missing there come from `defaults`. */
  domains: z.record(z.string(), S2SPolicySchema).default({}),
  defaults: z.object({
    requireTls: z.boolean().default(true),
    requireValidCert: z.boolean().default(false),
    allowDialback: z.boolean().default(true),
  }).strict().prefault({}),
  /** Seconds one TCP (and direct TLS) connection attempt may take. */
  connectTimeout: duration.default(10),
  /** Seconds from the first connection attempt until the stream is authenticated (out), or
      from accepting a connection until its first domain is authenticated (in). */
  authTimeout: duration.default(30),
  /** Seconds to keep retrying a domain whose every address refuses the connection, before
      queued stanzas bounce (0: one round of attempts). */
  retryWindow: z.number().int().min(0).default(0),
  /** Seconds without stanzas after which an s2s connection is closed. */
  idleTimeout: duration.default(600),
  /** Stanzas waiting per remote domain while its connection is set up (more: resource-constraint). */
  maxQueuedStanzas: z.number().int().min(1).default(1000),
  /** Incoming s2s connections in total. */
  maxIncoming: z.number().int().min(1).default(1000),
  /** XEP-0288 bidirectional streams: offer them, ask for them, and use them. */
  bidi: z.boolean().default(false),
}).strict();

export type S2SConfig = z.infer<typeof S2SSchema>;
export type S2SPolicy = { requireTls: boolean; requireValidCert: boolean; allowDialback: boolean };
