// Which messages are kept for an offline user, and how a stored one is marked on delivery.
//
// XEP-0160 §3 (by message type): normal (or no type) and chat are stored, except chat messages
// that carry only chat states (XEP-0085); groupchat, headline and error are not. RFC 6121 §5.2.2:
// an unknown type is handled as normal. XEP-0334 1.0.0 hints: <no-store/> means "not even
// temporarily" (§4.2), <store/> asks to store a message the usual rules would skip (§4.4:
// content-less messages and headlines; groupchat keeps its RFC 6121 error); hints inside an
// error are ignored (§5), and error messages are never stored anyway. <no-permanent-store/>
// (§4.1) allows offline storage: it is temporary, not an archive.
// "Content worth storing" follows the spirit of XEP-0160's chat-state exception: a message is
// worth keeping if it has a non-empty body or subject, or any payload other than the
// bookkeeping elements below (chat states, hints, thread, stanza ids, a receipt request).
// Encrypted payloads (OMEMO, OpenPGP), receipts, chat markers, invitations etc. are kept.
// XEP-0203: the delivered copy carries <delay/> with the time the server received it.

import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';

export const NS_HINTS = 'urn:xmpp:hints';
export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';

/** Payloads that are bookkeeping, not content (namespace → element names, '*' for all). */
const NOT_CONTENT: Record<string, string[] | '*'> = {
  [NS_CHATSTATES]: '*',
  [NS_HINTS]: '*',
  'urn:xmpp:sid:0': '*',          // XEP-0359 origin-id / stanza-id
  [NS.DELAY]: '*',
  'urn:xmpp:receipts': ['request'], // XEP-0184: a request alone asks for nothing to be read
};

export type StoreDecision = { store: true } | { store: false; reason: string };

export function offlineDecision(stanza: Element): StoreDecision {
  if (stanza.name !== 'message') return { store: false, reason: 'not a message' };
  const type = stanza.attrs.type ?? 'normal';
  // Errors are never kept and their hints are ignored (XEP-0334 §5); groupchat to an absent
  // user is an error (RFC 6121 §8.5.2.1.1) whatever the sender hints.
  if (type === 'error' || type === 'groupchat') return { store: false, reason: `type ${type}` };
  if (stanza.getChild('no-store', NS_HINTS)) return { store: false, reason: 'no-store hint' };
  // XEP-0334 §4.4: <store/> on a message "that is not of type 'error' SHOULD be stored", so
  // it also keeps a headline, which XEP-0160 §3 would drop.
  if (stanza.getChild('store', NS_HINTS)) return { store: true };
  if (type === 'headline') return { store: false, reason: 'type headline' };
  return hasContent(stanza) ? { store: true } : { store: false, reason: 'nothing worth storing' };
}

function hasContent(stanza: Element): boolean {
  for (const c of stanza.elements()) {
    if (c.xmlns === stanza.xmlns) {
      // body / subject count when they say something; thread alone does not.
      if ((c.name === 'body' || c.name === 'subject') && c.text().trim() !== '') return true;
      continue;
    }
    const skip = NOT_CONTENT[c.xmlns];
    if (skip === '*' || skip?.includes(c.name)) continue;
    return true;
  }
  return false;
}

/** XEP-0082 DateTime in UTC (milliseconds kept: they order messages stored within one second). */
export function xep0082(ms: number): string { return new Date(ms).toISOString(); }

/**
 * The copy to deliver: any <delay/> claiming to come from our own domain is removed (only this
 * server may say when it stored a message; a sender could forge one), then ours is added.
 */
export function withDelay(stanza: Element, domain: string, when: number): Element {
  const out = stanza.clone();
  out.removeChildren((e) => e.name === 'delay' && e.xmlns === NS.DELAY && e.attrs.from === domain);
  out.append(xml('delay', NS.DELAY, { from: domain, stamp: xep0082(when) }, 'Offline Storage'));
  return out;
}
