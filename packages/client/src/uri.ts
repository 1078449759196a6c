// xmpp: URIs (RFC 5122 §2): xmpp:[//authority/]jid[?query[;key=value]...][#fragment], with the
// JID's parts percent-decoded (RFC 3986 §2.1) and the query actions of the XMPP URI/IRI Querytypes
// registry (XEP-0147), e.g. xmpp:romeo@montague.net?message;subject=Hi;body=Hello.

import { JID } from '@magpie/core/jid/jid';

export interface XmppUri {
  /** The account to act as (the authority component), if given. */
  authority: string | undefined;
  jid: string;
  /** Query type ("message", "subscribe", "join", …). */
  action: string | undefined;
  params: Record<string, string>;
  fragment: string | undefined;
}

export class UriError extends Error { override readonly name = 'UriError'; }

function decode(s: string): string {
  try { return decodeURIComponent(s); } catch { throw new UriError('bad percent-encoding: ' + s); }
}

export function parseUri(uri: string): XmppUri {
  if (!/^xmpp:/i.test(uri)) throw new UriError('not an xmpp: URI');
  let rest = uri.slice(5);
  let fragment: string | undefined;
  const hash = rest.indexOf('#');
  if (hash !== -1) { fragment = decode(rest.slice(hash + 1)); rest = rest.slice(0, hash); }
  let query: string | undefined;
  const q = rest.indexOf('?');
  if (q !== -1) { query = rest.slice(q + 1); rest = rest.slice(0, q); }
  let authority: string | undefined;
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    if (slash === -1) throw new UriError('authority without a path');
    authority = JID.parse(decode(rest.slice(2, slash))).toString();
    rest = rest.slice(slash + 1);
  }
  if (rest === '') throw new UriError('no JID');
  const jid = JID.parse(decode(rest)).toString();
  let action: string | undefined;
  const params: Record<string, string> = {};
  if (query !== undefined) {
    const parts = query.split(';');
    action = decode(parts[0]!) || undefined;
    for (const p of parts.slice(1)) {
      if (p === '') continue;
      const eq = p.indexOf('=');
      params[decode(eq === -1 ? p : p.slice(0, eq))] = eq === -1 ? '' : decode(p.slice(eq + 1));
    }
  }
  return { authority, jid, action, params, fragment };
}

// RFC 5122 §2.3: characters allowed unencoded in a node/resource (RFC 3986 unreserved and a few
// sub-delims); everything else is percent-encoded as UTF-8.
const enc = (s: string, keep: RegExp): string => Array.from(s, (ch) => (keep.test(ch) ? ch : encodeURIComponent(ch).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()))).join('');
const JID_KEEP = /^[A-Za-z0-9\-._~!$()*+,=@/]$/;
const Q_KEEP = /^[A-Za-z0-9\-._~!$()*+,:@/]$/;

export function buildUri(u: { jid: string; authority?: string; action?: string; params?: Record<string, string>; fragment?: string }): string {
  let s = 'xmpp:';
  if (u.authority) s += '//' + enc(u.authority, JID_KEEP) + '/';
  s += enc(u.jid, JID_KEEP);
  if (u.action) {
    s += '?' + enc(u.action, Q_KEEP);
    for (const [k, v] of Object.entries(u.params ?? {})) s += ';' + enc(k, Q_KEEP) + '=' + enc(v, Q_KEEP);
  }
  if (u.fragment !== undefined) s += '#' + enc(u.fragment, Q_KEEP);
  return s;
}
