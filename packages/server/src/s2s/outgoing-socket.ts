// The client side of a server-to-server connection: TCP with STARTTLS (RFC 6120 §5) or direct
// TLS with ALPN "xmpp-server" (XEP-0368 §3). The plain socket's data listener is detached
// before the TLS handshake so no plaintext byte that follows <proceed/> reaches the parser.
// Certificates are checked after the handshake, not by it: dialback may still authenticate a
// peer whose certificate does not validate (the trust policy decides, policy.ts).

import net from 'node:net';
import tls from 'node:tls';
import { randomBytes } from 'node:crypto';
import type { PeerCertificate } from '../transports/transport.js';
import type { StreamSocket } from './xml-stream.js';
import type { Candidate } from './resolver.js';

export interface ClientTlsOptions {
  /** The remote domain (SNI, RFC 6120 §13.7.2.1). */
  servername: string;
  ca?: string;
  /** Our certificate for the originating domain (the peer checks it for SASL EXTERNAL). */
  cert: string;
  key: string;
  minVersion: tls.SecureVersion;
}

export class OutgoingSocket implements StreamSocket {
  readonly id = randomBytes(6).toString('base64url');
  onData: (chunk: Uint8Array | string) => void = () => {};
  onClose: (error?: Error) => void = () => {};
  private tlsSock: tls.TLSSocket | undefined;
  private closed = false;
  private lastError: Error | undefined;
  private readonly dataListener = (chunk: Buffer) => this.onData(chunk);

  private constructor(private sock: net.Socket, readonly remoteAddress: string) {
    if (sock instanceof tls.TLSSocket) this.tlsSock = sock;
    sock.setNoDelay(true);
    sock.setKeepAlive(true, 60_000);
    this.attach(sock);
  }

  /** Connect to one candidate address; rejects on refusal, failure or after `timeoutMs`. */
  static connect(c: Candidate, timeoutMs: number, tlsOpts: ClientTlsOptions): Promise<OutgoingSocket> {
    return new Promise((resolve, reject) => {
      const sock = c.directTls
        ? tls.connect({ host: c.host, port: c.port, ...clientOptions(tlsOpts), ALPNProtocols: ['xmpp-server'] })
        : net.connect({ host: c.host, port: c.port });
      const timer = setTimeout(() => { sock.destroy(); reject(Object.assign(new Error(`connection to ${c.host}:${c.port} timed out`), { code: 'ETIMEDOUT' })); }, timeoutMs);
      const fail = (e: Error) => { clearTimeout(timer); sock.destroy(); reject(e); };
      sock.once('error', fail);
      sock.once(c.directTls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        sock.removeListener('error', fail);
        resolve(new OutgoingSocket(sock, sock.remoteAddress ?? c.host));
      });
    });
  }

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
  get bufferedBytes(): number { return this.sock.writableLength; }
  write(data: string): void { if (!this.closed && !this.sock.destroyed) this.sock.write(data); }
  pause(): void { this.sock.pause(); }
  resume(): void { this.sock.resume(); }
  end(): void { if (!this.sock.destroyed) this.sock.end(); }
  destroy(): void { this.sock.destroy(); }

  /** STARTTLS as the initiating entity, after the peer's <proceed/>. */
  startTls(opts: ClientTlsOptions, timeoutMs: number): Promise<void> {
    const raw = this.sock;
    raw.removeListener('data', this.dataListener);
    raw.removeAllListeners('close');
    const t = tls.connect({ socket: raw, ...clientOptions(opts) });
    this.sock = t;
    this.tlsSock = t;
    this.attach(t);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { t.destroy(); reject(new Error('TLS handshake timed out')); }, timeoutMs);
      t.once('secureConnect', () => { clearTimeout(timer); resolve(); });
      t.once('error', (e) => { clearTimeout(timer); reject(e); });
    });
  }

  peerCertificate(): PeerCertificate | undefined {
    const t = this.tlsSock;
    if (!t) return undefined;
    const c = t.getPeerCertificate(false);
    if (!c || !c.raw) return undefined;
    return { raw: c.raw, authorized: t.authorized, authorizationError: t.authorizationError ? String(t.authorizationError) : undefined, subjectAltNames: (c.subjectaltname ?? '').split(/,\s*/).filter(Boolean) };
  }
}

function clientOptions(o: ClientTlsOptions): tls.ConnectionOptions {
  return {
    servername: o.servername, cert: o.cert, key: o.key, minVersion: o.minVersion,
    ...(o.ca ? { ca: o.ca } : {}),
    rejectUnauthorized: false, // checked afterwards against the domain's trust policy
    checkServerIdentity: () => undefined,
  };
}
