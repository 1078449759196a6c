// TCP transports: plain TCP with STARTTLS (RFC 6120 §5) and direct TLS (XEP-0368). The raw
// socket's data listener is detached before the TLS handshake so no plaintext byte received
// after <proceed/> can ever reach the XML parser (RFC 6120 §5.4.3.3).

import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { PeerCertificate, Transport } from './transport.js';
import { isLoopbackAddress } from './transport.js';
import { channelBindingData, channelBindingTypes } from '../tls/channel-binding.js';
import type { CertificateStore } from '../tls/certificates.js';
import { acceptProxied, type ProxiedPeer, type ProxyProtocolConfig } from './proxy-protocol.js';

export class TcpTransport implements Transport {
  readonly id = randomBytes(6).toString('base64url');
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly loopback: boolean;
  readonly framing = 'stream' as const;
  onData: (chunk: Uint8Array | string) => void = () => {};
  onClose: (error?: Error) => void = () => {};
  private sock: net.Socket | tls.TLSSocket;
  private tlsSock: tls.TLSSocket | undefined;
  private closed = false;
  private lastError: Error | undefined;

  /** `peer`: the client's address as a trusted load balancer reported it (PROXY protocol). */
  constructor(sock: net.Socket | tls.TLSSocket, private readonly certs: CertificateStore | undefined, private readonly requestClientCert: boolean, peer?: ProxiedPeer) {
    this.sock = sock;
    this.remoteAddress = peer?.address ?? sock.remoteAddress ?? '';
    this.remotePort = peer?.port ?? sock.remotePort ?? 0;
    this.localPort = sock.localPort ?? 0;
    this.loopback = isLoopbackAddress(this.remoteAddress);
    if (sock instanceof tls.TLSSocket) this.tlsSock = sock;
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 60_000);
    this.attach(sock);
  }

  private readonly dataListener = (chunk: Buffer) => this.onData(chunk);
  private attach(sock: net.Socket): void {
    sock.on('data', this.dataListener);
    sock.on('error', (e) => { this.lastError = e; });
    sock.on('close', () => {
      if (this.closed || sock !== this.sock) return;
      this.closed = true;
      this.onClose(this.lastError);
    });
  }

  get secure(): boolean { return this.tlsSock !== undefined; }
  get canStartTls(): boolean { return !this.tlsSock && this.certs !== undefined; }
  get servername(): string | undefined { const s = this.tlsSock?.servername; return typeof s === 'string' ? s : undefined; }
  get bufferedBytes(): number { return this.sock.writableLength; }

  // Writes of one event-loop turn leave in one send (cork until setImmediate): a burst of replies
  // (a client's pipelined iqs, a room's fan-out to one occupant) was one write syscall and, on
  // TLS, one record per stanza; in the 45,000-connection benchmark those writes were a third of
  // the busy time (bench/RESULTS.md "Cluster: 45,000 connections").
  private corked = false;
  private readonly uncork = (): void => { this.corked = false; if (!this.sock.destroyed) this.sock.uncork(); };
  write(data: string): void {
    if (this.closed || this.sock.destroyed) return;
    if (!this.corked) { this.corked = true; this.sock.cork(); setImmediate(this.uncork); }
    this.sock.write(data);
  }
  /** Send what is corked now (before the socket changes hands or closes). */
  private flush(): void { if (this.corked) { this.corked = false; this.sock.uncork(); } }

  startTls(): Promise<void> {
    if (!this.certs || this.tlsSock) return Promise.reject(new Error('TLS not available'));
    const raw = this.sock;
    this.flush(); // <proceed/> must leave before the handshake takes the socket over
    raw.removeListener('data', this.dataListener);
    raw.removeAllListeners('close');
    const t = new tls.TLSSocket(raw, { isServer: true, ...this.certs.serverOptions(this.requestClientCert) });
    this.sock = t;
    this.tlsSock = t;
    this.attach(t);
    return new Promise((resolve, reject) => {
      t.once('secure', () => { settleAuthorization(t); resolve(); });
      t.once('error', reject);
      t.once('close', () => reject(new Error('connection closed during TLS handshake')));
    });
  }

  pause(): void { this.sock.pause(); }
  resume(): void { this.sock.resume(); }
  end(): void { if (!this.sock.destroyed) { this.flush(); this.sock.end(); } }
  destroy(): void { this.sock.destroy(); }
  // Asked several times per login (mechanism offer, features, SASL); getCertificate() is costly
  // (about 8% of login CPU in the benchmark profile), and the answer never changes once TLS is up.
  private cbTypes: string[] | undefined;
  channelBindingTypes(): string[] {
    if (!this.tlsSock) return [];
    return (this.cbTypes ??= channelBindingTypes(this.tlsSock));
  }
  channelBinding(type: string): Uint8Array | undefined { return this.tlsSock ? channelBindingData(this.tlsSock, type) : undefined; }

  peerCertificate(): PeerCertificate | undefined {
    const t = this.tlsSock;
    if (!t) return undefined;
    const c = t.getPeerCertificate(false);
    if (!c || !c.raw) return undefined;
    const sans = (c.subjectaltname ?? '').split(/,\s*/).filter(Boolean);
    return { raw: c.raw, authorized: t.authorized, authorizationError: t.authorizationError ? String(t.authorizationError) : undefined, subjectAltNames: sans };
  }
}

/**
 * Node sets `authorized` on a requested client certificate only for sockets a tls.Server
 * accepted; a socket upgraded in place (STARTTLS) keeps `authorized: false` whatever the chain.
 * Read the handshake's verification result the way tls.Server does, so SASL EXTERNAL (c2s and
 * s2s) works after STARTTLS as it does on direct TLS.
 */
function settleAuthorization(t: tls.TLSSocket): void {
  const handle = (t as unknown as { _handle?: { verifyError?: () => (Error & { code?: string }) | null } })._handle;
  if (!handle?.verifyError || !t.getPeerCertificate()?.raw) return;
  const err = handle.verifyError();
  if (err) t.authorizationError = err;
  else t.authorized = true;
}

export interface TcpListenerOptions {
  address: string; port: number; directTls: boolean; certs: CertificateStore; requestClientCert: boolean; backlog?: number;
  onTlsError?: (err: Error, remoteAddress: string | undefined) => void;
  /** Connections come from load balancers that send a PROXY protocol header first. */
  proxyProtocol?: ProxyProtocolConfig;
  onProxyError?: (err: Error, remoteAddress: string | undefined) => void;
}

/** Listen; calls onTransport for each accepted connection. Resolves with the bound server. */
export function listenTcp(opts: TcpListenerOptions, onTransport: (t: Transport) => void): Promise<net.Server> {
  const server = opts.proxyProtocol ? net.createServer(proxiedConnectionHandler(opts, opts.proxyProtocol, onTransport)) : opts.directTls
    ? tls.createServer(opts.certs.serverOptions(opts.requestClientCert), (s) => onTransport(new TcpTransport(s, opts.certs, opts.requestClientCert)))
    : net.createServer((s) => onTransport(new TcpTransport(s, opts.certs, opts.requestClientCert)));
  // A failed handshake on direct TLS must not take the listener down.
  server.on('tlsClientError', (e: Error, s: tls.TLSSocket) => { opts.onTlsError?.(e, s.remoteAddress); s.destroy(); });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.address, port: opts.port, backlog: opts.backlog ?? 1024, ipv6Only: false }, () => {
      server.removeListener('error', reject);
      resolve(server);
    });
  });
}

/** A PROXY listener: plain TCP, since the header comes before any TLS (proxy-protocol.ts). */
function proxiedConnectionHandler(opts: TcpListenerOptions, pp: ProxyProtocolConfig, onTransport: (t: Transport) => void): (s: net.Socket) => void {
  return acceptProxied({ pp, tls: opts.directTls ? opts.certs.serverOptions(opts.requestClientCert) : undefined, onSecure: settleAuthorization,
    onProxyError: opts.onProxyError, onTlsError: opts.onTlsError }, (sock, peer) => {
    const t = new TcpTransport(sock, opts.certs, opts.requestClientCert, peer);
    onTransport(t);
    t.resume(); // a plain socket comes paused; the stream has its handlers now
  });
}
