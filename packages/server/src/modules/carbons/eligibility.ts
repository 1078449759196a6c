// Which messages are carbon-copied (XEP-0280 1.0.1 §6.1 "Recommended Rules", §8 "Avoiding
// Carbons", with the XEP-0334 1.0.0 <no-copy/> hint of §4.3), and what a copy looks like (§7,
// §8: XEP-0297 forwarding inside <received/> or <sent/>, from the account's bare JID).
//
// Rules, in the order they are applied:
// - groupchat is never copied (MUC-related rules);
// - a message that already carries <received/> or <sent/> is never copied again (a copy is
//   written to sessions directly and never routed, so a routed one is forged, §11);
// - an error is copied when it answers a message that was copied (the caller knows: see
//   ./reply-tracker.ts); hints inside an error are ignored (XEP-0334 §5);
// - <private/> or <no-copy/> → not copied;
// - a MUC invitation (XEP-0249 direct, XEP-0045 mediated <invite/>) → copied;
// - a private MUC message (<x xmlns='…muc#user'/>): copied when a local user sends it, not when
//   a participant's full JID sends it to us (the room already gives it to every joined client);
// - chat → copied; headline → not; normal (or an unknown type, RFC 6121 §5.2.2) with a <body/>
//   or with an IM payload (XEP-0184 receipts, XEP-0085 chat states, XEP-0333 markers) → copied.

import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_HINTS = 'urn:xmpp:hints';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_DIRECT_INVITE = 'jabber:x:conference';
const IM_PAYLOADS = new Set(['urn:xmpp:receipts', 'http://jabber.org/protocol/chatstates', 'urn:xmpp:chat-markers:0']);

export type Direction = 'sent' | 'received';
export type Verdict = { copy: true } | { copy: false; reason: string };

export interface EligibilityContext {
  direction: Direction;
  /** The other party's address (the sender for received messages, the recipient for sent ones). */
  peerIsFullJid: boolean;
  /** For an error: whether it answers a message that was eligible (§6.1 fourth rule). */
  answersEligible?: () => boolean;
}

const NO = (reason: string): Verdict => ({ copy: false, reason });
const YES: Verdict = { copy: true };

export function isCarbon(stanza: Element): boolean {
  return stanza.getChild('received', NS_CARBONS) !== undefined || stanza.getChild('sent', NS_CARBONS) !== undefined;
}

export function eligibility(stanza: Element, ctx: EligibilityContext): Verdict {
  if (stanza.name !== 'message') return NO('not a message');
  const type = stanza.attrs.type ?? 'normal';
  if (type === 'groupchat') return NO('groupchat');
  if (isCarbon(stanza)) return NO('already a carbon');
  if (type === 'error') return ctx.answersEligible?.() ? YES : NO('error not answering a copied message');
  if (stanza.getChild('private', NS_CARBONS)) return NO('private');
  if (stanza.getChild('no-copy', NS_HINTS)) return NO('no-copy hint');
  if (stanza.getChild('x', NS_DIRECT_INVITE)) return YES;
  const mucUser = stanza.getChild('x', NS_MUC_USER);
  if (mucUser) {
    if (mucUser.getChild('invite', NS_MUC_USER)) return YES;
    if (ctx.direction === 'received' && ctx.peerIsFullJid) return NO('private message from a MUC occupant');
    if (ctx.direction === 'sent') return YES;
  }
  if (type === 'chat') return YES;
  if (type === 'headline') return NO('headline');
  if (stanza.getChild('body', stanza.xmlns)) return YES;
  for (const c of stanza.elements()) if (IM_PAYLOADS.has(c.xmlns)) return YES;
  return NO('normal message without a body or IM payload');
}

const CONTENT_NS = new Set<string>([NS.SERVER, NS.COMPONENT]);

/** The original as a client sees it: a copy from a server or component stream is re-homed in jabber:client. */
function asClient(el: Element): Element {
  const out = el.clone();
  const walk = (e: Element): void => {
    if (CONTENT_NS.has(e.xmlns)) e.xmlns = NS.CLIENT;
    for (const c of e.elements()) walk(c);
  };
  walk(out);
  return out;
}

/** The copy for one resource: §7 / §8 wrapping, from the account's bare JID (never anything a peer chose). */
export function carbonCopy(direction: Direction, original: Element, accountBare: string, toFull: string): Element {
  return xml('message', NS.CLIENT, { from: accountBare, to: toFull, type: original.attrs.type },
    xml(direction, NS_CARBONS, {}, xml('forwarded', NS_FORWARD, {}, asClient(original))));
}

/** Removes <received/>/<sent/> a peer put in a routed message (§11); returns how many. */
export function stripForged(stanza: Element): number {
  const before = stanza.children.length;
  stanza.removeChildren((e) => e.xmlns === NS_CARBONS && (e.name === 'received' || e.name === 'sent'));
  return before - stanza.children.length;
}
