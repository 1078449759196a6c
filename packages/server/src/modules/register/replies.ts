// Answers to jabber:iq:register requests. Errors carry no copy of the request (RFC 6120 §8.3.1
// allows leaving it out, XEP-0077 §3.3 asks it for password changes): a request may hold a
// password, which must not travel back or reach a log. XEP-0077 §9 asks servers to support the
// legacy error codes too, so each error also carries its XEP-0086 `code`.

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import type { StanzaError, StanzaErrorCondition } from '@magpie/core/protocol/errors';

const LEGACY_CODES: Partial<Record<StanzaErrorCondition, string>> = {
  'bad-request': '400', 'not-authorized': '401', 'forbidden': '403', 'item-not-found': '404',
  'not-allowed': '405', 'not-acceptable': '406', 'registration-required': '407', 'conflict': '409',
  'internal-server-error': '500', 'resource-constraint': '500', 'service-unavailable': '503',
  'unexpected-request': '400', 'policy-violation': '406',
};

/** The error answering `iq`, `from`/`to` as given (undefined: left out). */
export function iqError(iq: Element, err: StanzaError, from?: string, to?: string): Element {
  const e = err.toElement(NS.CLIENT);
  const code = LEGACY_CODES[err.condition];
  if (code) e.attrs.code = code;
  return xml('iq', NS.CLIENT, { type: 'error', id: iq.attrs.id, from, to }, e);
}

export function iqResult(iq: Element, payload?: Element, from?: string, to?: string): Element {
  return xml('iq', NS.CLIENT, { type: 'result', id: iq.attrs.id, from, to }, payload);
}
