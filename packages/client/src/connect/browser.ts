// Endpoint choice for browsers (and any runtime with fetch/WebSocket): explicit URLs tried in
// order, else XEP-0156 discovery with WebSocket preferred (RFC 7395) and BOSH (XEP-0206) as the
// fallback when WebSocket is missing or its endpoints fail.

import { discoverEndpoints } from '../discovery/host-meta.js';
import { BoshTransport } from '../transport/bosh.js';
import { firstConnected, type ClientTransport, type Connector } from '../transport/transport.js';
import { WebSocketTransport, type WebSocketConstructor } from '../transport/websocket.js';

export interface WebConnectOptions {
  /** ws(s):// (WebSocket) or http(s):// (BOSH) URLs, tried in order. Omitted: XEP-0156 discovery. */
  service?: string | string[];
  /** WebSocket implementation (default: the global one). */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  /** Where to fetch host-meta from, instead of https://<domain>. */
  hostMetaOrigin?: string;
}

export function transportFor(url: string, o: WebConnectOptions): (() => ClientTransport) | undefined {
  if (/^wss?:\/\//i.test(url)) return () => new WebSocketTransport({ url, WebSocket: o.WebSocket });
  if (/^https?:\/\//i.test(url)) return () => new BoshTransport({ url, fetch: o.fetch });
  return undefined;
}

export function webConnector(o: WebConnectOptions = {}): Connector {
  return async ({ domain }) => {
    let urls = o.service === undefined ? [] : Array.isArray(o.service) ? o.service : [o.service];
    if (urls.length === 0) {
      const eps = await discoverEndpoints(domain, { origin: o.hostMetaOrigin, fetch: o.fetch });
      const hasWs = o.WebSocket !== undefined || typeof (globalThis as { WebSocket?: unknown }).WebSocket === 'function';
      urls = [...(hasWs ? eps.websocket : []), ...eps.bosh];
    }
    const candidates = urls.map((u) => transportFor(u, o)).filter((c): c is () => ClientTransport => c !== undefined);
    return firstConnected(candidates);
  };
}
