// Namespace resolution for the XMPP stream parser (RFC 6120 §11.2; XML Namespaces 1.0).
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
 * `qcolon` says the tag name has a colon; `special` that some attribute name has one or is xmlns.
 */
export function resolveTag(
  qname: string, qcolon: boolean, names: string[], values: string[], n: number, special: boolean,
  parentNs: string, parentPfx: PrefixMap, out: ResolvedTag,
): void {
  const attrs: Record<string, string> = {};
  out.attrs = attrs;
  out.declDefault = undefined;
  out.declPrefixes = undefined;
  if (!special) {
    // Common case: no declarations and no prefixed attributes.
    for (let k = 0; k < n; k++) {
      const a = names[k]!;
      if (a === '__proto__') setAttr(attrs, a, values[k]!);
      else attrs[a] = values[k]!;
    }
    out.scopeNs = parentNs;
    out.scopePfx = parentPfx;
  } else {
    // Declarations apply to every attribute of the tag, so prefixed attributes wait for a second
    // pass; the rest are stored on the first.
    let ns = parentNs;
    let pfx = parentPfx;
    let deferred = 0;
    for (let k = 0; k < n; k++) {
      const a = names[k]!;
      const v = values[k]!;
      if (a.charCodeAt(0) === 120 /* x */ && a.startsWith('xmlns')) {
        if (a.length === 5) {
          if (v === XML_NS || v === XMLNS_NS) throw nwf('the default namespace may not be ' + v);
          ns = v;
          out.declDefault = v;
          continue;
        }
        if (a.charCodeAt(5) === 58 /* : */) {
          colonOf(a);
          const p = a.slice(6);
          if (p === 'xmlns') throw nwf('the xmlns prefix may not be declared');
          if (p === 'xml' ? v !== XML_NS : v === XML_NS) throw nwf('the xml prefix is bound to ' + XML_NS + ' only');
          if (v === XMLNS_NS) throw nwf('no prefix may be bound to ' + XMLNS_NS);
          if (v === '') throw nwf('prefix ' + p + ' may not be undeclared (Namespaces 1.0)');
          if (pfx === parentPfx) pfx = prefixMap(parentPfx);
          pfx[p] = v;
          (out.declPrefixes ??= prefixMap())[p] = v;
          continue;
        }
      }
      if (a.indexOf(':') !== -1) deferred++;
      else if (a === '__proto__') setAttr(attrs, a, v);
      else attrs[a] = v;
    }
    out.scopeNs = ns;
    out.scopePfx = pfx;
    for (let k = 0; deferred > 0 && k < n; k++) {
      const a = names[k]!;
      if (a.startsWith('xmlns') && (a.length === 5 || a.charCodeAt(5) === 58)) continue;
      const c = colonOf(a);
      if (c === -1) continue;
      deferred--;
      const p = a.slice(0, c);
      let key = a;
      if (p !== 'xml') {
        const uri = pfx[p];
        if (uri === undefined) throw badPrefix('undeclared attribute prefix ' + p);
        key = '{' + uri + '}' + a.slice(c + 1);
      }
      // Raw names were distinct, but two prefixes bound to one URI collide once expanded. No
      // Object.prototype key starts with '{' or 'xml:', so a plain lookup is a safe test.
      if (attrs[key] !== undefined) throw nwf('duplicate attribute ' + key + ' after namespace expansion');
      attrs[key] = values[k]!;
    }
  }
  const c = qcolon ? colonOf(qname) : -1;
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
