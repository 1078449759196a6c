// XML escaping for text and attribute values (RFC 6120 §11.1 restricted XML, XML 1.0 §2.4).
// Attribute values also escape quotes and the whitespace characters that attribute-value
// normalisation would otherwise fold (XML 1.0 §3.3.3), so a value round-trips exactly.

const TEXT_RE = /[&<>]/g;
const ATTR_RE = /[&<>"'\t\n\r]/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;',
  '\t': '&#9;', '\n': '&#10;', '\r': '&#13;',
};
const replace = (c: string): string => ENTITIES[c]!;

export function escapeText(s: string): string {
  // Fast path: most stanza text has nothing to escape; a test is cheaper than a replace.
  TEXT_RE.lastIndex = 0;
  return TEXT_RE.test(s) ? s.replace(TEXT_RE, replace) : s;
}

export function escapeAttr(s: string): string {
  ATTR_RE.lastIndex = 0;
  return ATTR_RE.test(s) ? s.replace(ATTR_RE, replace) : s;
}
