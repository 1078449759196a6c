// XMPP over TCP for Node (RFC 6120 §3-§5): plain TCP upgraded with STARTTLS (§5.4), or direct
// TLS (XEP-0368). The stream is one XML document parsed by core's StreamParser; after STARTTLS and
// SASL a new stream header starts a new document (§4.3.3). Channel binding data for SCRAM-PLUS:
// tls-exporter on TLS 1.3 (RFC 9266), tls-server-end-point otherwise (RFC 5929 §4). This file
// imports node:net/node:tls and is only reachable from the Node entry.

import net from 'node:net';
import tls from 'node:tls';
import { createHash } from 'node:crypto';
import type { Element } from '@magpie/core/xml/element';
import { StreamParser } from '@magpie/core/xml/parser';
import { escapeAttr } from '@magpie/core/xml/escape';
import { NS } from '@magpie/core/protocol/namespaces';
import { ConnectionError } from '../errors.js';
import { isLoopbackHost, type ChannelBinding, type ClientTransport, type TransportHandlers } from './transport.js';

export interface TcpTransportOptions {
  host: string;
  port: number;
  /** TLS from the first byte (XEP-0368, _xmpps-client), instead of STARTTLS. */
  directTls?: boolean;
  /** Name checked against the certificate and sent as SNI; default the XMPP domain given to connect. */
  servername?: string;
  /** Passed to tls.connect: ca, rejectUnauthorized (tests), minVersion... */
  tls?: tls.ConnectionOptions;
  /** ms to wait for the TCP (and direct TLS) connection. Default 15000. */
  connectTimeout?: number;
}

const noHandlers: TransportHandlers = { streamOpen() {}, element() {}, streamClose() {}, closed() {} };

export class TcpTransport implements ClientTransport {
  readonly kind = 'tcp' as const;
  handlers: TransportHandlers = noHandlers;
  readonly loopback: boolean;
  readonly address: string;
  private socket: net.Socket | undefined;
  private tlsSocket: tls.TLSSocket | undefined;
  private parser: StreamParser;
  private done = false;

  constructor(private readonly opts: TcpTransportOptions) {
    this.loopback = isLoopbackHost(opts.host);
    this.address = `${opts.directTls ? 'xmpps' : 'xmpp'}://${opts.host}:${opts.port}`;
    this.parser = this.newParser();
  }

  get secure(): boolean { return this.tlsSocket !== undefined; }
  get canStartTls(): boolean { return !this.secure; }

  private newParser(): StreamParser {
    return new StreamParser({
      onStreamOpen: (info) => this.handlers.streamOpen(info.attrs),
      onElement: (el) => this.handlers.element(el),
      onStreamClose: () => this.handlers.streamClose(),
      onError: (condition, text) => this.fail(new ConnectionError(`server sent bad XML (${condition}): ${text}`, 'protocol')),
    }, { maxStanzaBytes: 10 * 1024 * 1024 });
  }

  connect(): Promise<void> {
    const { host, port } = this.opts;
    return new Promise((resolve, reject) => {
      let sock: net.Socket;
      const timeout = setTimeout(() => { sock.destroy(); reject(new ConnectionError(`${this.address}: connect timeout`)); }, this.opts.connectTimeout ?? 15000);
      const onError = (err: Error): void => {
        clearTimeout(timeout);
        reject(new ConnectionError(`${this.address}: ${err.message}`, isTlsError(err) ? 'tls' : 'network', { cause: err }));
      };
      if (this.opts.directTls) {
        const t = tls.connect({ host, port, servername: this.servername(), ALPNProtocols: ['xmpp-client'], ...this.opts.tls }, () => {
          clearTimeout(timeout);
          t.off('error', onError);
          this.tlsSocket = t;
          this.attach(t);
          resolve();
        });
        sock = t;
      } else {
        sock = net.connect({ host, port }, () => {
          clearTimeout(timeout);
          sock.off('error', onError);
          this.attach(sock);
          resolve();
        });
      }
      sock.once('error', onError);
    });
  }

  private servername(): string | undefined {
    const name = this.opts.servername ?? this.domain;
    // SNI must be a host name, never an IP literal (RFC 6066 §3).
    return name && net.isIP(name) === 0 ? name : undefined;
  }
  private domain = '';

  private attach(sock: net.Socket): void {
    this.socket = sock;
    sock.setNoDelay(true);
    sock.on('data', (chunk: Buffer) => {
      if (this.handlers.rawIn) this.handlers.rawIn(chunk.toString('utf8'));
      this.parser.write(chunk);
    });
    sock.on('error', (err) => this.fail(new ConnectionError(`${this.address}: ${err.message}`, 'network', { cause: err })));
    sock.on('close', () => this.finish(undefined));
  }

  openStream(domain: string, lang: string): void {
    this.domain = domain;
    this.parser.reset();
    this.write(`<?xml version='1.0'?><stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAM}' to='${escapeAttr(domain)}' version='1.0' xml:lang='${escapeAttr(lang)}'>`);
  }

  send(el: Element): void { this.write(el.toString(NS.CLIENT)); }

  private write(s: string): void {
    const sock = this.socket;
    if (!sock || sock.destroyed || !sock.writable) return;
    this.handlers.rawOut?.(s);
    sock.write(s);
  }

  async startTls(): Promise<void> {
    const plain = this.socket;
    if (!plain) throw new ConnectionError('not connected', 'closed');
    // Nothing read before the handshake may be parsed after it (RFC 6120 §5.4.3.3).
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    this.parser.reset();
    await new Promise<void>((resolve, reject) => {
      const t = tls.connect({ socket: plain, servername: this.servername(), ...this.opts.tls }, () => {
        t.off('error', onError);
        this.tlsSocket = t;
        this.attach(t);
        resolve();
      });
      const onError = (err: Error): void => {
        reject(new ConnectionError(`TLS negotiation with ${this.opts.host}: ${err.message}`, 'tls', { cause: err }));
        t.destroy();
        this.finish(undefined);
      };
      t.once('error', onError);
    });
  }

  channelBindings(): ChannelBinding[] {
    const t = this.tlsSocket;
    if (!t) return [];
    const out: ChannelBinding[] = [];
    if (t.getProtocol() === 'TLSv1.3') {
      out.push({ type: 'tls-exporter', data: new Uint8Array(t.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0))) });
    }
    const cert = t.getPeerCertificate(false) as tls.PeerCertificate | null;
    if (cert?.raw) out.push({ type: 'tls-server-end-point', data: new Uint8Array(createHash(endPointHash(cert)).update(cert.raw).digest()) });
    return out;
  }

  close(): void {
    this.write('</stream:stream>');
    const sock = this.socket;
    // Wait a little for the server's </stream:stream> (RFC 6120 §4.4), then end anyway.
    setTimeout(() => sock?.destroy(), 2000).unref();
    sock?.end();
  }

  destroy(): void {
    this.socket?.destroy();
    this.finish(undefined);
  }

  private fail(err: Error): void {
    this.socket?.destroy();
    this.finish(err);
  }

  private finish(err: Error | undefined): void {
    if (this.done) return;
    this.done = true;
    this.parser.stop();
    this.handlers.closed(err);
  }
}

// RFC 5929 §4.1: the certificate's signature hash, MD5 and SHA-1 replaced by SHA-256.
// The outer signatureAlgorithm OID follows tbsCertificate near the end of the DER.
const OIDS: [string, string][] = [
  ['2a864886f70d01010c', 'sha384'], ['2a864886f70d01010d', 'sha512'],
  ['2a8648ce3d040303', 'sha384'], ['2a8648ce3d040304', 'sha512'],
];
function endPointHash(cert: tls.PeerCertificate): string {
  const hex = cert.raw.toString('hex');
  for (const [oid, alg] of OIDS) {
    const at = hex.lastIndexOf('06' + (oid.length / 2).toString(16).padStart(2, '0') + oid);
    if (at !== -1 && at > hex.length / 2) return alg;
  }
  return 'sha256';
}

function isTlsError(err: Error): boolean {
  const code = (err as { code?: string }).code ?? '';
  return /CERT|TLS|SSL|SELF_SIGNED|HOSTNAME|ERR_TLS/.test(code);
}
