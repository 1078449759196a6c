// Endpoint choice for Node: explicit xmpp://host:port (STARTTLS), xmpps://host:port (direct TLS,
// XEP-0368), ws(s):// or http(s):// URLs; or host/port options; else DNS SRV (RFC 6120 §3.2).
// WebSocket uses the `ws` package, since Node 20 has no stable global WebSocket.

import type { ConnectionOptions } from 'node:tls';
import { WebSocket as WsWebSocket } from 'ws';
import { discoverSrv, type SrvResolver } from '../discovery/srv.js';
import { TcpTransport } from '../transport/tcp.js';
import { firstConnected, type ClientTransport, type Connector } from '../transport/transport.js';
import type { WebSocketConstructor } from '../transport/websocket.js';
import { transportFor } from './browser.js';

export interface NodeConnectOptions {
  /** URLs tried in order: xmpp://host:port, xmpps://host:port, ws(s)://…, http(s)://… (BOSH). */
  service?: string | string[];
  /** Connect to this host instead of SRV discovery (port default 5222, or 5223 with directTls). */
  host?: string;
  port?: number;
  directTls?: boolean;
  /** node:tls options: ca, rejectUnauthorized, servername… */
  tls?: ConnectionOptions;
  /** Custom SRV resolver (tests). */
  resolveSrv?: SrvResolver;
  WebSocket?: WebSocketConstructor;
  connectTimeout?: number;
}

export function nodeConnector(o: NodeConnectOptions = {}): Connector {
  const WebSocket = o.WebSocket ?? (WsWebSocket as unknown as WebSocketConstructor);
  return async ({ domain }) => {
    const tcp = (host: string, port: number, directTls: boolean) => (): ClientTransport =>
      new TcpTransport({ host, port, directTls, tls: o.tls, servername: o.tls?.servername ?? domain, connectTimeout: o.connectTimeout });
    let candidates: (() => ClientTransport)[] = [];
    if (o.service !== undefined) {
      for (const url of Array.isArray(o.service) ? o.service : [o.service]) {
        const m = /^(xmpps?):\/\/(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/i.exec(url);
        if (m) {
          const direct = m[1]!.toLowerCase() === 'xmpps';
          candidates.push(tcp(m[2]!.replace(/^\[|\]$/g, ''), m[3] ? Number(m[3]) : direct ? 5223 : 5222, direct));
          continue;
        }
        const c = transportFor(url, { WebSocket });
        if (!c) throw new Error(`unsupported service URL ${url}`);
        candidates.push(c);
      }
    } else if (o.host) {
      candidates = [tcp(o.host, o.port ?? (o.directTls ? 5223 : 5222), o.directTls ?? false)];
    } else {
      candidates = (await discoverSrv(domain, o.resolveSrv)).map((e) => tcp(e.host, e.port, e.directTls));
    }
    return firstConnected(candidates);
  };
}
