// Typed failures of the client: stanza errors (RFC 6120 §8.3), stream errors (§4.9), SASL
// failures (§6.5), plus timeouts and connection loss. Conditions come from the one catalogue in
// @magpie/core/protocol/errors so client and server name them the same way.

import type { Element } from '@magpie/core/xml/element';
import {
  STANZA_ERROR_TYPES, STREAM_ERROR_CONDITIONS,
  type SaslFailureCondition, type StanzaErrorCondition, type StanzaErrorType, type StreamErrorCondition,
} from '@magpie/core/protocol/errors';
import { NS } from '@magpie/core/protocol/namespaces';

/** A stanza error: an iq answered with type='error', or an error message/presence. */
export class XmppError extends Error {
  override readonly name = 'XmppError';
  constructor(readonly condition: StanzaErrorCondition, readonly type: StanzaErrorType, readonly text?: string,
    readonly stanza?: Element, readonly by?: string) {
    super(text ? `${condition}: ${text}` : condition);
  }

  /** Read the <error/> child of an error stanza (undefined-condition when it is missing or unknown). */
  static fromStanza(stanza: Element): XmppError {
    const err = stanza.getChild('error', stanza.xmlns) ?? stanza.getChild('error');
    const cond = err?.elements().find((e) => e.xmlns === NS.STANZAS && e.name !== 'text');
    const name = cond && cond.name in STANZA_ERROR_TYPES ? (cond.name as StanzaErrorCondition) : 'undefined-condition';
    const declared = err?.attr('type');
    const type = (['auth', 'cancel', 'continue', 'modify', 'wait'].includes(declared ?? '') ? declared : STANZA_ERROR_TYPES[name]) as StanzaErrorType;
    return new XmppError(name, type, err?.getChildText('text', NS.STANZAS), stanza, err?.attr('by'));
  }

  /** Build a local error to answer a request with (thrown from an iq handler). */
  static of(condition: StanzaErrorCondition, text?: string): XmppError {
    return new XmppError(condition, STANZA_ERROR_TYPES[condition], text);
  }
}

/** The server ended the stream with <stream:error/>. */
export class StreamError extends Error {
  override readonly name = 'StreamError';
  constructor(readonly condition: StreamErrorCondition, readonly text?: string, readonly element?: Element) {
    super(text ? `stream error ${condition}: ${text}` : `stream error ${condition}`);
  }

  static fromElement(el: Element): StreamError {
    const c = el.elements().find((e) => e.xmlns === NS.STREAMS && e.name !== 'text');
    const name = c && (STREAM_ERROR_CONDITIONS as readonly string[]).includes(c.name) ? (c.name as StreamErrorCondition) : 'undefined-condition';
    return new StreamError(name, el.getChildText('text', NS.STREAMS), el);
  }
}

/** Authentication failed or could not be attempted. Besides the SASL failure conditions:
    'no-mechanism' (nothing offered that policy allows), 'server-verification' (the server did not
    prove knowledge of the password: a SCRAM signature mismatch, always fatal). */
export type AuthErrorCondition = SaslFailureCondition | 'no-mechanism' | 'server-verification' | 'protocol';
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(readonly condition: AuthErrorCondition, readonly text?: string) {
    super(text ? `authentication failed (${condition}): ${text}` : `authentication failed (${condition})`);
  }
}

export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  constructor(what: string, readonly ms: number) { super(`${what} timed out after ${ms} ms`); }
}

/** The connection failed or was lost (network, TLS, policy such as "TLS required"). */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  constructor(message: string, readonly code: 'network' | 'tls' | 'insecure' | 'protocol' | 'closed' | 'session-lost' = 'network', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Errors after which reconnecting would only fail again or fight another session. */
export function isFatal(err: unknown): boolean {
  if (err instanceof AuthError) return true;
  if (err instanceof StreamError) return ['conflict', 'not-authorized', 'host-unknown', 'invalid-namespace', 'unsupported-version', 'policy-violation', 'bad-format'].includes(err.condition);
  if (err instanceof ConnectionError) return err.code === 'insecure' || err.code === 'tls';
  return false;
}
