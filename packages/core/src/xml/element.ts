// The in-memory XML element model shared by server and client.
// Elements carry their resolved namespace URI (`xmlns`), never a prefix: the parser resolves
// prefixes (XML Namespaces 1.0) and the serialiser re-declares what it needs, so a stanza Magpie
// sends is always produced from this tree, never from the bytes it was received as (RFC 6120 §11).
//
// Attribute keys: unprefixed attributes by local name; attributes in the XML namespace as
// `xml:lang` etc.; attributes in any other namespace as `{uri}local` (Clark notation).

import { escapeAttr, escapeText } from './escape.js';

export type Node = Element | string;

export class Element {
  name: string;
  xmlns: string;
  attrs: Record<string, string>;
  children: Node[];

  constructor(name: string, xmlns: string, attrs?: Record<string, string | number | undefined | null>, children?: Node[]) {
    this.name = name;
    this.xmlns = xmlns;
    // Null prototype: attr('constructor') must be undefined, not Object's method.
    this.attrs = Object.create(null) as Record<string, string>;
    if (attrs) for (const k in attrs) { const v = attrs[k]; if (v !== undefined && v !== null) this.attrs[k] = String(v); }
    this.children = children ?? [];
  }

  attr(name: string): string | undefined { return this.attrs[name]; }

  setAttr(name: string, value: string | undefined): this {
    if (value === undefined) delete this.attrs[name]; else this.attrs[name] = value;
    return this;
  }

  /** First child element with this local name, and namespace (defaults to this element's). */
  getChild(name: string, xmlns?: string): Element | undefined {
    const ns = xmlns ?? this.xmlns;
    for (const c of this.children) if (typeof c !== 'string' && c.name === name && c.xmlns === ns) return c;
    return undefined;
  }

  getChildren(name?: string, xmlns?: string): Element[] {
    const out: Element[] = [];
    for (const c of this.children) {
      if (typeof c === 'string') continue;
      if (name !== undefined && c.name !== name) continue;
      if (xmlns !== undefined ? c.xmlns !== xmlns : (name !== undefined && c.xmlns !== this.xmlns)) continue;
      out.push(c);
    }
    return out;
  }

  /** All child elements whatever their name or namespace. */
  elements(): Element[] {
    const out: Element[] = [];
    for (const c of this.children) if (typeof c !== 'string') out.push(c);
    return out;
  }

  /** First child element in namespace `xmlns`, whatever its name (payload lookup for iq). */
  getChildByNs(xmlns: string): Element | undefined {
    for (const c of this.children) if (typeof c !== 'string' && c.xmlns === xmlns) return c;
    return undefined;
  }

  text(): string {
    let s = '';
    for (const c of this.children) if (typeof c === 'string') s += c;
    return s;
  }

  getChildText(name: string, xmlns?: string): string | undefined {
    return this.getChild(name, xmlns)?.text();
  }

  append(...nodes: (Node | undefined | null | false)[]): this {
    for (const n of nodes) if (n !== undefined && n !== null && n !== false) this.children.push(n);
    return this;
  }

  /** Create, append and return a child (same namespace unless given). */
  c(name: string, attrs?: Record<string, string | number | undefined | null>, xmlns?: string): Element {
    const el = new Element(name, xmlns ?? this.xmlns, attrs);
    this.children.push(el);
    return el;
  }

  t(text: string): this { this.children.push(text); return this; }

  removeChildren(pred: (e: Element) => boolean): this {
    this.children = this.children.filter((c) => typeof c === 'string' || !pred(c));
    return this;
  }

  clone(): Element {
    const el = new Element(this.name, this.xmlns);
    el.attrs = Object.assign(Object.create(null) as Record<string, string>, this.attrs);
    el.children = this.children.map((c) => (typeof c === 'string' ? c : c.clone()));
    return el;
  }

  /** Serialise; `parentNs` is the default namespace in scope where this element is written. */
  toString(parentNs = ''): string { return serialize(this, parentNs); }
}

/** Build an element tersely: xml('message', NS, {to}, xml('body', NS, {}, 'hi')). */
export function xml(name: string, xmlns: string, attrs?: Record<string, string | number | undefined | null>, ...children: (Node | undefined | null | false)[]): Element {
  const el = new Element(name, xmlns, attrs);
  el.append(...children);
  return el;
}

// Namespaces that are interchangeable for top-level stanzas (RFC 6120 §4.8.3): a stanza parsed in
// jabber:client is written as jabber:server on an s2s stream without an xmlns declaration.
const CONTENT_NS = new Set(['jabber:client', 'jabber:server', 'jabber:component:accept']);

/**
 * Serialise `el` where `parentNs` is the default namespace in scope. When `parentNs` is a stream
 * content namespace, a top-level stanza in any content namespace inherits it.
 */
export function serialize(el: Element, parentNs = ''): string {
  const parts: string[] = [];
  write(el, parentNs, parts, CONTENT_NS.has(parentNs));
  return parts.join('');
}

function write(el: Element, parentNs: string, out: string[], topOfContent: boolean): void {
  let s = '<' + el.name;
  const ns = topOfContent && CONTENT_NS.has(el.xmlns) ? parentNs : el.xmlns;
  if (ns !== parentNs) s += ' xmlns="' + escapeAttr(ns) + '"';
  let extra = 0;
  for (const k in el.attrs) {
    const v = el.attrs[k]!;
    if (k.charCodeAt(0) === 123 /* { */) {
      const close = k.indexOf('}');
      const p = 'ns' + (extra++);
      s += ' xmlns:' + p + '="' + escapeAttr(k.slice(1, close)) + '" ' + p + ':' + k.slice(close + 1) + '="' + escapeAttr(v) + '"';
    } else if (k === 'xmlns' || k.startsWith('xmlns:')) {
      continue; // namespace declarations are derived from the tree, never copied
    } else {
      s += ' ' + k + '="' + escapeAttr(v) + '"';
    }
  }
  if (el.children.length === 0) { out.push(s + '/>'); return; }
  out.push(s + '>');
  for (const c of el.children) {
    if (typeof c === 'string') out.push(escapeText(c));
    else write(c, ns, out, false);
  }
  out.push('</' + el.name + '>');
}
