// The BOSH <body/> wrapper (XEP-0124 §4, XEP-0206 §2): parsing a client request into its
// attributes and payloads, and writing response bodies. Pure functions, no I/O.
// Terminal binding conditions and their legacy HTTP status codes: XEP-0124 §17.1–§17.2.

import { Element, serialize } from '@magpie/core/xml/element';
import { parseFragment, type ParserLimits } from '@magpie/core/xml/parser';
import { escapeAttr } from '@magpie/core/xml/escape';
import { NS } from '@magpie/core/protocol/namespaces';

export const BOSH_NS = 'http://jabber.org/protocol/httpbind';
export const XBOSH_NS = 'urn:xmpp:xbosh';
/** The highest BOSH version this connection manager implements (XEP-0124 1.11). */
export const BOSH_VERSION: [number, number] = [1, 11];
/** rid is a positive integer that must stay below 2^53 (XEP-0124 §14.1). */
const RID_RE = /^[0-9]{1,16}$/;

export type TerminalCondition =
  | 'bad-request' | 'host-gone' | 'host-unknown' | 'improper-addressing' | 'internal-server-error'
  | 'item-not-found' | 'other-request' | 'policy-violation' | 'remote-connection-failed'
  | 'remote-stream-error' | 'see-other-uri' | 'system-shutdown' | 'undefined-condition';

/** A parsed client request. Namespaced attributes are read through Clark keys. */
export interface BoshRequest {
  rid: number;
  sid: string | undefined;
  attrs: Record<string, string>;
  payloads: Element[];
  terminate: boolean;
  restart: boolean;
  /** Seconds requested by a pause request (XEP-0124 §10), if any. */
  pause: number | undefined;
}

export class BoshBadRequest extends Error {}

/**
 * Parse one request body. Throws BoshBadRequest for anything that is not a well-formed
 * <body/> in the httpbind namespace with a valid rid: the caller answers bad-request.
 */
export function parseRequest(text: string, limits: Partial<ParserLimits>): BoshRequest {
  let el: Element;
  // The wrapper adds one level of nesting above the stanzas, so the depth limit gets one more.
  try { el = parseFragment(text, { ...limits, maxDepth: (limits.maxDepth ?? 64) + 1 }); } catch (e) { throw new BoshBadRequest(`not well-formed: ${(e as Error).message}`); }
  if (el.name !== 'body' || el.xmlns !== BOSH_NS) throw new BoshBadRequest('the root must be <body/> in ' + BOSH_NS);
  const ridText = el.attrs.rid;
  if (ridText === undefined || !RID_RE.test(ridText)) throw new BoshBadRequest('missing or invalid rid');
  const rid = Number(ridText);
  if (!Number.isSafeInteger(rid) || rid <= 0) throw new BoshBadRequest('rid out of range');
  // §4: the wrapper carries no character data, only complete child elements.
  for (const c of el.children) if (typeof c === 'string' && c.trim() !== '') throw new BoshBadRequest('character data in <body/>');
  const payloads = el.elements().map(clientNamespace);
  const type = el.attrs.type;
  let pause: number | undefined;
  if (el.attrs.pause !== undefined) {
    if (!/^[0-9]{1,6}$/.test(el.attrs.pause)) throw new BoshBadRequest('invalid pause');
    pause = Number(el.attrs.pause);
  }
  return {
    rid, sid: el.attrs.sid, attrs: el.attrs, payloads,
    terminate: type === 'terminate',
    restart: isTrue(el.attrs[`{${XBOSH_NS}}restart`]),
    pause,
  };
}

function isTrue(v: string | undefined): boolean { return v === 'true' || v === '1'; }

/**
 * XEP-0206 §2 note: many clients leave stanzas unqualified inside <body/>, i.e. in the httpbind
 * namespace, treating jabber:client as a subset of it. Such elements are read as jabber:client.
 */
export function clientNamespace(el: Element): Element {
  if (el.xmlns === BOSH_NS) el.xmlns = NS.CLIENT;
  for (const c of el.children) if (typeof c !== 'string') clientNamespace(c);
  return el;
}

/** "major.minor" with separately compared integers (XEP-0124 §7.1 'ver'). */
export function parseBoshVersion(v: string | undefined): [number, number] | undefined {
  const m = v === undefined ? null : /^(\d{1,4})\.(\d{1,4})$/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function lowerVersion(a: [number, number], b: [number, number]): [number, number] {
  return a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]) ? a : b;
}

/**
 * One outbound payload as text. Top-level elements in the streams namespace (features, error)
 * are written with the `stream:` prefix that XEP-0206 §2 declares on <body/>, since clients look
 * them up by that qualified name; stanzas declare jabber:client themselves.
 */
export function serializePayload(el: Element): string {
  if (el.xmlns !== NS.STREAM) return serialize(el, '');
  let s = '<stream:' + el.name;
  for (const k in el.attrs) if (!k.startsWith('{') && k !== 'xmlns' && !k.startsWith('xmlns:')) s += ' ' + k + "='" + escapeAttr(el.attrs[k]!) + "'";
  if (el.children.length === 0) return s + '/>';
  s += '>';
  for (const c of el.children) s += typeof c === 'string' ? '' : serialize(c, '');
  return s + '</stream:' + el.name + '>';
}

/** A response <body/>; attribute values are escaped here, payloads are already serialised. */
export function responseBody(attrs: Record<string, string | number | undefined>, payloads: readonly string[] = []): string {
  let s = `<body xmlns='${BOSH_NS}'`;
  if (payloads.some((p) => p.startsWith('<stream:'))) s += ` xmlns:stream='${NS.STREAM}'`;
  if (Object.keys(attrs).some((k) => k.startsWith('xmpp:'))) s += ` xmlns:xmpp='${XBOSH_NS}'`;
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) s += ` ${k}='${escapeAttr(String(v))}'`;
  return payloads.length ? s + '>' + payloads.join('') + '</body>' : s + '/>';
}

export function terminateBody(condition?: TerminalCondition, payloads: readonly string[] = []): string {
  return responseBody({ type: 'terminate', condition }, payloads);
}

/**
 * HTTP status for a terminal condition: 200 for clients that sent 'ver' (they read the body);
 * the deprecated 400/403/404 codes for legacy clients (XEP-0124 §17.1) and when no session
 * tells us which kind of client this is.
 */
export function httpStatus(condition: TerminalCondition | undefined, legacy: boolean): number {
  if (!legacy || condition === undefined) return 200;
  switch (condition) {
    case 'bad-request': return 400;
    case 'policy-violation': return 403;
    case 'item-not-found': return 404;
    default: return 200;
  }
}
