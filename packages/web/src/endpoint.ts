// Where the page connects: the server that served it. XEP-0156 host-meta on the page's own
// origin first (the operator may announce a proxied WebSocket URL there), else the default
// WebSocket path on the same origin (wss on an https page, RFC 7395 §3.1).

import { discoverEndpoints } from '@magpie/client';

export const DEFAULT_WS_PATH = '/xmpp-websocket';

export function sameOriginWebSocket(loc: { protocol: string; host: string }, path = DEFAULT_WS_PATH): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}${path}`;
}

/** WebSocket URLs first, then BOSH, as the library's connector tries them in order. */
export async function findEndpoints(domain: string, loc: { origin: string; protocol: string; host: string }): Promise<string[]> {
  const eps = await discoverEndpoints(domain, { origin: loc.origin, timeout: 5000 });
  const urls = [...eps.websocket, ...eps.bosh];
  return urls.length ? urls : [sameOriginWebSocket(loc)];
}
