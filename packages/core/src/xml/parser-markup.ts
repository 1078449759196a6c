// Tokenizer and tree builder behind StreamParser (RFC 6120 §11.1 restricted XML, §11.2 namespaces,
// §11.3 well-formedness, §4.1 stream/stanza structure). Works on decoded strings; StreamParser does
// the UTF-8 decoding and character checks (§11.6) and the application callbacks, TokenBuffer the
// carry-over between chunks and the byte limits.

import { Element } from './element.js';
import {
  MAX_REF, XmlError, checkXmlDecl, decodeText, isWs, lastName, normalizeNewlines, nwf, scanName,
} from './parser-lex.js';
import { BASE_PREFIXES, type PrefixMap, type ResolvedTag, resolveTag } from './parser-ns.js';
import {
  P_CDATA, P_DECL, P_END, P_SHORT, P_TAG, R_NONE, R_STANZA, TokenBuffer,
} from './parser-buffer.js';

export const PROLOG = 0; // before the root start tag
export const CONTENT = 1; // root open (stream) or the fragment element open
export const CLOSED = 2; // stream root closed: input ignored
export const EPILOG = 3; // fragment element closed: whitespace only

const restricted = (what: string): XmlError => new XmlError('restricted-xml', what + ' not allowed (RFC 6120 §11.1)');

export abstract class MarkupParser extends TokenBuffer {
  /** Bumped by reset/stop/failure so a loop running under a callback notices and abandons its chunk. */
  protected gen = 0;
  protected phase = PROLOG;
  /** Nothing consumed since the stream (re)started: an XML declaration is still allowed. */
  protected atStart = true;
  protected result: Element | undefined;
  private rootQName = '';
  private rootNs = '';
  private rootPfx: PrefixMap = BASE_PREFIXES;
  // Open elements of the current stanza, with the raw name to match and the scope for children.
  protected stack: Element[] = [];
  private qnames: string[] = [];
  private nsStack: string[] = [];
  private pfxStack: PrefixMap[] = [];
  private anames: string[] = [];
  private avals: string[] = [];
  /**
   * Open containers (see `isContainer`): depth-1 elements whose children are delivered one by one
   * as stanzas instead of the container being built whole. The XMPP stream has none; the XEP-0227
   * import reads a <host/> of any size user by user through them.
   */
  private containers: { qname: string; ns: string; pfx: PrefixMap }[] = [];
  private tag: ResolvedTag = {
    local: '', prefix: '', ns: '', attrs: {}, scopeNs: '', scopePfx: BASE_PREFIXES, declDefault: undefined, declPrefixes: undefined,
  };

  protected abstract streamOpened(t: ResolvedTag): void;
  protected abstract stanza(el: Element): void;
  protected abstract streamClosed(): void;
  /** Whether the element about to open at stanza depth 0 is a container (`depth`: containers open). */
  protected isContainer(_local: string, _ns: string, _depth: number): boolean { return false; }
  protected containerOpened(_t: ResolvedTag): void {}
  protected containerClosed(): void {}

  protected resetState(): void {
    this.clearBuffer();
    this.phase = PROLOG;
    this.atStart = true;
    this.rootQName = '';
    this.rootNs = '';
    this.rootPfx = BASE_PREFIXES;
    this.stack.length = this.qnames.length = this.nsStack.length = this.pfxStack.length = 0;
    this.containers.length = 0;
    this.result = undefined;
  }

  /** Take newly decoded text `s`; `ascii` says it is one byte per code unit. */
  protected absorb(s: string, ascii: boolean, gen: number): void {
    if (s.length === 0 || this.phase === CLOSED) return;
    const data = this.resume(s, ascii);
    if (data !== undefined) this.run(data, gen);
  }

  private run(data: string, gen: number): void {
    this.data = data;
    this.counted = this.carryLen;
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

  // ---- character data ---------------------------------------------------------------------

  private text(data: string, pos: number): number {
    this.atStart = false;
    let end = data.indexOf('<', pos);
    const open = end === -1;
    if (open) end = data.length;
    const depth = this.stack.length;
    if (depth === 0) {
      // Between stanzas only whitespace may appear (keepalives; RFC 6120 §11.7).
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
    const qcolon = lastName.colon;
    let special = false;
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
      if (lastName.colon || (i - an === 5 && name === 'xmlns')) special = true;
      while (i < len && isWs(data.charCodeAt(i))) i++;
      if (i >= len) return this.suspend(P_TAG, data, lt);
      if (data.charCodeAt(i) !== 61 /* = */) throw nwf("expected '=' after attribute " + name);
      do i++; while (i < len && isWs(data.charCodeAt(i)));
      if (i >= len) return this.suspend(P_TAG, data, lt);
      const q = data.charCodeAt(i);
      if (q !== 34 && q !== 39) throw nwf('unquoted value for attribute ' + name);
      // One pass over the value: find its end, refuse '<', note whether it needs decoding
      // ('&', or TAB/LF/CR to normalise; other controls were refused before parsing).
      let j = i + 1;
      let esc = false;
      for (;;) {
        if (j >= len) return this.suspend(P_TAG, data, lt);
        const vc = data.charCodeAt(j);
        if (vc === q) break;
        if (vc === 60) throw nwf("'<' in value of attribute " + name);
        if (vc === 38 || vc < 32) esc = true;
        j++;
      }
      let v = data.slice(i + 1, j);
      if (esc) v = decodeText(v, true);
      i = j + 1;
      for (let k = 0; k < n; k++) if (names[k] === name) throw nwf('duplicate attribute ' + name);
      if (n >= lim.maxAttributes) throw new XmlError('policy-violation', 'more than ' + lim.maxAttributes + ' attributes');
      names[n] = name;
      vals[n] = v;
      n++;
    }
    return this.openElement(qname, qcolon, n, special, self, i, gen);
  }

  private openElement(qname: string, qcolon: boolean, n: number, special: boolean, self: boolean, end: number, gen: number): number {
    const depth = this.stack.length;
    const t = this.tag;
    if (this.phase === PROLOG && !this.fragment) {
      resolveTag(qname, qcolon, this.anames, this.avals, n, special, '', BASE_PREFIXES, t);
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
    const cdepth = this.containers.length;
    const outer = cdepth > 0 ? this.containers[cdepth - 1]! : undefined;
    const parentNs = depth > 0 ? this.nsStack[depth - 1]! : outer ? outer.ns : this.rootNs;
    const parentPfx = depth > 0 ? this.pfxStack[depth - 1]! : outer ? outer.pfx : this.rootPfx;
    resolveTag(qname, qcolon, this.anames, this.avals, n, special, parentNs, parentPfx, t);
    if (depth === 0 && !this.fragment && this.isContainer(t.local, t.ns, cdepth)) {
      // Containers nest no deeper than stanzas may (each level is one more open element held).
      if (cdepth >= this.lim.maxDepth) throw new XmlError('policy-violation', 'elements nested deeper than ' + this.lim.maxDepth);
      // Its start tag counts as a stanza of its own; its children are then separate regions.
      this.checkRegionAt(end);
      this.region = R_NONE;
      this.phase = CONTENT;
      if (!self) this.containers.push({ qname, ns: t.scopeNs, pfx: t.scopePfx });
      this.containerOpened(t);
      if (self && this.gen === gen) this.containerClosed();
      return end;
    }
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
    const cdepth = this.containers.length;
    if (depth > 0) expected = this.qnames[depth - 1]!;
    else if (cdepth > 0) expected = this.containers[cdepth - 1]!.qname;
    else if (this.phase === CONTENT && !this.fragment) expected = this.rootQName;
    else throw nwf('unexpected end tag');
    const ne = lt + 2 + expected.length;
    let ok = ne <= gt && data.startsWith(expected, lt + 2);
    for (let j = ne; ok && j < gt; j++) ok = isWs(data.charCodeAt(j));
    if (!ok) throw nwf('end tag does not match <' + expected + '>');
    if (depth === 0 && cdepth > 0) {
      this.containers.pop();
      this.checkRegionAt(gt + 1);
      this.region = R_NONE;
      this.containerClosed();
      return gt + 1;
    }
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
      this.region = R_NONE; // not a stanza: its bytes must not count towards the next one
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
