// Channel binding data for SCRAM-*-PLUS (RFC 5929, RFC 9266) and the types we advertise
// (XEP-0440). tls-exporter is only defined for TLS 1.3 (RFC 9266 §3: not with TLS 1.2 unless the
// extended master secret is certain, which Node does not expose), so TLS 1.2 offers only
// tls-server-end-point.

import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

export function channelBindingTypes(sock: TLSSocket): string[] {
  const types: string[] = [];
  if (sock.getProtocol() === 'TLSv1.3') types.push('tls-exporter');
  if (sock.getCertificate()) types.push('tls-server-end-point');
  return types;
}

/**
 * Types accepted beyond those advertised. tls-unique (RFC 5929 §3) is not advertised (RFC 9266
 * deprecates it, and it is undefined for TLS 1.3), but slixmpp and other Python clients use it
 * for every -PLUS mechanism, taking the client's Finished message (OpenSSL's SSL_get_finished on
 * the client) on TLS 1.2 and 1.3 alike. Refusing it would make those clients fail to log in,
 * since they then send the 'y' flag that the downgrade check (RFC 5802 §6) must reject. The
 * client Finished MAC covers the whole handshake transcript, so it is unique per connection;
 * TLS 1.3 has no renegotiation, the source of tls-unique's weakness in TLS 1.2.
 */
export const UNADVERTISED_CHANNEL_BINDINGS = ['tls-unique'];

export function channelBindingData(sock: TLSSocket, type: string): Uint8Array | undefined {
  if (type === 'tls-unique') {
    // First Finished of a full handshake is the client's; of an abbreviated one, the server's.
    const f = sock.isSessionReused() ? sock.getFinished() : sock.getPeerFinished();
    return f ?? undefined;
  }
  if (type === 'tls-exporter') {
    if (sock.getProtocol() !== 'TLSv1.3') return undefined;
    return sock.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
  }
  if (type === 'tls-server-end-point') {
    const cert = sock.getCertificate() as { raw?: Buffer } | null;
    if (!cert?.raw) return undefined;
    return createHash(endPointHash(cert.raw)).update(cert.raw).digest();
  }
  return undefined;
}

// RFC 5929 §4.1: the certificate's signature hash, except MD5 and SHA-1 become SHA-256. We find
// the signatureAlgorithm OID in the DER (it follows tbsCertificate); these OIDs cover RSA,
// RSA-PSS defaults aside, and ECDSA certificates.
const OIDS: [string, string][] = [
  ['2a864886f70d01010c', 'sha384'], ['2a864886f70d01010d', 'sha512'], // sha384/512WithRSA
  ['2a8648ce3d040303', 'sha384'], ['2a8648ce3d040304', 'sha512'],     // ecdsa-with-SHA384/512
];
function endPointHash(der: Buffer): string {
  const hex = der.toString('hex');
  // The outer signatureAlgorithm sits near the end: search the last 64 bytes before the signature.
  for (const [oid, alg] of OIDS) {
    const at = hex.lastIndexOf('06' + (oid.length / 2).toString(16).padStart(2, '0') + oid);
    if (at !== -1 && at > hex.length / 2) return alg;
  }
  return 'sha256';
}
