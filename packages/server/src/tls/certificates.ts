// TLS certificates per virtual host (RFC 6120 §13.7, §5; SNI per RFC 6066). An operator gives a
// PEM cert and key per host; when absent a self-signed development certificate is generated
// once under <dataDir>/certs/ (so the Quick start needs no setup) and reused on later starts.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';

export interface HostTls { domain: string; cert: string; key: string; context: tls.SecureContext; generated: boolean }

export class CertificateStore {
  private byDomain = new Map<string, HostTls>();
  constructor(readonly hosts: HostTls[], private readonly defaultDomain: string, readonly minVersion: tls.SecureVersion, readonly clientCa?: string) {
    for (const h of hosts) this.byDomain.set(h.domain, h);
  }

  get(domain: string): HostTls | undefined { return this.byDomain.get(domain.toLowerCase()); }
  defaultContext(): tls.SecureContext { return this.byDomain.get(this.defaultDomain)!.context; }

  /** Server options shared by STARTTLS and direct TLS: SNI picks the host's certificate. */
  serverOptions(requestCert: boolean): tls.TlsOptions {
    const def = this.byDomain.get(this.defaultDomain)!;
    return {
      // tls.Server builds its default context from cert/key and ignores `secureContext`; a
      // client that sends no SNI (connecting to an IP address) gets the first host's certificate.
      cert: def.cert, key: def.key,
      secureContext: this.defaultContext(),
      SNICallback: (servername, cb) => cb(null, this.get(servername)?.context ?? this.defaultContext()),
      minVersion: this.minVersion,
      requestCert,
      rejectUnauthorized: false, // client certs are checked by SASL EXTERNAL, not by the handshake
      ...(this.clientCa ? { ca: this.clientCa } : {}),
    };
  }
}

export async function generateDevCertificate(domain: string): Promise<{ cert: string; key: string }> {
  const selfsigned = (await import('selfsigned')).default;
  const r = await selfsigned.generate([{ name: 'commonName', value: domain }], {
    keySize: 2048, days: 825, algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: [{ type: 2, value: domain }, { type: 2, value: '*.' + domain }] },
    ],
  } as never);
  return { cert: r.cert, key: r.private };
}

export async function loadCertificates(cfg: Config, log: Logger): Promise<CertificateStore> {
  const hosts: HostTls[] = [];
  // The client CA goes into every host's context: SNI swaps the whole context, and a context
  // without it could never verify a client certificate for SASL EXTERNAL.
  const clientCa = cfg.tls.clientCa ? readFileSync(cfg.tls.clientCa, 'utf8') : undefined;
  for (const h of cfg.hosts) {
    let cert: string; let key: string; let generated = false;
    if (h.tls) {
      cert = readFileSync(h.tls.cert, 'utf8');
      key = readFileSync(h.tls.key, 'utf8');
    } else {
      const dir = join(cfg.dataDir, 'certs');
      const certPath = join(dir, `${h.domain}.crt`);
      const keyPath = join(dir, `${h.domain}.key`);
      if (existsSync(certPath) && existsSync(keyPath)) {
        cert = readFileSync(certPath, 'utf8'); key = readFileSync(keyPath, 'utf8');
      } else {
        ({ cert, key } = await generateDevCertificate(h.domain));
        mkdirSync(dir, { recursive: true });
        writeFileSync(keyPath, key, { mode: 0o600 });
        writeFileSync(certPath, cert);
        log.warn({ domain: h.domain, certPath }, 'generated a self-signed development certificate; configure hosts[].tls for production');
      }
      generated = true;
    }
    const x = new X509Certificate(cert);
    if (!x.checkHost(h.domain)) log.warn({ domain: h.domain, subject: x.subject }, 'certificate does not name this host');
    const context = tls.createSecureContext({ cert, key, minVersion: cfg.tls.minVersion, ...(clientCa ? { ca: clientCa } : {}) });
    hosts.push({ domain: h.domain, cert, key, context, generated });
  }
  return new CertificateStore(hosts, hosts[0]!.domain, cfg.tls.minVersion, clientCa);
}
