// How a stream is framed on its transport. TCP carries one XML document per direction
// (RFC 6120 §4.2): a <stream:stream> header, stanzas, </stream:stream>. WebSocket (RFC 7395 §3)
// carries one complete element per message: <open/> and <close/> in the framing namespace
// instead of the stream root, and every stanza declares jabber:client itself. The stream state
// machine is the same for both; only this strategy differs.

import { Element, serialize } from '@magpie/core/xml/element';
import { StreamParser, parseFragment, type ParserHandler, type ParserLimits } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import { escapeAttr } from '@magpie/core/xml/escape';
import { CLOSE_STREAM, openStreamTag, type HeaderAttrs } from './stream-header.js';

export const FRAMING_NS = 'urn:ietf:params:xml:ns:xmpp-framing';

/** What the stream needs from its input side: the same calls as StreamParser. */
export interface InputFramer {
  write(chunk: Uint8Array | string): void;
  reset(): void;
  stop(): void;
  readonly inStanza: boolean;
}

export interface Framing {
  createInput(handler: ParserHandler, limits: Partial<ParserLimits>): InputFramer;
  open(a: HeaderAttrs): string;
  readonly close: string;
  element(el: Element): string;
}

export const xmlStreamFraming: Framing = {
  createInput: (handler, limits) => new StreamParser(handler, limits),
  open: openStreamTag,
  close: CLOSE_STREAM,
  element: (el) => serialize(el, NS.CLIENT),
};

/**
 * RFC 7395 input: each message is parsed on its own (with the same limits as a stanza on TCP).
 * <open/> is reported as a stream header in the stream namespace, so the state machine's header
 * checks apply unchanged; <close/> as the end of the stream.
 */
class WebSocketInput implements InputFramer {
  private dead = false;
  constructor(private readonly handler: ParserHandler, private readonly limits: Partial<ParserLimits>) {}
  get inStanza(): boolean { return false; } // a message is always complete
  reset(): void { /* every message is a document of its own: nothing carries over */ }
  stop(): void { this.dead = true; }
  write(chunk: Uint8Array | string): void {
    if (this.dead) return;
    const text = typeof chunk === 'string' ? chunk : new TextDecoder('utf-8', { fatal: true }).decode(chunk);
    let el: Element;
    try { el = parseFragment(text, { maxStanzaBytes: this.limits.maxStanzaBytes, ...this.limits }); } catch (e) {
      this.dead = true;
      const cond = (e as { condition?: string }).condition ?? 'not-well-formed';
      this.handler.onError(cond as never, (e as Error).message);
      return;
    }
    if (el.xmlns === FRAMING_NS && el.name === 'open') {
      const attrs = { ...el.attrs };
      this.handler.onStreamOpen({ name: 'stream', xmlns: NS.STREAM, prefix: 'stream', attrs, defaultNs: NS.CLIENT, prefixes: {} });
      return;
    }
    if (el.xmlns === FRAMING_NS && el.name === 'close') { this.handler.onStreamClose(); return; }
    if (el.xmlns === FRAMING_NS) { this.dead = true; this.handler.onError('invalid-namespace' as never, `unexpected <${el.name}/> in the framing namespace`); return; }
    this.handler.onElement(el);
  }
}

export const webSocketFraming: Framing = {
  createInput: (handler, limits) => new WebSocketInput(handler, limits),
  open: (a) => `<open xmlns='${FRAMING_NS}' id='${escapeAttr(a.id)}'${a.from ? ` from='${escapeAttr(a.from)}'` : ''}${a.to ? ` to='${escapeAttr(a.to)}'` : ''} version='1.0' xml:lang='${escapeAttr(a.lang)}'/>`,
  close: `<close xmlns='${FRAMING_NS}'/>`,
  // No enclosing stream: each element declares its namespace (RFC 7395 §3.3.3).
  element: (el) => serialize(el, ''),
};
