// Trust policy per remote domain (`s2s.domains.<domain>` over `s2s.defaults`): whether TLS is
// required, whether the peer's certificate must validate, whether dialback may authenticate.

import type { Config } from '../config/schema.js';
import type { S2SPolicy } from '../config/s2s-schema.js';

export function policyFor(cfg: Config, domain: string | undefined): S2SPolicy {
  const d = cfg.s2s.defaults;
  const p = domain !== undefined ? cfg.s2s.domains[domain] : undefined;
  return {
    requireTls: p?.requireTls ?? d.requireTls,
    requireValidCert: p?.requireValidCert ?? d.requireValidCert,
    allowDialback: p?.allowDialback ?? d.allowDialback,
  };
}
