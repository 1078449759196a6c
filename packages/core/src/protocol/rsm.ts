// Result Set Management (XEP-0059 1.0): the <set/> a requester sends to page through a result
// set, and the <set/> a responder returns. Shared by every service that pages (MAM, MUC, PubSub,
// disco#items).
//
// Request semantics (§2): <max/> page size; <after>id</after> the page after an item;
// <before>id</before> the page before it; an EMPTY <before/> asks for the last page (§2.5);
// <index/> jumps to an offset (§2.6). Response (§2.1, §2.2): <first index='n'>, <last>, <count>;
// an empty result set carries only <count/> (§2.7, 'no first/last').

import { Element, xml } from '../xml/element.js';

export const NS_RSM = 'http://jabber.org/protocol/rsm';

export interface RsmRequest {
  max?: number;
  after?: string;
  /** '' = the last page (empty <before/>). */
  before?: string;
  index?: number;
}

export class RsmError extends Error {
  constructor(message: string) { super(message); this.name = 'RsmError'; }
}

const INT = /^\s*\d{1,9}\s*$/;

function int(el: Element | undefined, what: string): number | undefined {
  if (!el) return undefined;
  const t = el.text();
  if (!INT.test(t)) throw new RsmError(`<${what}/> must be a non-negative integer`);
  return Number.parseInt(t, 10);
}

/** Parses a request <set/>; throws RsmError on a malformed one (answer bad-request). */
export function parseRsm(set: Element | undefined): RsmRequest | undefined {
  if (!set) return undefined;
  if (set.name !== 'set' || set.xmlns !== NS_RSM) throw new RsmError('not an RSM set');
  const r: RsmRequest = {};
  const max = int(set.getChild('max'), 'max');
  if (max !== undefined) r.max = max;
  const index = int(set.getChild('index'), 'index');
  if (index !== undefined) r.index = index;
  const after = set.getChild('after');
  if (after) {
    if (after.text() === '') throw new RsmError('<after/> must name an item');
    r.after = after.text();
  }
  const before = set.getChild('before');
  if (before) r.before = before.text();
  return r;
}

export interface RsmResult {
  first?: string;
  /** Position of `first` in the whole result set, when known. */
  firstIndex?: number;
  last?: string;
  count?: number;
}

/** The response <set/> (§2.1). first/last only when the page holds items. */
export function buildRsm(r: RsmResult): Element {
  const set = xml('set', NS_RSM);
  if (r.first !== undefined) set.c('first', { index: r.firstIndex }).t(r.first);
  if (r.last !== undefined) set.c('last').t(r.last);
  if (r.count !== undefined) set.c('count').t(String(r.count));
  return set;
}
