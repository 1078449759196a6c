// Chunk carry-over and byte accounting for the XMPP stream parser. RFC 6120 §13.12 asks servers
// to bound what a peer can make them hold; the parser enforces its limits (RFC 6120 §4.9.3.14
// policy-violation) on bytes as they arrive, not on tokens once they complete.
//
// Carry-over: only an unfinished token is kept between chunks, as a list of pieces. Each new piece
// is searched alone for the token's terminator (with a little state, such as the open quote of a
// start tag), and the pieces are joined only once it shows up (or, for a start tag, when the held
// text has doubled); so a peer that trickles a huge tag one byte at a time still costs O(bytes),
// never a rescan of everything held so far for every byte.
//
// Accounting: a "region" is the stream header or the current depth-1 element. Its bytes are
// counted from `counted` up to a position of the current buffer when the region ends and at the
// end of every buffer, so one that never ends is cut off within one chunk of its limit.

import type { ParserLimits } from './parser.js';
import { XmlError } from './parser-lex.js';
import { utf8ByteLength } from './utf8.js';

// Kinds of unfinished token.
export const P_NONE = 0;
export const P_SHORT = 1; // a few characters (partial reference, '<!', ...): rejoined with the next chunk
export const P_TAG = 2; // start tag: wait for '>' outside quotes
export const P_END = 3; // end tag: wait for '>'
export const P_CDATA = 4; // wait for ']]>'
export const P_DECL = 5; // XML declaration: wait for '>'

export const R_NONE = 0;
export const R_HEADER = 1;
export const R_STANZA = 2;

export abstract class TokenBuffer {
  protected pend: string[] = [];
  protected pendKind = P_NONE;
  protected region = R_HEADER;
  protected regionBytes = 0;
  /** Where the region's bytes have been counted up to, in `data`. */
  protected counted = 0;
  /** `data` as being parsed, its first `carryLen` units carried (and counted) from earlier. */
  protected data = '';
  protected carryLen = 0;
  /** The new part of `data` is ASCII: bytes equal code units. */
  protected ascii = false;
  /** parseFragment: one element is the document, with no stream header. */
  protected fragment = false;
  private pendLen = 0;
  /** Pending length at which an unfinished start tag is parsed again anyway (see suspend). */
  private retryAt = 0;
  private pendQuote = 0;
  private pendBrackets = 0;

  constructor(protected readonly lim: ParserLimits) {}

  protected clearBuffer(): void {
    this.pend = [];
    this.pendLen = 0;
    this.pendKind = P_NONE;
    this.region = R_HEADER;
    this.regionBytes = 0;
    this.data = '';
  }

  /**
   * Add newly decoded text. Returns the buffer to parse (pending pieces + `s`, setting carryLen),
   * or undefined when `s` cannot finish the pending token, in which case it is only held and counted.
   */
  protected resume(s: string, ascii: boolean): string | undefined {
    this.ascii = ascii;
    if (this.pendKind === P_NONE) {
      this.carryLen = 0;
      return s;
    }
    if (this.pendKind !== P_SHORT && !this.completes(s) && !(this.pendKind === P_TAG && this.pendLen + s.length >= this.retryAt)) {
      this.pend.push(s);
      this.pendLen += s.length;
      if (this.region !== R_NONE) {
        this.regionBytes += ascii ? s.length : utf8ByteLength(s);
        this.checkRegion();
      }
      return undefined;
    }
    this.carryLen = this.pendLen;
    this.pend.push(s);
    const data = this.pend.join('');
    this.pend = [];
    this.pendLen = 0;
    this.pendKind = P_NONE;
    return data;
  }

  protected countTo(i: number): void {
    const a = this.counted;
    if (i <= a) return;
    this.regionBytes += this.ascii && a >= this.carryLen ? i - a : utf8ByteLength(this.data.slice(a, i));
    this.counted = i;
  }

  protected checkRegion(): void {
    const header = this.region === R_HEADER && !this.fragment;
    const limit = header ? this.lim.maxHeaderBytes : this.lim.maxStanzaBytes;
    if (this.regionBytes > limit) {
      throw new XmlError('policy-violation', (header ? 'stream header' : 'stanza') + ' larger than ' + limit + ' bytes');
    }
  }

  protected checkRegionAt(i: number): void {
    this.countTo(i);
    this.checkRegion();
  }

  /** Keep data[from..] as an unfinished token of `kind`; returns -1 for the caller to pass up. */
  protected suspend(kind: number, data: string, from: number): number {
    this.pend = [data.slice(from)];
    this.pendLen = data.length - from;
    this.pendKind = kind;
    if (kind === P_TAG) {
      // The terminator scan only tracks quotes, so a malformed tag (a stray quote, say) could keep
      // it waiting for a '>' the parser would never reach. Parsing again each time the pending
      // text doubles finds such errors about as soon as a one-shot parse would, at O(bytes) cost.
      this.retryAt = 2 * this.pendLen;
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

  /** How many ']' (up to two) end the CDATA held so far, counting across pieces. */
  private trailingBrackets(s: string): void {
    let t = 0;
    while (t < 2 && t < s.length && s.charCodeAt(s.length - 1 - t) === 93) t++;
    this.pendBrackets = t === s.length ? Math.min(2, this.pendBrackets + t) : t;
  }

  /**
   * Quote-aware search for the '>' closing a start tag, resumable across pieces. It only decides
   * when to parse; the start-tag parser then finds the same '>' or reports the tag malformed.
   */
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
}
