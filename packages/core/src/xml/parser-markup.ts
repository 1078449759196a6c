// Tokenizer and tree builder behind StreamParser (RFC 6120 §11.1 restricted XML, §11.2 namespaces,
// §11.3 well-formedness, §4.1 stream/stanza structure). Works on decoded strings; StreamParser does
// the UTF-8 decoding and character checks (§11.6) and the application callbacks.
//
// Byte accounting: a "region" is the stream header or the current depth-1 element. Its bytes are
// counted lazily from `counted` to a position of the current buffer when the region ends and at the
// end of every buffer, so a region that never ends is cut off within one chunk of its limit.

import { Element } from './element.js';
import type { ParserLimits } from './parser.js';
import {
  MAX_REF, XmlError, checkXmlDecl, decodeText, isWs, normalizeNewlines, nwf, scanName,
} from './parser-lex.js';
import { BASE_PREFIXES, type PrefixMap, type ResolvedTag, resolveTag } from './parser-ns.js';

export const PROLOG = 0; // before the root start tag
export const CONTENT = 1; // root open (stream) or the fragment element open
export const CLOSED = 2; // stream root closed: input ignored
export const EPILOG = 3; // fragment element closed: whitespace only

// Kinds of unfinished token carried to the next chunk.
const P_NONE = 0;
const P_SHORT = 1; // a few characters: rejoined with the next chunk
const P_TAG = 2; // start tag: wait for '>' outside quotes
const P_END = 3; // end tag: wait for '>'
const P_CDATA = 4; // wait for ']]>'
const P_DECL = 5; // XML declaration: wait for '>'

const R_NONE = 0;
const R_HEADER = 1;
const R_STANZA = 2;

const ATTR_SPECIAL = /[&\t\n\r]/;
const restricted = (what: string): XmlError => new XmlError('restricted-xml', what + ' not allowed (RFC 6120 §11.1)');

export abstract class MarkupParser {
  /** Bumped by reset/stop/failure so a loop running under a callback notices and abandons its chunk. */
  protected gen = 0;
  protected phase = PROLOG;
  /** Nothing consumed since the stream (re)started: an XML declaration is still allowed. */
  protected atStart = true;
  protected pend: string[] = [];
  protected result: Element | undefined;
  private fragment = false;
  private pendLen = 0;
  private pendKind = P_NONE;
  private pendQuote = 0;
  private pendBrackets = 0;
  private region = R_HEADER;
  private regionBytes = 0;
  private counted = 0;
  private carryLen = 0;
  private ascii = false;
  private data = '';
  private rootQName = '';
  private rootNs = '';
  private rootPfx: PrefixMap = BASE_PREFIXES;
  // Open elements of the current stanza, with the raw name to match and the scope for children.
  private stack: Element[] = [];
  private qnames: string[] = [];
  private nsStack: string[] = [];
  private pfxStack: PrefixMap[] = [];
  private anames: string[] = [];
  private avals: string[] = [];
  private tag: ResolvedTag = {
    local: '', prefix: '', ns: '', attrs: {}, scopeNs: '', scopePfx: BASE_PREFIXES, declDefault: undefined, declPrefixes: undefined,
  };

  constructor(protected readonly lim: ParserLimits) {}

  protected abstract streamOpened(t: ResolvedTag): void;
  protected abstract stanza(el: Element): void;
  protected abstract streamClosed(): void;

  /** @internal Treat the first element as the document (parseFragment) rather than a stream root. */
  fragmentMode(): void {
    this.fragment = true;
  }

  protected resetState(): void {
    this.phase = PROLOG;
    this.atStart = true;
    this.pend = [];
    this.pendLen = 0;
    this.pendKind = P_NONE;
    this.region = R_HEADER;
    this.regionBytes = 0;
    this.data = '';
    this.rootQName = '';
    this.rootNs = '';
    this.rootPfx = BASE_PREFIXES;
    this.stack.length = this.qnames.length = this.nsStack.length = this.pfxStack.length = 0;
    this.result = undefined;
  }

  /** Take newly decoded text `s`; `ascii` says it is one byte per code unit. */
  protected absorb(s: string, ascii: boolean, gen: number): void {
    if (s.length === 0 || this.phase === CLOSED) return;
    let data = s;
    let carry = 0;
    if (this.pendKind !== P_NONE) {
      if (this.pendKind !== P_SHORT && !this.completes(s)) {
        this.pend.push(s);
        this.pendLen += s.length;
        if (this.region !== R_NONE) {
          this.regionBytes += ascii ? s.length : Buffer.byteLength(s);
          this.checkRegion();
        }
        return;
      }
      carry = this.pendLen;
      this.pend.push(s);
      data = this.pend.join('');
      this.pend = [];
      this.pendLen = 0;
      this.pendKind = P_NONE;
    }
    this.run(data, carry, ascii, gen);
  }

  private run(data: string, carry: number, ascii: boolean, gen: number): void {
    this.data = data;
    this.carryLen = this.counted = carry;
    this.ascii = ascii;
    const len = data.length;
    let pos = 0;
    while (pos < len) {
      if (data.charCodeAt(pos) !== 60 /* < */) {
        pos = this.text(data, pos);
        continue;
      }
      if (this.region === R_NONE && this.phase === CONTENT && this.stack.length === 0) {
        this.region = R_STANZA;
        this.regionBytes = 0;
        this.counted = pos;
      }
      if (pos + 1 >= len) { this.suspend(P_SHORT, data, pos); break; }
      const d = data.charCodeAt(pos + 1);
      const next = d === 47 /* / */ ? this.endTag(data, pos)
        : d === 33 /* ! */ ? this.bang(data, pos)
        : d === 63 /* ? */ ? this.pi(data, pos)
        : this.startTag(data, pos, gen);
      if (this.gen !== gen || this.phase === CLOSED) return;
      if (next < 0) break;
      this.atStart = false;
      pos = next;
    }
    if (this.region !== R_NONE) {
      this.countTo(len);
      this.checkRegion();
    }
  }

  private countTo(i: number): void {
    const a = this.counted;
    if (i <= a) return;
    this.regionBytes += this.ascii && a >= this.carryLen ? i - a : Buffer.byteLength(this.data.slice(a, i));
    this.counted = i;
  }

  private checkRegion(): void {
    const header = this.region === R_HEADER && !this.fragment;
    const limit = header ? this.lim.maxHeaderBytes : this.lim.maxStanzaBytes;
    if (this.regionBytes > limit) {
      throw new XmlError('policy-violation', (header ? 'stream header' : 'stanza') + ' larger than ' + limit + ' bytes');
    }
  }

  /** Keep data[from..] as an unfinished token of `kind`; returns -1 for the caller to pass up. */
  private suspend(kind: number, data: string, from: number): number {
    this.pend = [data.slice(from)];
    this.pendLen = data.length - from;
    this.pendKind = kind;
    if (kind === P_TAG) {
      this.pendQuote = 0;
      this.scanTag(data, from + 1);
    } else if (kind === P_CDATA) {
      this.pendBrackets = 0;
      this.trailingBrackets(data.slice(Math.max(from + 9, data.length - 2)));
    }
    return -1;
  }

  /** Does `s` hold the end of the pending token? Updates the carried scan state when it does not. */
  private completes(s: string): boolean {
    switch (this.pendKind) {
      case P_TAG: return this.scanTag(s, 0);
      case P_CDATA: {
        const b = this.pendBrackets;
        if ((b === 2 && s.charCodeAt(0) === 62) || (b >= 1 && s.charCodeAt(0) === 93 && s.charCodeAt(1) === 62)) return true;
        if (s.indexOf(']]>') !== -1) return true;
        this.trailingBrackets(s);
        return false;
      }
      default: return s.indexOf('>') !== -1; // P_END, P_DECL
    }
  }

  private trailingBrackets(s: string): void {
    let t = 0;
    while (t < 2 && t < s.length && s.charCodeAt(s.length - 1 - t) === 93) t++;
    this.pendBrackets = t === s.length ? Math.min(2, this.pendBrackets + t) : t;
  }

  /** Quote-aware search for the '>' closing a start tag, resumable across pieces. */
  private scanTag(s: string, from: number): boolean {
    let q = this.pendQuote;
    let i = from;
    const len = s.length;
    while (i < len) {
      if (q !== 0) {
        const k = s.indexOf(q === 34 ? '"' : "'", i);
        if (k === -1) break;
        q = 0;
        i = k + 1;
        continue;
      }
      const c = s.charCodeAt(i++);
      if (c === 34 || c === 39) q = c;
      else if (c === 62) { this.pendQuote = 0; return true; }
    }
    this.pendQuote = q;
    return false;
  }

  // ---- character data ---------------------------------------------------------------------

  private text(data: string, pos: number): number {
    this.atStart = false;
    let end = data.indexOf('<', pos);
    const open = end === -1;
    if (open) end = data.length;
    const depth = this.stack.length;
    if (depth === 0) {
      // Between stanzas only whitespace may appear (keepalives, RFC 6120 §4.6.1).
      for (let i = pos; i < end; i++) {
        if (isWs(data.charCodeAt(i))) continue;
        if (this.phase === CONTENT && !this.fragment) throw new XmlError('bad-format', 'text outside of stanzas');
        throw nwf('text outside the root element');
      }
      return end;
    }
    let cut = end;
    if (open) {
      // Hold back what the next chunk could change: a partial reference, ']' or ']]' that could
      // become ']]>', a CR that could be the first half of CRLF.
      const amp = data.lastIndexOf('&', end - 1);
      if (amp >= pos && data.indexOf(';', amp) === -1) {
        if (end - amp > MAX_REF) throw nwf('entity reference too long');
        cut = amp;
      } else if (data.charCodeAt(end - 1) === 93) {
        cut--;
        if (cut > pos && data.charCodeAt(cut - 1) === 93) cut--;
      } else if (data.charCodeAt(end - 1) === 13) {
        cut--;
      }
    }
    if (cut > pos) {
      let t = data.slice(pos, cut);
      if (t.indexOf('>') !== -1 && t.indexOf(']]>') !== -1) throw nwf("']]>' in character data");
      if (t.indexOf('&') !== -1 || t.indexOf('\r') !== -1) t = decodeText(t, false);
      this.appendText(t);
    }
    if (cut < end) this.suspend(P_SHORT, data, cut);
    return end;
  }

  private appendText(t: string): void {
    const ch = this.stack[this.stack.length - 1]!.children;
    const last = ch.length - 1;
    // Adjacent runs (split by chunks, CDATA or references) become one string, so the tree does not
    // depend on how the peer's bytes were framed.
    if (last >= 0 && typeof ch[last] === 'string') ch[last] += t;
    else ch.push(t);
  }

  // ---- markup -----------------------------------------------------------------------------

  private startTag(data: string, lt: number, gen: number): number {
    if (this.phase === EPILOG) throw nwf('content after the document element');
    const lim = this.lim;
    if (this.region === R_STANZA && this.regionBytes + (lt - this.counted) > lim.maxStanzaBytes) this.checkRegionAt(lt);
    const len = data.length;
    let i = scanName(data, lt + 1, lim.maxNameLength);
    if (i >= len) return this.suspend(P_TAG, data, lt);
    const qname = data.slice(lt + 1, i);
    const names = this.anames;
    const vals = this.avals;
    let n = 0;
    let self = false;
    for (;;) {
      if (i >= len) return this.suspend(P_TAG, data, lt);
      let c = data.charCodeAt(i);
      if (c === 62 /* > */) { i++; break; }
      if (c === 47 /* / */) {
        if (i + 1 >= len) return this.suspend(P_TAG, data, lt);
        if (data.charCodeAt(i + 1) !== 62) throw nwf("'/' not followed by '>' in <" + qname + '>');
        i += 2;
        self = true;
        break;
      }
      if (!isWs(c)) throw nwf('malformed start tag <' + qname + '>');
      do i++; while (i < len && isWs(data.charCodeAt(i)));
      if (i >= len) return this.suspend(P_TAG, data, lt);
      c = data.charCodeAt(i);
      if (c === 62 || c === 47) continue;
      const an = i;
      i = scanName(data, i, lim.maxNameLength);
      if (i >= len) return this.suspend(P_TAG, data, lt);
      const name = data.slice(an, i);
      while (i < len && isWs(data.charCodeAt(i))) i++;
      if (i >= len) return this.suspend(P_TAG, data, lt);
      if (data.charCodeAt(i) !== 61 /* = */) throw nwf("expected '=' after attribute " + name);
      do i++; while (i < len && isWs(data.charCodeAt(i)));
      if (i >= len) return this.suspend(P_TAG, data, lt);
      const q = data.charCodeAt(i);
      if (q !== 34 && q !== 39) throw nwf('unquoted value for attribute ' + name);
      const ve = data.indexOf(q === 34 ? '"' : "'", i + 1);
      if (ve === -1) return this.suspend(P_TAG, data, lt);
      let v = data.slice(i + 1, ve);
      if (v.indexOf('<') !== -1) throw nwf("'<' in value of attribute " + name);
      if (ATTR_SPECIAL.test(v)) v = decodeText(v, true);
      i = ve + 1;
      for (let k = 0; k < n; k++) if (names[k] === name) throw nwf('duplicate attribute ' + name);
      if (n >= lim.maxAttributes) throw new XmlError('policy-violation', 'more than ' + lim.maxAttributes + ' attributes');
      names[n] = name;
      vals[n] = v;
      n++;
    }
    return this.openElement(qname, n, self, i, gen);
  }

  private checkRegionAt(i: number): void {
    this.countTo(i);
    this.checkRegion();
  }

  private openElement(qname: string, n: number, self: boolean, end: number, gen: number): number {
    const depth = this.stack.length;
    const t = this.tag;
    if (this.phase === PROLOG && !this.fragment) {
      resolveTag(qname, this.anames, this.avals, n, '', BASE_PREFIXES, t);
      this.rootQName = qname;
      this.rootNs = t.scopeNs;
      this.rootPfx = t.scopePfx;
      this.phase = CONTENT;
      this.checkRegionAt(end);
      this.region = R_NONE;
      this.streamOpened(t);
      if (self && this.gen === gen) this.closeStream();
      return end;
    }
    if (depth >= this.lim.maxDepth) throw new XmlError('policy-violation', 'elements nested deeper than ' + this.lim.maxDepth);
    const parentNs = depth > 0 ? this.nsStack[depth - 1]! : this.rootNs;
    const parentPfx = depth > 0 ? this.pfxStack[depth - 1]! : this.rootPfx;
    resolveTag(qname, this.anames, this.avals, n, parentNs, parentPfx, t);
    const el = new Element(t.local, t.ns);
    el.attrs = t.attrs;
    this.phase = CONTENT;
    if (depth > 0) this.stack[depth - 1]!.children.push(el);
    if (self) {
      if (depth === 0) this.complete(el, end);
      return end;
    }
    this.stack.push(el);
    this.qnames.push(qname);
    this.nsStack.push(t.scopeNs);
    this.pfxStack.push(t.scopePfx);
    return end;
  }

  private complete(el: Element, end: number): void {
    this.checkRegionAt(end);
    if (this.fragment) {
      this.result = el;
      this.phase = EPILOG;
      return;
    }
    this.region = R_NONE;
    this.stanza(el);
  }

  private closeStream(): void {
    this.phase = CLOSED;
    this.region = R_NONE;
    this.streamClosed();
  }

  private endTag(data: string, lt: number): number {
    const gt = data.indexOf('>', lt + 2);
    if (gt === -1) return this.suspend(P_END, data, lt);
    const depth = this.stack.length;
    let expected: string;
    if (depth > 0) expected = this.qnames[depth - 1]!;
    else if (this.phase === CONTENT && !this.fragment) expected = this.rootQName;
    else throw nwf('unexpected end tag');
    const ne = lt + 2 + expected.length;
    let ok = ne <= gt && data.startsWith(expected, lt + 2);
    for (let j = ne; ok && j < gt; j++) ok = isWs(data.charCodeAt(j));
    if (!ok) throw nwf('end tag does not match <' + expected + '>');
    if (depth === 0) {
      this.closeStream();
      return gt + 1;
    }
    const el = this.stack.pop()!;
    this.qnames.pop();
    this.nsStack.pop();
    this.pfxStack.pop();
    if (depth === 1) this.complete(el, gt + 1);
    return gt + 1;
  }

  /** `<!`: CDATA sections are accepted as text; comments and DTD markup are restricted XML. */
  private bang(data: string, lt: number): number {
    const len = data.length;
    if (lt + 2 >= len) return this.suspend(P_SHORT, data, lt);
    const c = data.charCodeAt(lt + 2);
    if (c === 45 /* - */) throw restricted('comments are');
    if (c >= 65 && c <= 90) throw restricted('DTDs (<!' + data.slice(lt + 2, lt + 9) + ') are');
    if (c !== 91 /* [ */) throw nwf('malformed markup');
    const avail = Math.min(len - lt, 9);
    if (!'<![CDATA['.startsWith(data.slice(lt, lt + avail))) throw nwf('malformed CDATA section');
    if (avail < 9) return this.suspend(P_SHORT, data, lt);
    const close = data.indexOf(']]>', lt + 9);
    if (close === -1) return this.suspend(P_CDATA, data, lt);
    const content = normalizeNewlines(data.slice(lt + 9, close));
    if (this.stack.length > 0) {
      if (content.length > 0) this.appendText(content);
    } else if (this.phase === CONTENT && !this.fragment) {
      for (let i = 0; i < content.length; i++) {
        if (!isWs(content.charCodeAt(i))) throw new XmlError('bad-format', 'text outside of stanzas');
      }
    } else {
      throw nwf('CDATA outside the root element');
    }
    return close + 3;
  }

  /** `<?`: only the XML declaration, and only first thing in the stream (XML 1.0 §2.8). */
  private pi(data: string, lt: number): number {
    if (this.atStart && this.phase === PROLOG) {
      const len = data.length;
      if (len - lt < 6 && '<?xml'.startsWith(data.slice(lt, lt + 5))) return this.suspend(P_SHORT, data, lt);
      if (data.startsWith('<?xml', lt) && isWs(data.charCodeAt(lt + 5))) {
        const end = data.indexOf('?>', lt + 5);
        if (end === -1) return this.suspend(P_DECL, data, lt);
        checkXmlDecl(data.slice(lt, end + 2));
        return end + 2;
      }
    }
    throw restricted('processing instructions are');
  }
}
