// RFC 6120 §4.8.3: stanzas travel as jabber:client to clients and as jabber:server between
// servers. Elements keep their resolved namespace (core/xml/element.ts), so the namespace of a
// stanza and of its unqualified children (body, subject, thread, status, show, priority, error)
// is rewritten when a stanza crosses from one stream kind to the other.

import { Element } from '@magpie/core/xml/element';

/** A copy of `el` with every element in namespace `from` moved to `to`. */
export function retargeted(el: Element, from: string, to: string): Element {
  const c = new Element(el.name, el.xmlns === from ? to : el.xmlns);
  c.attrs = Object.assign(Object.create(null) as Record<string, string>, el.attrs);
  c.children = el.children.map((n) => (typeof n === 'string' ? n : retargeted(n, from, to)));
  return c;
}

/** The same, in place (for an element this stream just parsed and owns). */
export function retarget(el: Element, from: string, to: string): Element {
  if (el.xmlns === from) el.xmlns = to;
  for (const n of el.children) if (typeof n !== 'string') retarget(n, from, to);
  return el;
}
