// Lexical layer of the XMPP stream parser (RFC 6120 §11: §11.1 restrictions, §11.3 well-formedness,
// §11.6 encoding). Characters and names follow XML 1.0 §2.2 (Char) and §2.3
// (NameStartChar/NameChar); references follow §4.1 with only the five predefined entities,
// since RFC 6120 §11.1 forbids every other entity reference; line ends and attribute values are
// normalised as XML 1.0 §2.11 and §3.3.3 require, so a tree never depends on how a peer wrote it.

import type { StreamErrorCondition } from '../protocol/errors.js';

/** A fatal stream error found while lexing; the parser turns it into onError. */
export class XmlError extends Error {
  constructor(readonly condition: StreamErrorCondition, message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

export const nwf = (msg: string): XmlError => new XmlError('not-well-formed', msg);

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
export const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

// One table lookup per ASCII character keeps name scanning branch-light on the common path.
const START = 1;
const CHAR = 2;
const ASCII_CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 58;
  if (letter) ASCII_CLASS[c] = START | CHAR;
  else if ((c >= 48 && c <= 57) || c === 45 || c === 46) ASCII_CLASS[c] = CHAR;
}

function bmpNameStart(c: number): boolean {
  return (c >= 0xC0 && c <= 0xD6) || (c >= 0xD8 && c <= 0xF6) || (c >= 0xF8 && c <= 0x2FF) ||
    (c >= 0x370 && c <= 0x37D) || (c >= 0x37F && c <= 0x1FFF) || c === 0x200C || c === 0x200D ||
    (c >= 0x2070 && c <= 0x218F) || (c >= 0x2C00 && c <= 0x2FEF) || (c >= 0x3001 && c <= 0xD7FF) ||
    (c >= 0xF900 && c <= 0xFDCF) || (c >= 0xFDF0 && c <= 0xFFFD);
}

function bmpNameChar(c: number): boolean {
  return bmpNameStart(c) || c === 0xB7 || (c >= 0x300 && c <= 0x36F) || c === 0x203F || c === 0x2040;
}

/** Side result of the last scanName: whether the name held a colon (so it needs namespace work). */
export const lastName = { colon: false };

/**
 * Index just past the XML Name that starts at `i`. Returns data.length when the name reaches the
 * end of the buffer, since it may continue in the next chunk: the caller treats that as incomplete.
 * Throws not-well-formed when `i` does not start a name, policy-violation past `max` code units.
 */
export function scanName(data: string, i: number, max: number): number {
  const len = data.length;
  const start = i;
  let first = true;
  let colon = false;
  while (i < len) {
    const c = data.charCodeAt(i);
    let w = 1;
    if (c < 128) {
      if ((ASCII_CLASS[c]! & (first ? START : CHAR)) === 0) break;
      if (c === 58) colon = true;
    } else if (c >= 0xD800 && c <= 0xDBFF) {
      // Astral name characters (#x10000-#xEFFFF) arrive as a surrogate pair.
      if (i + 1 >= len) return len;
      const cp = ((c - 0xD800) << 10) + (data.charCodeAt(i + 1) - 0xDC00) + 0x10000;
      if (cp > 0xEFFFF) break;
      w = 2;
    } else if (!(first ? bmpNameStart(c) : bmpNameChar(c))) {
      break;
    }
    i += w;
    first = false;
    if (i - start > max) throw new XmlError('policy-violation', 'name longer than ' + max + ' characters');
  }
  if (first && i < len) throw nwf('expected a name');
  lastName.colon = colon;
  return i;
}

/** True when `s` is an XML Name (used to tell an undeclared entity from a malformed one). */
export function isName(s: string): boolean {
  if (s.length === 0) return false;
  try { return scanName(s, 0, Infinity) === s.length; } catch { return false; }
}

export const isWs = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 13;

/**
 * First code unit not allowed by XML 1.0 Char: C0 controls other than TAB/LF/CR, U+FFFE/U+FFFF
 * and unpaired surrogates. One regex pass per chunk is far cheaper than a per-character check.
 * INVALID_BMP_CHAR omits the surrogate test (4x faster), for text from the UTF-8 decoder, which
 * never produces an unpaired surrogate.
 */
export const INVALID_BMP_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
export const INVALID_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function isCharCode(cp: number): boolean {
  return cp === 0x9 || cp === 0xA || cp === 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
    (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

/**
 * Longest reference accepted, `&` to `;`. XML sets no bound (leading zeros are legal), but a stream
 * parser must carry an unterminated reference between chunks, so we bound it; the same bound applies
 * whether or not the reference was split, so a document's fate never depends on its chunking.
 */
export const MAX_REF = 64;

const HEX = /^[0-9a-fA-F]+$/;
const DEC = /^[0-9]+$/;

function resolveRef(s: string, amp: number, semi: number): string {
  if (semi - amp > MAX_REF) throw nwf('entity reference too long');
  const ref = s.slice(amp + 1, semi);
  switch (ref) {
    case 'lt': return '<';
    case 'gt': return '>';
    case 'amp': return '&';
    case 'quot': return '"';
    case 'apos': return "'";
  }
  if (ref.charCodeAt(0) === 35 /* # */) {
    const hex = ref.charCodeAt(1) === 120; /* x; XML allows only lowercase */
    const digits = ref.slice(hex ? 2 : 1);
    if (!(hex ? HEX : DEC).test(digits)) throw nwf('malformed character reference');
    const cp = parseInt(digits, hex ? 16 : 10);
    if (!isCharCode(cp)) throw nwf('character reference to a non-XML character');
    return String.fromCodePoint(cp);
  }
  if (isName(ref)) throw new XmlError('restricted-xml', 'entity reference &' + ref + '; (RFC 6120 §11.1)');
  throw nwf('malformed entity reference');
}

/**
 * Resolve references and normalise line ends; in attribute values also fold TAB/LF/CR to spaces.
 * Callers only come here when the raw text holds `&` or `\r` (or whitespace, for attributes).
 */
export function decodeText(s: string, attr: boolean): string {
  let out = '';
  let last = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c === 38 /* & */) {
      const semi = s.indexOf(';', i + 1);
      if (semi === -1) throw nwf('unterminated entity reference');
      out += s.slice(last, i) + resolveRef(s, i, semi);
      i = semi;
      last = i + 1;
    } else if (c === 13 /* \r */) {
      out += s.slice(last, i) + (attr ? ' ' : '\n');
      if (s.charCodeAt(i + 1) === 10) i++;
      last = i + 1;
    } else if (attr && (c === 10 || c === 9)) {
      out += s.slice(last, i) + ' ';
      last = i + 1;
    }
  }
  return last === 0 ? s : out + s.slice(last);
}

/** Line-end normalisation only, for CDATA sections (references are literal there). */
export function normalizeNewlines(s: string): string {
  return s.indexOf('\r') === -1 ? s : s.replace(/\r\n?/g, '\n');
}

const XML_DECL = /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:'1\.[0-9]+'|"1\.[0-9]+")(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:'([A-Za-z][A-Za-z0-9._-]*)'|"([A-Za-z][A-Za-z0-9._-]*)"))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:'(?:yes|no)'|"(?:yes|no)"))?[ \t\r\n]*\?>$/;

/** Validate an XML declaration (XML 1.0 §2.8); streams must be UTF-8 (RFC 6120 §11.6). */
export function checkXmlDecl(decl: string): void {
  const m = XML_DECL.exec(decl);
  if (!m) throw nwf('malformed XML declaration');
  const enc = m[1] ?? m[2];
  if (enc !== undefined && enc.toLowerCase() !== 'utf-8') {
    throw new XmlError('unsupported-encoding', 'encoding ' + enc + ' (only UTF-8 is allowed)');
  }
}
