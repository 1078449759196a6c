// Configuration checks for external components (XEP-0114) that a schema cannot express: the
// domain is canonical, unique, and not one of the hosted domains (a stanza to a hosted domain is
// delivered locally, so a component there would never receive anything); and the default
// listener choice (docs/configuration.md "components").

import { JID } from '@magpie/core/jid/jid';
import type { Config } from './schema.js';

/** Where a component listener opens when components are configured and none is listed. */
export const DEFAULT_COMPONENT_LISTENER = { type: 'component' as const, address: '127.0.0.1', port: 5347 };

export function checkComponents(cfg: Config, hostedDomains: ReadonlySet<string>, problems: string[]): void {
  const seen = new Set<string>();
  cfg.components.forEach((c, i) => {
    let j: JID;
    try { j = JID.parse(c.domain); } catch (e) { problems.push(`components.${i}.domain: not a valid domain (${(e as Error).message})`); return; }
    if (!j.isDomain) { problems.push(`components.${i}.domain: expected a bare domain, got '${c.domain}'`); return; }
    if (hostedDomains.has(j.domain)) { problems.push(`components.${i}.domain: '${j.domain}' is a hosted domain; a component needs a domain of its own`); return; }
    if (seen.has(j.domain)) { problems.push(`components.${i}.domain: duplicate component '${j.domain}'`); return; }
    seen.add(j.domain);
    c.domain = j.domain;
  });
  // Components configured but no listener for them: open the conventional loopback one rather
  // than silently refusing every component.
  if (cfg.components.length && !cfg.listeners.some((l) => l.type === 'component')) cfg.listeners.push({ ...DEFAULT_COMPONENT_LISTENER });
}
