// Where to connect for a remote domain (RFC 6120 §3.2, XEP-0368 §3): a static route from the
// configuration wins; else DNS SRV records for `_xmpps-server._tcp` (direct TLS) and
// `_xmpp-server._tcp` (STARTTLS), merged and ordered by priority, then by a weighted random
// draw within each priority (RFC 2782), direct TLS first among equals; with no SRV records, the
// domain itself on port 5269 (its A/AAAA records, looked up by the connect call). A single
// target of "." means the service is decidedly not offered (RFC 2782): no fallback then.

import { promises as dnsPromises, type SrvRecord } from 'node:dns';
import { isIP } from 'node:net';
import type { S2SConfig } from '../config/s2s-schema.js';

export interface Candidate { host: string; port: number; directTls: boolean; source: 'static' | 'srv' | 'fallback' }
export interface SrvResolver { resolveSrv(name: string): Promise<SrvRecord[]> }

export const DEFAULT_S2S_PORT = 5269;

/** The system resolver with a bound on each query (a dead DNS server must not hold stanzas for minutes). */
export function boundedResolver(timeoutMs: number): SrvResolver {
  return new dnsPromises.Resolver({ timeout: Math.max(100, Math.floor(timeoutMs / 2)), tries: 2 });
}

export function staticRoute(routes: S2SConfig['routes'], domain: string): Candidate | undefined {
  const r = routes[domain];
  if (r === undefined) return undefined;
  if (typeof r !== 'string') return { host: r.host, port: r.port, directTls: r.directTls, source: 'static' };
  const i = r.lastIndexOf(':');
  const host = r.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(r.slice(i + 1)), directTls: false, source: 'static' };
}

/** RFC 2782 ordering: ascending priority; inside a priority, repeated weighted random draws. */
export function orderSrv<T extends SrvRecord>(records: T[], random: () => number = Math.random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const r of records) { const l = byPriority.get(r.priority); if (l) l.push(r); else byPriority.set(r.priority, [r]); }
  const out: T[] = [];
  for (const p of [...byPriority.keys()].sort((a, b) => a - b)) {
    // Zero-weight records first, so they keep a small chance (RFC 2782 "Weight").
    const left = byPriority.get(p)!.sort((a, b) => a.weight - b.weight);
    while (left.length) {
      const total = left.reduce((s, r) => s + r.weight, 0);
      let pick = 0;
      if (total > 0) {
        const x = random() * total;
        let acc = 0;
        for (pick = 0; pick < left.length - 1; pick++) { acc += left[pick]!.weight; if (acc > x) break; }
      }
      out.push(left.splice(pick, 1)[0]!);
    }
  }
  return out;
}

async function srv(dns: SrvResolver, name: string): Promise<SrvRecord[] | undefined> {
  try { return await dns.resolveSrv(name); } catch { return undefined; } // NXDOMAIN, no data, SERVFAIL: none
}

export async function resolveServer(domain: string, routes: S2SConfig['routes'], dns: SrvResolver = dnsPromises): Promise<Candidate[]> {
  const fixed = staticRoute(routes, domain);
  if (fixed) return [fixed];
  if (isIP(domain)) return [{ host: domain, port: DEFAULT_S2S_PORT, directTls: false, source: 'fallback' }];
  const [tlsRecs, plainRecs] = await Promise.all([srv(dns, `_xmpps-server._tcp.${domain}`), srv(dns, `_xmpp-server._tcp.${domain}`)]);
  const notOffered = (l: SrvRecord[] | undefined): boolean => l?.length === 1 && (l[0]!.name === '.' || l[0]!.name === '');
  const tagged = [
    ...(notOffered(tlsRecs) ? [] : (tlsRecs ?? []).map((r) => ({ ...r, directTls: true }))),
    ...(notOffered(plainRecs) ? [] : (plainRecs ?? []).map((r) => ({ ...r, directTls: false }))),
  ];
  if (tagged.length === 0) {
    if (notOffered(tlsRecs) || notOffered(plainRecs)) return [];
    return [{ host: domain, port: DEFAULT_S2S_PORT, directTls: false, source: 'fallback' }];
  }
  // Direct TLS first among records of equal priority (XEP-0368 §3), else RFC 2782 order.
  const ordered = orderSrv(tagged);
  ordered.sort((a, b) => a.priority - b.priority || Number(b.directTls) - Number(a.directTls));
  return ordered.map((r) => ({ host: r.name.replace(/\.$/, ''), port: r.port, directTls: r.directTls, source: 'srv' as const }));
}
