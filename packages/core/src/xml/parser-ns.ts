// Namespace resolution for the XMPP stream parser (RFC 6120 §11.2 and §11.6; XML Namespaces 1.0).
// Declarations on a start tag apply to the tag itself and to its attributes whatever their order,
// so a tag's raw attributes are collected first and resolved here in one step. Stanzas resolve
// against the scope of the stream root, which is how they inherit jabber:client / jabber:server and
// root-declared prefixes such as db: (XEP-0220) without redeclaring them.

import { XML_NS, XMLNS_NS, XmlError, nwf } from './parser-lex.js';

/** prefix -> namespace URI; null prototype so a prefix such as `constructor` is never inherited. */
export type PrefixMap = Record<string, string>;

export function prefixMap(init?: PrefixMap): PrefixMap {
  const m = Object.create(null) as PrefixMap;
  if (init) for (const k in init) m[k] = init[k]!;
  return m;
}

/** The scope every document starts in: only `xml:` is bound (Namespaces 1.0 §3). */
export const BASE_PREFIXES: PrefixMap = Object.freeze(prefixMap({ xml: XML_NS }));

/** Output of resolveTag, reused between tags to avoid an allocation per element. */
export interface ResolvedTag {
  local: string;
  prefix: string;
  ns: string;
  attrs: Record<string, string>;
  /** Default namespace and prefix map in scope for the element's children. */
  scopeNs: string;
  scopePfx: PrefixMap;
  /** What the tag itself declared (the stream header reports these). */
  declDefault: string | undefined;
  declPrefixes: PrefixMap | undefined;
}

const badPrefix = (msg: string): XmlError => new XmlError('bad-namespace-prefix', msg);

function setAttr(attrs: Record<string, string>, key: string, value: string): void {
  // A plain assignment to `__proto__` would call the setter and drop the attribute.
  if (key === '__proto__') Object.defineProperty(attrs, key, { value, enumerable: true, writable: true, configurable: true });
  else attrs[key] = value;
}

/** Split a QName; a second colon or an empty part violates Namespaces 1.0 §4. */
function colonOf(qname: string): number {
  const c = qname.indexOf(':');
  if (c === -1) return -1;
  if (c === 0 || c === qname.length - 1 || qname.indexOf(':', c + 1) !== -1) throw nwf('malformed qualified name ' + qname);
  return c;
}

/**
 * Resolve one start tag. `names`/`values` hold its `n` raw attributes, already checked for
 * duplicate raw names; duplicates after expansion are rejected here (Namespaces 1.0 §6.3).
 */
export function resolveTag(
  qname: string, names: string[], values: string[], n: number,
  parentNs: string, parentPfx: PrefixMap, out: ResolvedTag,
): void {
  let special = false;
  for (let k = 0; k < n; k++) {
    const a = names[k]!;
    if (a.indexOf(':') !== -1 || a === 'xmlns') { special = true; break; }
  }
  const attrs: Record<string, string> = {};
  out.attrs = attrs;
  out.declDefault = undefined;
  out.declPrefixes = undefined;
  if (!special) {
    // Common case: no declarations and no prefixed attributes.
    for (let k = 0; k < n; k++) setAttr(attrs, names[k]!, values[k]!);
    out.scopeNs = parentNs;
    out.scopePfx = parentPfx;
  } else {
    let ns = parentNs;
    let pfx = parentPfx;
    for (let k = 0; k < n; k++) {
      const a = names[k]!;
      const v = values[k]!;
      if (a === 'xmlns') {
        if (v === XML_NS || v === XMLNS_NS) throw nwf('the default namespace may not be ' + v);
        ns = v;
        out.declDefault = v;
      } else if (a.startsWith('xmlns:')) {
        colonOf(a);
        const p = a.slice(6);
        if (p === 'xmlns') throw nwf('the xmlns prefix may not be declared');
        if (p === 'xml' ? v !== XML_NS : v === XML_NS) throw nwf('the xml prefix is bound to ' + XML_NS + ' only');
        if (v === XMLNS_NS) throw nwf('no prefix may be bound to ' + XMLNS_NS);
        if (v === '') throw nwf('prefix ' + p + ' may not be undeclared (Namespaces 1.0)');
        if (pfx === parentPfx) pfx = prefixMap(parentPfx);
        pfx[p] = v;
        (out.declPrefixes ??= prefixMap())[p] = v;
      }
    }
    out.scopeNs = ns;
    out.scopePfx = pfx;
    let prefixed = false;
    for (let k = 0; k < n; k++) {
      const a = names[k]!;
      if (a === 'xmlns' || a.startsWith('xmlns:')) continue;
      const c = colonOf(a);
      if (c === -1) { setAttr(attrs, a, values[k]!); continue; }
      const p = a.slice(0, c);
      if (p === 'xml') { setAttr(attrs, a, values[k]!); prefixed = true; continue; }
      const uri = pfx[p];
      if (uri === undefined) throw badPrefix('undeclared attribute prefix ' + p);
      const key = '{' + uri + '}' + a.slice(c + 1);
      setAttr(attrs, key, values[k]!);
      prefixed = true;
    }
    if (prefixed) {
      // Raw names were distinct; two prefixes bound to one URI can still collide once expanded.
      let count = 0;
      for (const _ in attrs) count++;
      let expected = 0;
      for (let k = 0; k < n; k++) if (names[k] !== 'xmlns' && !names[k]!.startsWith('xmlns:')) expected++;
      if (count !== expected) throw nwf('duplicate attribute after namespace expansion');
    }
  }
  const c = colonOf(qname);
  if (c === -1) {
    out.local = qname;
    out.prefix = '';
    out.ns = out.scopeNs;
  } else {
    const p = qname.slice(0, c);
    if (p === 'xmlns') throw badPrefix('elements may not have the xmlns prefix');
    const uri = out.scopePfx[p];
    if (uri === undefined) throw badPrefix('undeclared element prefix ' + p);
    out.local = qname.slice(c + 1);
    out.prefix = p;
    out.ns = uri;
  }
}
