// Connection discovery for web clients (XEP-0156 §3): /.well-known/host-meta (XRD, RFC 6415) and
// /.well-known/host-meta.json (JRD) list the WebSocket endpoint (RFC 7395) under
// urn:xmpp:alt-connections:websocket and the BOSH endpoint (XEP-0206) under
// urn:xmpp:alt-connections:xbosh. Each URL is built from the request's Host header (validated,
// never reflected unescaped) and the listener's scheme, unless the operator configures the public
// URL (behind a TLS-terminating proxy the server cannot know it). CORS: `*` on these files only
// (XEP-0156 §4), which browsers honour only for requests without credentials.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeAttr } from '@magpie/core/xml/escape';

export interface HostMetaOptions { secure: boolean; websocketPath: string; websocketUrl?: string; boshPath?: string; boshUrl?: string }

// host or host:port, or [v6]:port; no userinfo, path or spaces.
const HOST_RE = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

function validHost(req: IncomingMessage): string | undefined {
  const host = req.headers.host;
  return host && HOST_RE.test(host) ? host : undefined;
}

export function websocketLink(req: IncomingMessage, o: HostMetaOptions): string | undefined {
  if (o.websocketUrl) return o.websocketUrl;
  const host = validHost(req);
  return host && `${o.secure ? 'wss' : 'ws'}://${host}${o.websocketPath}`;
}

export function boshLink(req: IncomingMessage, o: HostMetaOptions): string | undefined {
  if (o.boshUrl) return o.boshUrl;
  const host = validHost(req);
  return host && o.boshPath && `${o.secure ? 'https' : 'http'}://${host}${o.boshPath}`;
}

/** Answer a host-meta request; false when the path is not one of ours. */
export function serveHostMeta(req: IncomingMessage, res: ServerResponse, o: HostMetaOptions): boolean {
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const json = path === '/.well-known/host-meta.json';
  if (!json && path !== '/.well-known/host-meta') return false;
  const cors = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, OPTIONS' };
  if (req.method === 'OPTIONS') { res.writeHead(204, cors); res.end(); return true; }
  if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD, OPTIONS' }); res.end(); return true; }
  const ws = websocketLink(req, o);
  if (!ws) { res.writeHead(400, { 'content-type': 'text/plain' }); res.end('bad Host header\n'); return true; }
  const links = [{ rel: 'urn:xmpp:alt-connections:websocket', href: ws }];
  const bosh = o.boshPath || o.boshUrl ? boshLink(req, o) : undefined;
  if (bosh) links.push({ rel: 'urn:xmpp:alt-connections:xbosh', href: bosh });
  const body = json
    ? JSON.stringify({ links }, null, 2) + '\n'
    : `<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='http://docs.oasis-open.org/ns/xri/xrd-1.0'>\n${links.map((l) => `  <Link rel='${l.rel}' href='${escapeAttr(l.href)}'/>\n`).join('')}</XRD>\n`;
  res.writeHead(200, { ...cors, 'content-type': json ? 'application/json' : 'application/xrd+xml; charset=utf-8', 'cache-control': 'max-age=3600' });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
