// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2) on TCP listeners, for nodes
// behind a TCP load balancer (docs/deployment.md, cluster). Without it every client would appear
// to come from the balancer's address: per-address limits would throttle everyone at once, the
// loopback exemption from TLS could apply to remote clients when the balancer runs on the same
// host, and logs would name the balancer instead of the client.
//
// Security: a header is only believed from a configured trusted source (the balancers); any other
// peer on a PROXY listener is disconnected, since it could otherwise claim any address. The header
// must arrive whole within a time limit and within 536 bytes (v1: 107 bytes; v2: 16 + 520 for
// addresses and a few TLVs), or the connection is closed.
//
// Parsing the address fields is done by proxy-protocol-js; the framing (where the header ends and
// the client's first bytes begin, which v2's TLVs make longer than the addresses) is done here.

import net from 'node:net';
import tls from 'node:tls';
import { V1ProxyProtocol, V2ProxyProtocol, IPv4ProxyAddress, IPv6ProxyAddress, Command } from 'proxy-protocol-js';

/** v2 signature (12 bytes). */
const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_SIG = Buffer.from('PROXY ', 'latin1');
const V1_MAX = 107;
export const MAX_HEADER_BYTES = 536;

export interface ProxyProtocolConfig {
  /** Addresses or CIDR blocks (IPv4 or IPv6) of the load balancers allowed to send headers. */
  trusted: string[];
  /** Time allowed for the whole header to arrive. */
  timeoutMs: number;
}

/** The client's address as the balancer reports it; undefined = use the connection's own (a
    v2 LOCAL command, e.g. a health check, or v1 UNKNOWN). */
export interface ProxiedPeer { address: string; port: number }

export class ProxyHeaderError extends Error {
  /** The peer closed without sending a byte: a balancer's TCP health check, not worth a warning. */
  constructor(message: string, readonly silent = false) { super(message); }
}

/**
 * Length of a complete header at the start of `buf`, 0 if more bytes are needed; throws when the
 * bytes cannot be the start of a PROXY header.
 */
export function headerLength(buf: Buffer): number {
  if (buf.length === 0) return 0;
  if (buf[0] === 0x0d) {
    const n = Math.min(buf.length, V2_SIG.length);
    if (!buf.subarray(0, n).equals(V2_SIG.subarray(0, n))) throw new ProxyHeaderError('not a PROXY protocol v2 signature');
    if (buf.length < 16) return 0;
    const total = 16 + buf.readUInt16BE(14);
    if (total > MAX_HEADER_BYTES) throw new ProxyHeaderError('PROXY v2 header too long');
    return buf.length >= total ? total : 0;
  }
  const n = Math.min(buf.length, V1_SIG.length);
  if (!buf.subarray(0, n).equals(V1_SIG.subarray(0, n))) throw new ProxyHeaderError('no PROXY protocol header');
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end < 0) {
    if (buf.length >= V1_MAX) throw new ProxyHeaderError('PROXY v1 header too long');
    return 0;
  }
  if (end + 2 > V1_MAX) throw new ProxyHeaderError('PROXY v1 header too long');
  return end + 2;
}

const ipv6 = (b: readonly number[]): string => {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // Normalise through a SocketAddress so "::ffff:a.b.c.d" and zero runs print as Node prints them.
  return new net.SocketAddress({ address: words.join(':'), family: 'ipv6' }).address;
};

/** Parse one complete header (as framed by headerLength). */
export function parseHeader(header: Buffer): ProxiedPeer | undefined {
  if (header[0] === 0x0d) {
    let p: V2ProxyProtocol;
    try { p = V2ProxyProtocol.parse(new Uint8Array(header)); } catch (e) { throw new ProxyHeaderError(`bad PROXY v2 header: ${(e as Error).message}`); }
    if (p.command === Command.LOCAL) return undefined;
    const a = p.proxyAddress;
    if (a instanceof IPv4ProxyAddress) return { address: a.sourceAddress.address.join('.'), port: a.sourcePort };
    if (a instanceof IPv6ProxyAddress) return { address: ipv6(a.sourceAddress.address), port: a.sourcePort };
    return undefined; // UNSPEC / unix: the connection's own address
  }
  const line = header.toString('latin1');
  if (/^PROXY UNKNOWN[ \r]/.test(line)) return undefined;
  let p: V1ProxyProtocol;
  try { p = V1ProxyProtocol.parse(line); } catch (e) { throw new ProxyHeaderError(`bad PROXY v1 header: ${(e as Error).message}`); }
  if (!net.isIP(p.source.ipAddress) || !(p.source.port >= 0 && p.source.port <= 65535)) throw new ProxyHeaderError('bad PROXY v1 source address');
  return { address: p.source.ipAddress, port: p.source.port };
}

/** Which connection sources may send PROXY headers. */
export function trustList(trusted: readonly string[]): (address: string) => boolean {
  const list = new net.BlockList();
  for (const t of trusted) {
    const [addr, bits] = t.split('/');
    const family = net.isIPv6(addr!) ? 'ipv6' : 'ipv4';
    if (!net.isIP(addr!)) throw new Error(`proxyProtocol.trusted: ${t} is not an address or CIDR block`);
    if (bits === undefined) list.addAddress(addr!, family);
    else list.addSubnet(addr!, Number(bits), family);
  }
  return (address: string) => {
    const v4 = address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
    return list.check(v4, net.isIPv6(v4) ? 'ipv6' : 'ipv4');
  };
}

/**
 * Read the PROXY header off `sock`. The bytes after it are pushed back into the socket
 * (unshift), so the XML stream or a TLS handshake started afterwards reads them first.
 */
export function readProxyHeader(sock: net.Socket, timeoutMs: number): Promise<ProxiedPeer | undefined> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const done = (err: Error | undefined, peer?: ProxiedPeer): void => {
      clearTimeout(timer);
      sock.removeListener('data', onData);
      sock.removeListener('close', onClose);
      sock.removeListener('error', onClose);
      if (err) reject(err); else resolve(peer);
    };
    const onClose = (): void => done(new ProxyHeaderError('connection closed before the PROXY header', buf.length === 0));
    const onData = (chunk: Buffer): void => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let n: number;
      let peer: ProxiedPeer | undefined;
      try {
        n = headerLength(buf);
        if (n === 0) return;
        peer = parseHeader(buf.subarray(0, n));
      } catch (e) { done(e as Error); return; }
      sock.pause();
      if (buf.length > n) sock.unshift(buf.subarray(n));
      done(undefined, peer);
    };
    const timer = setTimeout(() => done(new ProxyHeaderError('no PROXY header in time')), timeoutMs);
    sock.on('data', onData);
    sock.once('close', onClose);
    sock.once('error', onClose);
  });
}

/** Client addresses of accepted sockets as their balancer reported them (for the HTTP listeners,
    whose sockets reach WebSocket and BOSH code through node:http). */
const reported = new WeakMap<net.Socket, ProxiedPeer>();

/** The client's address: the reported one behind a balancer, else the socket's own. */
export function clientAddress(sock: net.Socket): ProxiedPeer {
  return reported.get(sock) ?? { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
}

export interface AcceptProxiedOptions {
  pp: ProxyProtocolConfig;
  /** TLS options when the listener is direct TLS (the header comes first, then the handshake). */
  tls?: tls.TlsOptions;
  /** Called on a TLS socket once its handshake is done, before it is handed on. */
  onSecure?: (t: tls.TLSSocket) => void;
  onProxyError?: (err: Error, remoteAddress: string | undefined) => void;
  onTlsError?: (err: Error, remoteAddress: string | undefined) => void;
}

/**
 * A connection handler for a PROXY listener: refuses untrusted sources, reads the header, runs
 * the TLS handshake when asked, then hands the socket on (paused when plain: resume it once its
 * reader is attached) with the reported client address, also kept for clientAddress().
 */
export function acceptProxied(o: AcceptProxiedOptions, onSocket: (s: net.Socket | tls.TLSSocket, peer: ProxiedPeer | undefined) => void): (s: net.Socket) => void {
  const trusted = trustList(o.pp.trusted);
  return (sock) => {
    sock.on('error', () => {});
    const from = sock.remoteAddress;
    if (!from) { sock.destroy(); return; } // already reset (a balancer's TCP health check)
    if (!trusted(from)) {
      o.onProxyError?.(new Error('connection from a source not trusted to send PROXY headers'), from);
      sock.destroy();
      return;
    }
    readProxyHeader(sock, o.pp.timeoutMs).then(async (peer) => {
      if (!o.tls) {
        if (peer) reported.set(sock, peer);
        onSocket(sock, peer);
        return;
      }
      // The TLS socket takes over the bytes after the header that are still buffered.
      const t = new tls.TLSSocket(sock, { isServer: true, ...o.tls });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('TLS handshake timed out')), o.pp.timeoutMs);
        t.once('secure', () => { clearTimeout(timer); resolve(); });
        t.once('error', (e) => { clearTimeout(timer); reject(e); });
        t.once('close', () => { clearTimeout(timer); reject(new Error('connection closed during TLS handshake')); });
      }).catch((e: unknown) => { o.onTlsError?.(e as Error, peer?.address ?? from); t.destroy(); throw undefined; });
      o.onSecure?.(t);
      if (peer) reported.set(t, peer);
      onSocket(t, peer);
    }).catch((e: unknown) => {
      if (e instanceof Error && !(e instanceof ProxyHeaderError && e.silent)) o.onProxyError?.(e, from);
      sock.destroy();
    });
  };
}
