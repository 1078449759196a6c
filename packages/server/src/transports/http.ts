// The HTTP(S) listener for web clients: XMPP over WebSocket (RFC 7395) at a configurable path,
// with the `xmpp` subprotocol required (§3.1) and an optional Origin allow-list; BOSH (XEP-0124,
// XEP-0206) at its own path, handled by ./bosh/service.ts; connection discovery (XEP-0156,
// ./host-meta.ts). Other paths get 404. Frames larger than the stanza limit are refused by the
// WebSocket layer itself (close code 1009).

import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { acceptProxied, type ProxyProtocolConfig } from './proxy-protocol.js';
import { WebSocketServer } from 'ws';
import type { CertificateStore } from '../tls/certificates.js';
import type { Transport } from './transport.js';
import { WebSocketTransport } from './websocket.js';
import { serveHostMeta } from './host-meta.js';
import type { HttpRoutes } from './http-routes.js';
import type { BoshService } from './bosh/service.js';

export interface HttpListenerOptions {
  address: string;
  port: number;
  tls: boolean;
  certs: CertificateStore;
  websocketPath: string;
  /** Allowed Origin header values; empty: any origin (authentication is in-band SASL, not cookies). */
  allowedOrigins: string[];
  maxFrameBytes: number;
  /** Public WebSocket URL announced by host-meta (XEP-0156); derived from the request otherwise. */
  websocketUrl?: string;
  /** BOSH, shared by the http and https listeners; absent: no BOSH. */
  bosh?: BoshService;
  /** Public BOSH URL announced by host-meta; derived from the request otherwise. */
  boshUrl?: string;
  onTlsError?: (err: Error, remoteAddress: string | undefined) => void;
  /** Paths served by modules (./http-routes.ts), asked first. */
  routes?: HttpRoutes;
  onRouteError?: (err: unknown) => void;
  /** Behind a TCP balancer sending PROXY headers (TLS, if any, passes through it). */
  proxyProtocol?: ProxyProtocolConfig;
  onProxyError?: (err: Error, remoteAddress: string | undefined) => void;
}

export function listenHttp(opts: HttpListenerOptions, onTransport: (t: Transport) => void): Promise<net.Server> {
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (opts.routes?.handle(req, res, opts.tls, (e) => opts.onRouteError?.(e))) return;
    if (serveHostMeta(req, res, { secure: opts.tls, websocketPath: opts.websocketPath, websocketUrl: opts.websocketUrl, boshPath: opts.bosh?.path, boshUrl: opts.boshUrl })) return;
    if (opts.bosh && new URL(req.url ?? '/', 'http://x').pathname === opts.bosh.path) return opts.bosh.handle(req, res, opts.tls);
    if (opts.routes?.handleFallback(req, res, opts.tls, (e) => opts.onRouteError?.(e))) return;
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  };
  // Behind a PROXY balancer the header and the TLS handshake are done first (proxy-protocol.ts)
  // and node:http gets the finished socket; WebSocket and BOSH read the reported client address.
  const server = opts.tls && !opts.proxyProtocol ? https.createServer(opts.certs.serverOptions(false), handler) : http.createServer(handler);
  server.on('tlsClientError', (e: Error, s: { remoteAddress?: string; destroy(): void }) => { opts.onTlsError?.(e, s.remoteAddress); s.destroy(); });
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxFrameBytes,
    handleProtocols: (protocols) => (protocols.has('xmpp') ? 'xmpp' : false),
  });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    const refuse = (code: number, text: string): void => { socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\n\r\n`); };
    if (url.pathname !== opts.websocketPath) return refuse(404, 'Not Found');
    if (opts.allowedOrigins.length && (!origin || !opts.allowedOrigins.includes(origin))) return refuse(403, 'Forbidden');
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    if (!protocols.includes('xmpp')) return refuse(400, 'Bad Request');
    wss.handleUpgrade(req, socket, head, (ws) => onTransport(new WebSocketTransport(ws, req)));
  });
  const front: net.Server = opts.proxyProtocol
    ? net.createServer(acceptProxied({ pp: opts.proxyProtocol, tls: opts.tls ? opts.certs.serverOptions(false) : undefined,
      onProxyError: opts.onProxyError, onTlsError: opts.onTlsError }, (sock) => { server.emit('connection', sock); sock.resume(); }))
    : server;
  if (front !== server) front.on('close', () => server.close());
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen({ host: opts.address, port: opts.port, backlog: 1024 }, () => { front.removeListener('error', reject); resolve(front); });
  });
}

export function boundPort(s: net.Server): number { return (s.address() as AddressInfo).port; }
