// The gateway's configuration file (YAML, validated with zod in strict mode; docs/smtp-gateway.md
// documents every key). Every limit has a safe default; an unknown key or a bad value stops the
// start with the key's path.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const domain = z.string().min(1).regex(/^[^\s@/]+$/, 'expected a bare domain').transform((d) => d.toLowerCase());

export const GatewayConfigSchema = z.object({
  /** The component domain this gateway serves on the XMPP server (XEP-0114). */
  domain,
  /** The XMPP server's component listener. */
  server: z.object({
    host: z.string().default('127.0.0.1'),
    port: port.default(5347),
    /** Exactly one of secret and secretFile: the component's shared secret. */
    secret: z.string().min(1).optional(),
    secretFile: z.string().min(1).optional(),
  }).strict().refine((s) => (s.secret === undefined) !== (s.secretFile === undefined), { message: 'give exactly one of secret and secretFile' }),
  /** The mail domain of the gateway's addresses (user%host@<mailDomain>); default: `domain`. */
  mailDomain: domain.optional(),
  /** XMPP domains whose users may send mail through the gateway and receive mail from it;
      default: the component domain's parent (mail.example.org → example.org). */
  xmppDomains: z.array(domain).optional(),
  /** Outgoing mail: the SMTP relay (submission server) the gateway sends through. */
  relay: z.object({
    host: z.string().default('127.0.0.1'),
    port: port.default(25),
    /** TLS from the start (port 465); otherwise STARTTLS is used when the relay offers it. */
    secure: z.boolean().default(false),
    /** Refuse to send unless STARTTLS succeeds. */
    requireTls: z.boolean().default(false),
    /** Verify the relay's certificate. */
    rejectUnauthorized: z.boolean().default(true),
    auth: z.object({ user: z.string(), pass: z.string().optional(), passFile: z.string().optional() }).strict().optional(),
    /** Milliseconds to connect and for the relay to answer before giving up. */
    timeoutMs: z.number().int().min(100).default(30_000),
  }).strict().prefault({}),
  /** Incoming mail: the gateway's own SMTP listener. */
  listener: z.object({
    address: z.string().default('127.0.0.1'),
    port: port.default(2525),
    /** Host name in the SMTP greeting. */
    name: z.string().optional(),
    /** Largest message accepted (bytes, SIZE extension, RFC 1870); larger ones get 552. */
    maxMessageBytes: z.number().int().min(1024).default(1024 * 1024),
    maxRecipients: z.number().int().min(1).default(20),
    /** PEM files for STARTTLS; without them STARTTLS is not offered. */
    tls: z.object({ cert: z.string(), key: z.string() }).strict().optional(),
  }).strict().prefault({}),
  /** Fixed addresses: e-mail address ↔ JID, both ways (e.g. support@mail.example.org ↔ team@example.org). */
  addresses: z.array(z.object({ email: z.string().regex(/^[^\s@]+@[^\s@]+$/), jid: z.string().regex(/^[^\s@/]+@[^\s@/]+$/) }).strict()).default([]),
  /** Messages from mail: type='normal' (with the subject) or type='chat'. */
  messageType: z.enum(['normal', 'chat']).default('normal'),
  /** Subject of a mail when the XMPP message has none. */
  defaultSubject: z.string().default('Message from XMPP'),
  /** Longest body passed on (characters); longer text is cut, so a stanza stays under the server's limit. */
  maxBodyChars: z.number().int().min(100).default(60_000),
  log: z.object({ level: z.enum(['error', 'warn', 'info', 'debug', 'silent']).default('info') }).strict().prefault({}),
}).strict();

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;

export class GatewayConfigError extends Error {}

/** Read secrets kept in files, so the rest of the gateway sees only values. */
export interface ResolvedConfig extends GatewayConfig { secret: string; mailDomain: string; xmppDomains: string[]; relayPass: string | undefined }

function readSecret(path: string, key: string): string {
  let s: string;
  try { s = readFileSync(path, 'utf8').replace(/\r?\n$/, ''); } catch (e) { throw new GatewayConfigError(`${key}: cannot read ${path}: ${(e as Error).message}`); }
  if (!s) throw new GatewayConfigError(`${key}: ${path} is empty`);
  return s;
}

export function validateGatewayConfig(raw: unknown): ResolvedConfig {
  const r = GatewayConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    throw new GatewayConfigError('invalid configuration:\n' + r.error.issues.map((i) => {
      const path = i.path.join('.') || '(top level)';
      return '  - ' + (i.code === 'unrecognized_keys' ? `${path}: unknown key(s) ${i.keys.join(', ')}` : `${path}: ${i.message}`);
    }).join('\n'));
  }
  const c = r.data;
  const secret = c.server.secret ?? readSecret(c.server.secretFile!, 'server.secretFile');
  const relayPass = c.relay.auth ? (c.relay.auth.pass ?? (c.relay.auth.passFile ? readSecret(c.relay.auth.passFile, 'relay.auth.passFile') : undefined)) : undefined;
  const parent = c.domain.includes('.') ? c.domain.slice(c.domain.indexOf('.') + 1) : c.domain;
  return { ...c, secret, relayPass, mailDomain: c.mailDomain ?? c.domain, xmppDomains: c.xmppDomains ?? [parent] };
}

export function loadGatewayConfig(path: string): ResolvedConfig {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new GatewayConfigError(`cannot read ${path}: ${(e as Error).message}`); }
  let raw: unknown;
  try { raw = parseYaml(text, { uniqueKeys: true }); } catch (e) { throw new GatewayConfigError(`${path}: YAML syntax error: ${(e as Error).message}`); }
  return validateGatewayConfig(raw);
}
