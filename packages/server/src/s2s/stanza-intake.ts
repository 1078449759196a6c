// Stanzas arriving from another server (RFC 6120 §8.1.1.2, §8.1.2.2, §13.9): `from` and `to`
// are required, the `from` domain must be one the stream authenticated for that `to` domain,
// the `to` domain must be hosted here; a stanza that passes is moved to jabber:client and routed
// with an s2s origin. Shared by incoming streams and by outgoing bidirectional ones (XEP-0288).

import { StanzaError, StreamError, errorReply } from '@magpie/core/protocol/errors';
import { NS } from '@magpie/core/protocol/namespaces';
import { JID } from '@magpie/core/jid/jid';
import type { Element } from '@magpie/core/xml/element';
import type { S2SContext } from './context.js';
import { retarget } from './content-ns.js';

const IQ_TYPES = new Set(['get', 'set', 'result', 'error']);

export interface IntakeAuth {
  /** Some pair with this remote domain is authenticated on the stream. */
  knowsRemote(domain: string): boolean;
  isAuthorized(remote: string, local: string): boolean;
}

export async function acceptStanza(ctx: S2SContext, el: Element, auth: IntakeAuth, streamId: string): Promise<void> {
  const fromAttr = el.attrs.from; const toAttr = el.attrs.to;
  if (fromAttr === undefined || toAttr === undefined) throw new StreamError('improper-addressing', 'stanzas between servers need from and to');
  const from = JID.tryParse(fromAttr);
  if (!from || !auth.knowsRemote(from.domain)) throw new StreamError('invalid-from', 'the "from" domain is not authenticated on this stream');
  const to = JID.tryParse(toAttr);
  if (!to) throw new StreamError('improper-addressing', 'the "to" address is not a valid JID');
  if (!ctx.isServedDomain(to.domain)) throw new StreamError('host-unknown', 'that domain is not served here');
  if (!auth.isAuthorized(from.domain, to.domain)) throw new StreamError('invalid-from', 'that domain pair is not authenticated on this stream');
  retarget(el, NS.SERVER, NS.CLIENT);
  el.attrs.from = from.toString();
  el.attrs.to = to.toString();
  const type = el.attrs.type;
  let err: StanzaError | undefined;
  if (el.name === 'iq') {
    if (!el.attrs.id || type === undefined || !IQ_TYPES.has(type)) err = new StanzaError('bad-request', 'an iq needs an id and a type');
    else if ((type === 'get' || type === 'set') && el.elements().length !== 1) err = new StanzaError('bad-request', 'an iq get or set carries exactly one child');
  }
  if (err) {
    const reply = errorReply(el, err);
    if (reply) await ctx.route(reply, { kind: 'local' }, to, from);
    return;
  }
  await ctx.route(el, { kind: 's2s', domain: from.domain, streamId }, from, to);
}
