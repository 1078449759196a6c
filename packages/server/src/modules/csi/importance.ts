// What an inactive client (XEP-0352 1.0.0 §1, §6 "Optimisations") must get at once and what can
// wait. §6 leaves the choice to the server; Magpie holds only what loses nothing by waiting:
// - presence updates (available/unavailable) are held and collapsed to the latest per sender,
//   because only the current state matters when the user looks again;
// - messages carrying nothing but XEP-0085 chat states (and bookkeeping such as hints, thread,
//   stanza ids, delay) are held;
// everything else is urgent: iq (someone waits for an answer), presence subscriptions and errors,
// messages with a body or subject, and any payload we do not know (receipts, markers,
// encryption, invitations…), which is the safe default. A carbon copy (XEP-0280) is judged by
// the message it forwards.

import type { Element } from '@magpie/core/xml/element';

export type Importance = 'urgent' | 'hold' | 'collapse';

const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
const BOOKKEEPING = new Set(['urn:xmpp:hints', 'urn:xmpp:sid:0', 'urn:xmpp:delay']);

/** The message a carbon forwards, or the stanza itself. */
function unwrapCarbon(stanza: Element): Element {
  const wrapper = stanza.getChild('received', NS_CARBONS) ?? stanza.getChild('sent', NS_CARBONS);
  const inner = wrapper?.getChild('forwarded', NS_FORWARD)?.elements().find((e) => e.name === 'message');
  return inner ?? stanza;
}

function chatStatesOnly(m: Element): boolean {
  let state = false;
  for (const c of m.elements()) {
    if (c.xmlns === NS_CHATSTATES) { state = true; continue; }
    if (BOOKKEEPING.has(c.xmlns)) continue;
    if (c.xmlns === m.xmlns && c.name === 'thread') continue;
    return false; // body, subject, or any other payload
  }
  return state;
}

export function importance(stanza: Element, opts: { holdChatStates: boolean }): Importance {
  const type = stanza.attrs.type;
  if (stanza.name === 'presence') return type === undefined || type === 'unavailable' ? 'collapse' : 'urgent';
  if (stanza.name === 'message') {
    const m = unwrapCarbon(stanza);
    if (opts.holdChatStates && m.attrs.type !== 'error' && chatStatesOnly(m)) return 'hold';
    return 'urgent';
  }
  return 'urgent';
}
