// DNS SRV discovery for Node (RFC 6120 §3.2.1, RFC 2782, XEP-0368 v1.1): _xmpps-client._tcp
// (direct TLS) and _xmpp-client._tcp (STARTTLS) records merged by priority, with direct TLS first
// among equal priorities and a weighted random order inside one priority; a "." target means the
// service is not offered; without records, the domain itself on 5222 (§3.2.2).

import { promises as dns } from 'node:dns';

export interface SrvRecord { name: string; port: number; priority: number; weight: number }
export interface Endpoint { host: string; port: number; directTls: boolean }
export type SrvResolver = (name: string) => Promise<SrvRecord[]>;

const resolveSrv: SrvResolver = (name) => dns.resolveSrv(name);

/** RFC 2782 weighted selection within one priority: each pick is random in proportion to weight
    (zero-weight records get a small chance, after the weighted ones). */
function weightedOrder<T extends { weight: number }>(items: T[], random: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (pool.length) {
    const total = pool.reduce((n, r) => n + r.weight, 0);
    let pick = 0;
    if (total > 0) {
      let x = random() * total;
      pick = pool.findIndex((r) => (x -= r.weight) < 0);
      if (pick < 0) pick = pool.length - 1;
    }
    out.push(pool.splice(pick, 1)[0]!);
  }
  return out;
}

export function orderEndpoints(xmpps: SrvRecord[], xmpp: SrvRecord[], random: () => number = Math.random): Endpoint[] {
  const all = [
    ...xmpps.map((r) => ({ ...r, directTls: true })),
    ...xmpp.map((r) => ({ ...r, directTls: false })),
  ].filter((r) => r.name !== '' && r.name !== '.');
  const prios = [...new Set(all.map((r) => r.priority))].sort((a, b) => a - b);
  const out: Endpoint[] = [];
  for (const p of prios) {
    const group = all.filter((r) => r.priority === p);
    for (const direct of [true, false]) {
      for (const r of weightedOrder(group.filter((x) => x.directTls === direct), random)) out.push({ host: r.name.replace(/\.$/, ''), port: r.port, directTls: direct });
    }
  }
  return out;
}

export async function discoverSrv(domain: string, resolver: SrvResolver = resolveSrv): Promise<Endpoint[]> {
  const get = (name: string): Promise<SrvRecord[]> => resolver(name).catch(() => []);
  const [a, b] = await Promise.all([get(`_xmpps-client._tcp.${domain}`), get(`_xmpp-client._tcp.${domain}`)]);
  // A single "." target: the service is decidedly not available (RFC 2782).
  const dot = (rs: SrvRecord[]): boolean => rs.length === 1 && (rs[0]!.name === '.' || rs[0]!.name === '');
  const eps = orderEndpoints(dot(a) ? [] : a, dot(b) ? [] : b);
  if (eps.length === 0 && !dot(b)) eps.push({ host: domain, port: 5222, directTls: false });
  return eps;
}
