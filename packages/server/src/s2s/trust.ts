// Certificates between servers (RFC 6120 §13.7.2, RFC 6125, XEP-0178): the trust store (the
// system CAs plus an operator's CA file), the TLS contexts the s2s listeners and outgoing
// connections use, and whether a peer's certificate is valid for a domain it claims. A peer
// certificate names its domain in a dNSName (one leading wildcard label allowed), an
// id-on-xmppAddr, or an SRVName `_xmpp-server.<domain>`.

import { existsSync, readFileSync } from 'node:fs';
import tls from 'node:tls';
import type { Config } from '../config/schema.js';
import { CertificateStore, type HostTls } from '../tls/certificates.js';
import type { PeerCertificate } from '../transports/transport.js';

const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/** The CAs trusted for peer certificates, as one PEM string. */
export function trustBundle(cfg: Config): string {
  const parts: string[] = [];
  if (cfg.s2s.systemCas) {
    parts.push(...tls.rootCertificates);
    if (existsSync(SYSTEM_BUNDLE)) parts.push(readFileSync(SYSTEM_BUNDLE, 'utf8'));
  }
  if (cfg.s2s.caFile) parts.push(readFileSync(cfg.s2s.caFile, 'utf8'));
  return parts.join('\n');
}

/**
 * The same host certificates with the s2s trust store in every context (SNI swaps the whole
 * context, so each one must carry the CAs that verify the peer's certificate).
 */
export function s2sCertificateStore(cfg: Config, certs: CertificateStore, bundle = trustBundle(cfg)): CertificateStore {
  const hosts: HostTls[] = certs.hosts.map((h) => ({
    ...h, context: tls.createSecureContext({ cert: h.cert, key: h.key, minVersion: certs.minVersion, ...(bundle ? { ca: bundle } : {}) }),
  }));
  return new CertificateStore(hosts, hosts[0]!.domain, certs.minVersion, bundle || undefined);
}

/** The identities a certificate presents for servers (RFC 6120 §13.7.1.2). */
export function serverIdentities(subjectAltNames: string[]): { dns: string[]; xmpp: string[]; srv: string[] } {
  const out = { dns: [] as string[], xmpp: [] as string[], srv: [] as string[] };
  for (const s of subjectAltNames) {
    let m = /^DNS:(.+)$/i.exec(s);
    if (m) { out.dns.push(m[1]!.trim().toLowerCase()); continue; }
    m = /^othername:\s*(?:XmppAddr|1\.3\.6\.1\.5\.5\.7\.8\.5):{1,2}(.+)$/i.exec(s);
    if (m) { out.xmpp.push(m[1]!.trim().toLowerCase()); continue; }
    m = /^othername:\s*(?:SRVName|1\.3\.6\.1\.5\.5\.7\.8\.7):{1,2}(.+)$/i.exec(s);
    if (m) out.srv.push(m[1]!.trim().toLowerCase());
  }
  return out;
}

/** Does a certificate name `domain`? (RFC 6125 §6.4: a wildcard stands for one whole label.) */
export function namesDomain(subjectAltNames: string[], domain: string): boolean {
  const d = domain.toLowerCase();
  const ids = serverIdentities(subjectAltNames);
  if (ids.xmpp.includes(d) || ids.srv.includes(`_xmpp-server.${d}`)) return true;
  return ids.dns.some((n) => {
    if (n === d) return true;
    if (!n.startsWith('*.')) return false;
    const dot = d.indexOf('.');
    return dot > 0 && d.slice(dot + 1) === n.slice(2);
  });
}

/** A chain that verified against the trust store, naming `domain`. */
export function certificateValidFor(cert: PeerCertificate | undefined, domain: string): boolean {
  return !!cert && cert.authorized && namesDomain(cert.subjectAltNames, domain);
}
