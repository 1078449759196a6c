// Loading and validating the YAML configuration. Errors name the key path and what was expected,
// e.g. "limits.maxStanzaBytes: expected number, received string".

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, type Config } from './schema.js';
import { JID } from '@magpie/core/jid/jid';
import { checkComponents } from './components.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super('invalid configuration:\n' + problems.map((p) => '  - ' + p).join('\n'));
    this.name = 'ConfigError';
  }
}

export function validateConfig(raw: unknown): Config {
  const r = ConfigSchema.safeParse(raw ?? {});
  if (!r.success) {
    throw new ConfigError(r.error.issues.map((i) => {
      const path = i.path.join('.') || '(top level)';
      if (i.code === 'unrecognized_keys') return `${path ? path + ': ' : ''}unknown key(s) ${i.keys.map((k) => `'${k}'`).join(', ')}`;
      return `${path}: ${i.message}`;
    }));
  }
  const cfg = r.data;
  const problems: string[] = [];
  const seen = new Set<string>();
  cfg.hosts.forEach((h, i) => {
    try {
      const j = JID.parse(h.domain);
      if (!j.isDomain) problems.push(`hosts.${i}.domain: expected a bare domain, got '${h.domain}'`);
      else if (seen.has(j.domain)) problems.push(`hosts.${i}.domain: duplicate host '${j.domain}'`);
      else { seen.add(j.domain); h.domain = j.domain; }
    } catch (e) { problems.push(`hosts.${i}.domain: not a valid domain (${(e as Error).message})`); }
  });
  checkComponents(cfg, seen, problems);
  if (cfg.cluster.enabled && cfg.storage.type !== 'postgres') {
    problems.push(`cluster.enabled: cluster mode needs storage.type 'postgres' (every node shares one database); '${cfg.storage.type}' is local to one node`);
  }
  // XEP-0220 §2.1.2: a peer checks a dialback key with whichever node its route for our domain
  // reaches, not necessarily the node that generated the key; a random secret per node would
  // make every such check fail (federation from the other nodes silently broken).
  if (cfg.cluster.enabled && cfg.s2s.enabled && !cfg.s2s.dialbackSecret) {
    problems.push('s2s.dialbackSecret: a cluster that federates needs the same dialback secret on every node (at least 16 characters); without it, a peer verifying a key with another node than the one that generated it rejects the connection');
  }
  const ports = new Set<string>();
  cfg.listeners.forEach((l, i) => {
    const k = `${l.address}:${l.port}`;
    if (l.port !== 0 && ports.has(k)) problems.push(`listeners.${i}: duplicate address and port ${k}`);
    ports.add(k);
  });
  if (problems.length) throw new ConfigError(problems);
  return cfg;
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new ConfigError([`cannot read ${path}: ${(e as Error).message}`]); }
  let raw: unknown;
  try { raw = parseYaml(text, { uniqueKeys: true }); } catch (e) { throw new ConfigError([`${path}: YAML syntax error: ${(e as Error).message}`]); }
  return validateConfig(raw);
}
