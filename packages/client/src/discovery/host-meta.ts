// Connection endpoint discovery for browsers (XEP-0156 v1.4 §3): the domain's
// /.well-known/host-meta.json (JRD, RFC 7033 style) and /.well-known/host-meta (XRD, RFC 6415)
// list WebSocket (urn:xmpp:alt-connections:websocket) and BOSH (urn:xmpp:alt-connections:xbosh)
// URLs. Fetched over https only, since an attacker on plain http could redirect the client.

import { parseFragment } from '@magpie/core/xml/parser';

export const REL_WEBSOCKET = 'urn:xmpp:alt-connections:websocket';
export const REL_BOSH = 'urn:xmpp:alt-connections:xbosh';

export interface Endpoints { websocket: string[]; bosh: string[] }

export interface HostMetaOptions {
  /** Origin to fetch from instead of https://<domain> (tests, or a site's own origin). */
  origin?: string;
  fetch?: typeof fetch;
  timeout?: number;
}

/** Parse either document format into endpoint lists (links of other relations are ignored). */
export function parseHostMeta(body: string, json: boolean): Endpoints {
  const out: Endpoints = { websocket: [], bosh: [] };
  const add = (rel: unknown, href: unknown): void => {
    if (typeof href !== 'string' || typeof rel !== 'string') return;
    if (rel === REL_WEBSOCKET && /^wss?:\/\//i.test(href)) out.websocket.push(href);
    if (rel === REL_BOSH && /^https?:\/\//i.test(href)) out.bosh.push(href);
  };
  if (json) {
    const doc = JSON.parse(body) as { links?: { rel?: unknown; href?: unknown }[] };
    for (const l of Array.isArray(doc.links) ? doc.links : []) add(l?.rel, l?.href);
  } else {
    const xrd = parseFragment(body);
    for (const l of xrd.getChildren('Link')) add(l.attr('rel'), l.attr('href'));
  }
  return out;
}

/** Look up a domain's endpoints: JSON first, then XML; empty lists when neither answers. */
export async function discoverEndpoints(domain: string, o: HostMetaOptions = {}): Promise<Endpoints> {
  const origin = o.origin ?? `https://${domain}`;
  const f = o.fetch ?? fetch;
  for (const [path, json] of [['/.well-known/host-meta.json', true], ['/.well-known/host-meta', false]] as const) {
    try {
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), o.timeout ?? 10000);
      const res = await f(origin + path, { signal: ctl.signal }).finally(() => clearTimeout(timer));
      if (!res.ok) continue;
      const eps = parseHostMeta(await res.text(), json);
      if (eps.websocket.length || eps.bosh.length) return eps;
    } catch { /* try the next format */ }
  }
  return { websocket: [], bosh: [] };
}
