// The one catalogue of error conditions: stream errors (RFC 6120 §4.9.3), stanza errors
// (RFC 6120 §8.3.3) and SASL failures (RFC 6120 §6.5). Expected failures are values of these
// types; code that must fail a stanza or a stream throws StanzaError / StreamError.

import { Element, xml } from '../xml/element.js';
import { NS } from './namespaces.js';

export const STREAM_ERROR_CONDITIONS = [
  'bad-format', 'bad-namespace-prefix', 'conflict', 'connection-timeout', 'host-gone',
  'host-unknown', 'improper-addressing', 'internal-server-error', 'invalid-from',
  'invalid-namespace', 'invalid-xml', 'not-authorized', 'not-well-formed', 'policy-violation',
  'remote-connection-failed', 'reset', 'resource-constraint', 'restricted-xml', 'see-other-host',
  'system-shutdown', 'undefined-condition', 'unsupported-encoding', 'unsupported-feature',
  'unsupported-stanza-type', 'unsupported-version',
] as const;
export type StreamErrorCondition = (typeof STREAM_ERROR_CONDITIONS)[number];

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** Each stanza error condition with the error type RFC 6120 §8.3.3 gives it by default. */
export const STANZA_ERROR_TYPES = {
  'bad-request': 'modify', 'conflict': 'cancel', 'feature-not-implemented': 'cancel',
  'forbidden': 'auth', 'gone': 'cancel', 'internal-server-error': 'cancel',
  'item-not-found': 'cancel', 'jid-malformed': 'modify', 'not-acceptable': 'modify',
  'not-allowed': 'cancel', 'not-authorized': 'auth', 'policy-violation': 'modify',
  'recipient-unavailable': 'wait', 'redirect': 'modify', 'registration-required': 'auth',
  'remote-server-not-found': 'cancel', 'remote-server-timeout': 'wait',
  'resource-constraint': 'wait', 'service-unavailable': 'cancel',
  'subscription-required': 'auth', 'undefined-condition': 'cancel', 'unexpected-request': 'wait',
} as const satisfies Record<string, StanzaErrorType>;
export type StanzaErrorCondition = keyof typeof STANZA_ERROR_TYPES;

export const SASL_FAILURE_CONDITIONS = [
  'aborted', 'account-disabled', 'credentials-expired', 'encryption-required',
  'incorrect-encoding', 'invalid-authzid', 'invalid-mechanism', 'malformed-request',
  'mechanism-too-weak', 'not-authorized', 'temporary-auth-failure',
] as const;
export type SaslFailureCondition = (typeof SASL_FAILURE_CONDITIONS)[number];

export class StreamError extends Error {
  constructor(readonly condition: StreamErrorCondition, readonly text?: string, readonly extra?: Element) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'StreamError';
  }
  toElement(): Element {
    return xml('error', NS.STREAM, {},
      xml(this.condition, NS.STREAMS),
      this.text ? xml('text', NS.STREAMS, { 'xml:lang': 'en' }, this.text) : undefined,
      this.extra);
  }
}

export class StanzaError extends Error {
  readonly type: StanzaErrorType;
  constructor(readonly condition: StanzaErrorCondition, readonly text?: string, type?: StanzaErrorType, readonly appCondition?: Element) {
    super(text ? `${condition}: ${text}` : condition);
    this.name = 'StanzaError';
    this.type = type ?? STANZA_ERROR_TYPES[condition];
  }
  /** The <error/> child (RFC 6120 §8.3.2); `by` names the entity that generated the error. */
  toElement(ns: string = NS.CLIENT, by?: string): Element {
    return xml('error', ns, { type: this.type, by },
      xml(this.condition, NS.STANZAS),
      this.text ? xml('text', NS.STANZAS, { 'xml:lang': 'en' }, this.text) : undefined,
      this.appCondition);
  }
  static fromElement(stanza: Element): StanzaError | undefined {
    const err = stanza.getChild('error');
    if (!err) return undefined;
    const cond = err.elements().find((e) => e.xmlns === NS.STANZAS && e.name !== 'text');
    const name = (cond?.name ?? 'undefined-condition') as StanzaErrorCondition;
    const text = err.getChildText('text', NS.STANZAS);
    return new StanzaError(name in STANZA_ERROR_TYPES ? name : 'undefined-condition', text, (err.attr('type') as StanzaErrorType) ?? undefined);
  }
}

/**
 * Build the error reply to `stanza` (RFC 6120 §8.3.1): swap to/from, keep id, type='error', include
 * the original payload for message/presence. Returns undefined for an error stanza: an error is
 * never answered with an error.
 */
export function errorReply(stanza: Element, error: StanzaError, by?: string): Element | undefined {
  if (stanza.attrs.type === 'error') return undefined;
  const reply = new Element(stanza.name, stanza.xmlns, { id: stanza.attrs.id, type: 'error', to: stanza.attrs.from, from: stanza.attrs.to });
  if (stanza.attrs['xml:lang']) reply.attrs['xml:lang'] = stanza.attrs['xml:lang'];
  if (stanza.name !== 'iq') {
    for (const c of stanza.children) if (typeof c !== 'string' && c.name !== 'error') reply.children.push(c);
  } else {
    // An iq error may include the request payload; keep it short and only the first child.
    const payload = stanza.elements()[0];
    if (payload) reply.children.push(payload);
  }
  reply.children.push(error.toElement(stanza.xmlns, by));
  return reply;
}
