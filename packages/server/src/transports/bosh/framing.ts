// How a BOSH session plugs into the c2s stream state machine (stream/c2s.ts) in place of a
// byte parser: the session has already parsed each request's <body/> (./body.ts), so the input
// side hands the stream ready-made events (a stream open for session creation and for
// `xmpp:restart`, XEP-0206 §4-§5; one element per payload; a close for type='terminate'); the
// session rings the transport's onData with an empty string so the stream's own activity
// bookkeeping (idle pings, timeouts) stays in one place. The output side marks the stream close
// and stream errors out of band (a NUL never occurs in XML) so the session can turn them into
// terminal bodies (XEP-0206 §7, remote-stream-error).

import type { Element } from '@magpie/core/xml/element';
import type { ParserHandler } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import type { Framing, InputFramer } from '../../stream/framing.js';
import type { HeaderAttrs } from '../../stream/stream-header.js';
import { serializePayload } from './body.js';

export type InputEvent =
  | { kind: 'open'; attrs: Record<string, string> }
  | { kind: 'element'; el: Element }
  | { kind: 'close' };

export const CLOSE_MARK = '\u0000close';
export const ERROR_MARK = '\u0000error';

export interface BoshStreamSide {
  /** Input events queued by the session, taken in order. */
  takeInput(): InputEvent[];
  streamOpened(a: HeaderAttrs): void;
  /** SASL succeeded: the client must now send a restart request (XEP-0206 §5). */
  authenticated(): void;
}

export function boshFraming(side: BoshStreamSide): Framing {
  return {
    createInput(handler: ParserHandler): InputFramer {
      let stopped = false;
      return {
        inStanza: false,
        reset() { /* each request is parsed whole: nothing carries over a restart */ },
        stop() { stopped = true; },
        write() {
          for (const ev of side.takeInput()) {
            if (stopped) return;
            if (ev.kind === 'open') handler.onStreamOpen({ name: 'stream', xmlns: NS.STREAM, prefix: 'stream', attrs: ev.attrs, defaultNs: NS.CLIENT, prefixes: {} });
            else if (ev.kind === 'element') handler.onElement(ev.el);
            else handler.onStreamClose();
          }
        },
      };
    },
    open(a: HeaderAttrs): string { side.streamOpened(a); return ''; },
    close: CLOSE_MARK,
    element(el: Element): string {
      if (el.xmlns === NS.STREAM && el.name === 'error') return ERROR_MARK + serializePayload(el);
      if (el.xmlns === NS.SASL && el.name === 'success') side.authenticated();
      return serializePayload(el);
    },
  };
}
