// Streaming parser for XMPP streams: the restricted XML of RFC 6120 §11 (§11.1 restrictions,
// §11.2 namespaces, §11.3 well-formedness, §11.5 XML declaration, §11.6 UTF-8, §11.7 whitespace).
// The root (<stream:stream>) stays open for the life of the connection; each depth-1 child (a
// stanza, RFC 6120 §4.1) is built as an Element tree and handed over when its end tag arrives.
//
// Speed comes from scanning the decoded string with indexOf/charCodeAt and slicing whole runs,
// never growing strings per character. Safety comes from counting every byte as it arrives: the
// only state carried between chunks is an unfinished token, kept as a list of pieces (never
// re-joined or re-scanned until its terminator shows up), so a peer that never finishes a tag costs
// O(bytes) and is cut off at the configured limit, whatever chunk sizes it uses.
//
// Layers: parser-lex (characters, names, references), parser-ns (namespaces), parser-buffer
// (carry-over, byte limits), parser-markup (tokens, tree), and here decoding and callbacks.

import type { StreamErrorCondition } from '../protocol/errors.js';
import { Element } from './element.js';
import { utf8ByteLength } from './utf8.js';
import { INVALID_BMP_CHAR, INVALID_CHAR, XmlError, nwf } from './parser-lex.js';
import type { ResolvedTag } from './parser-ns.js';
import { CLOSED, MarkupParser, PROLOG } from './parser-markup.js';

export interface ParserLimits {
  /** Bytes of one depth-1 element including its tags. */
  maxStanzaBytes: number;
  /** Nesting depth inside a stanza (the stanza itself is depth 1). */
  maxDepth: number;
  /** Attributes per element, namespace declarations included. */
  maxAttributes: number;
  /** Element and attribute name length, in UTF-16 code units. */
  maxNameLength: number;
  /** The stream header: XML declaration and root start tag. */
  maxHeaderBytes: number;
}

export const DEFAULT_PARSER_LIMITS: Readonly<ParserLimits> = Object.freeze({
  maxStanzaBytes: 262144,
  maxDepth: 64,
  maxAttributes: 64,
  maxNameLength: 256,
  maxHeaderBytes: 8192,
});

export interface StreamOpenInfo {
  name: string;
  xmlns: string;
  prefix: string;
  attrs: Record<string, string>;
  defaultNs: string;
  prefixes: Record<string, string>;
}

export interface ParserHandler {
  /** Root start tag parsed. name/xmlns: resolved local name + namespace of the root; attrs as Element attrs;
      defaultNs: the default namespace declared on the root ('' if none); prefixes: prefix->uri declared on root. */
  onStreamOpen(info: StreamOpenInfo): void;
  /** Each complete depth-1 element. */
  onElement(el: Element): void;
  /** Root end tag. */
  onStreamClose(): void;
  /** Fatal; the parser accepts no input after this. */
  onError(condition: StreamErrorCondition, text: string): void;
  /**
   * Optional, for documents larger than one stanza (the XEP-0227 import): true makes the element
   * about to open where a stanza would (`depth` containers already open) a container, reported by
   * onContainerOpen (an Element with its attributes, no children) and onContainerClose, its child
   * elements each delivered by onElement as stanzas are. Each container start tag counts against
   * maxStanzaBytes; nesting against maxDepth.
   */
  isContainer?(name: string, xmlns: string, depth: number): boolean;
  onContainerOpen?(el: Element): void;
  onContainerClose?(): void;
}

export class StreamParser extends MarkupParser {
  private dead = false;
  private inHandler = false;
  private decoder: InstanceType<typeof TextDecoder> | undefined;
  /** A string chunk may end between the halves of a surrogate pair. */
  protected highSurrogate = '';

  constructor(private readonly handler: ParserHandler, limits?: Partial<ParserLimits>) {
    super(mergeLimits(DEFAULT_PARSER_LIMITS, limits));
  }

  /** Bytes buffered waiting for the end of a token. */
  get bufferedBytes(): number {
    let n = 0;
    for (const p of this.pend) n += utf8ByteLength(p);
    return n;
  }

  /** Inside an unfinished stanza or token (the stream layer times out stanzas that never end). */
  get inStanza(): boolean { return this.stack.length > 0 || this.pend.length > 0; }

  write(chunk: Uint8Array | string): void {
    if (this.dead) return;
    const gen = this.gen;
    try {
      this.feed(chunk, gen);
    } catch (e) {
      if (this.inHandler) {
        // The application's callback threw: stop, and let its exception reach its caller.
        this.inHandler = false;
        this.halt();
        throw e;
      }
      if (this.gen !== gen || this.dead) return;
      if (e instanceof XmlError) this.fail(e.condition, e.message);
      else this.fail('internal-server-error', 'XML parser failure: ' + (e instanceof Error ? e.message : String(e)));
    }
  }

  /** Forget all state and expect a new stream header (RFC 6120 §5.3.3, §6.4.6); the rest of a chunk
      being parsed is dropped, so bytes sent before a TLS handshake are never read after it. */
  reset(): void {
    this.gen++;
    this.decoder = undefined;
    this.highSurrogate = '';
    this.resetState();
  }

  /** Stop parsing permanently; further writes are ignored. */
  stop(): void {
    this.halt();
  }

  private halt(): void {
    this.dead = true;
    this.gen++;
    this.resetState();
  }

  private fail(condition: StreamErrorCondition, text: string): void {
    if (this.dead) return;
    this.halt();
    this.inHandler = true;
    this.handler.onError(condition, text);
    this.inHandler = false;
  }

  private feed(chunk: Uint8Array | string, gen: number): void {
    if (this.phase === CLOSED) return; // whatever follows the root end tag is ignored
    let s: string;
    let ascii: boolean;
    if (typeof chunk === 'string') {
      s = chunk;
      if (this.highSurrogate !== '') { s = this.highSurrogate + s; this.highSurrogate = ''; }
      const last = s.charCodeAt(s.length - 1);
      if (last >= 0xD800 && last <= 0xDBFF) { this.highSurrogate = s.slice(-1); s = s.slice(0, -1); }
      if (this.atStart && s.charCodeAt(0) === 0xFEFF) s = s.slice(1);
      ascii = utf8ByteLength(s) === s.length;
    } else {
      // The decoder strips a UTF-8 BOM at the start of its stream; UTF-16/32 input either fails to
      // decode (FE FF / FF FE) or yields NULs, which are reported below as unsupported-encoding.
      const dec = (this.decoder ??= new TextDecoder('utf-8', { fatal: true }));
      try {
        s = dec.decode(chunk, { stream: true });
      } catch {
        throw new XmlError('unsupported-encoding', 'invalid UTF-8');
      }
      // All-ASCII decoded text (bytes held for an unfinished character make it non-ASCII).
      ascii = utf8ByteLength(s) === s.length;
    }
    const m = (typeof chunk === 'string' ? INVALID_CHAR : INVALID_BMP_CHAR).exec(s);
    // Parse what precedes a forbidden character first, so earlier stanzas are still delivered.
    this.absorb(m === null ? s : s.slice(0, m.index), ascii, gen);
    if (m !== null && this.gen === gen && this.phase !== CLOSED) {
      if (this.phase === PROLOG && m[0] === '\0') throw new XmlError('unsupported-encoding', 'NUL in stream header: not UTF-8');
      throw nwf('character U+' + m[0]!.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0') + ' is not allowed in XML');
    }
  }

  // ---- hooks called by MarkupParser -------------------------------------------------------

  protected override streamOpened(t: ResolvedTag): void {
    const prefixes: Record<string, string> = {};
    if (t.declPrefixes) for (const p in t.declPrefixes) prefixes[p] = t.declPrefixes[p]!;
    this.inHandler = true;
    this.handler.onStreamOpen({
      name: t.local, xmlns: t.ns, prefix: t.prefix, attrs: t.attrs, defaultNs: t.declDefault ?? '', prefixes,
    });
    this.inHandler = false;
  }

  protected override stanza(el: Element): void {
    this.inHandler = true;
    this.handler.onElement(el);
    this.inHandler = false;
  }

  protected override isContainer(local: string, ns: string, depth: number): boolean {
    if (!this.handler.isContainer) return false;
    this.inHandler = true;
    const yes = this.handler.isContainer(local, ns, depth);
    this.inHandler = false;
    return yes;
  }

  protected override containerOpened(t: ResolvedTag): void {
    const el = new Element(t.local, t.ns);
    el.attrs = t.attrs;
    this.inHandler = true;
    this.handler.onContainerOpen?.(el);
    this.inHandler = false;
  }

  protected override containerClosed(): void {
    this.inHandler = true;
    this.handler.onContainerClose?.();
    this.inHandler = false;
  }

  protected override streamClosed(): void {
    this.inHandler = true;
    this.handler.onStreamClose();
    this.inHandler = false;
  }

}

/** Limits from `over` where it gives a number: an unset config value must not switch one off. */
function mergeLimits(base: Readonly<ParserLimits>, over?: Partial<ParserLimits>): ParserLimits {
  const lim: ParserLimits = { ...base };
  if (over) {
    for (const k of Object.keys(lim) as (keyof ParserLimits)[]) {
      const v = over[k];
      if (typeof v === 'number' && !Number.isNaN(v)) lim[k] = v;
    }
  }
  return lim;
}

/** The first element is the whole document: no stream header, nothing but whitespace after it. */
class FragmentParser extends StreamParser {
  constructor(handler: ParserHandler, limits: ParserLimits) {
    super(handler, limits);
    this.fragment = true;
  }

  /** The element, if the input seen so far is exactly one complete element. */
  finish(): Element {
    if (this.result === undefined || this.pend.length !== 0 || this.highSurrogate !== '') throw nwf('unexpected end of input');
    return this.result;
  }
}

/**
 * Parse one standalone element (an XML declaration and surrounding whitespace are allowed).
 * Byte limits default to unbounded, since the caller already holds the whole string; depth,
 * attribute and name limits still apply. Throws an Error with `.condition` on bad input.
 */
export function parseFragment(xml: string, limits?: Partial<ParserLimits>): Element {
  let error: XmlError | undefined;
  const p = new FragmentParser({
    onStreamOpen() {},
    onElement() {},
    onStreamClose() {},
    onError(condition, text) { error ??= new XmlError(condition, text); },
  }, mergeLimits({ ...DEFAULT_PARSER_LIMITS, maxStanzaBytes: Infinity, maxHeaderBytes: Infinity }, limits));
  p.write(xml);
  if (error) throw error;
  return p.finish();
}

export { XmlError };
