// Which messages go into a user archive, and the XEP-0359 stanza ids the archive hands out.
//
// XEP-0313 §7.1.1 (Business Rules, user archives): messages of type 'normal' or 'chat' with a
// <body/> (RFC 6121 §5.2.2: an unknown type is handled as normal); groupchat, headline and error
// are not archived. XEP-0334: <no-store/> and <no-permanent-store/> keep a message out of the
// archive (§4.1, §4.2); <store/> asks to archive one the rules would skip (§4.4), e.g. a receipt.
// Hints inside an error are ignored (§5), and errors are never archived anyway.
//
// XEP-0359 §3: the archive stamps <stanza-id id by/> on the delivered message, `by` being the
// archive's address (XEP-0313 §3.3: the account's bare JID). §3.1 security: a stanza-id that
// claims to come from that archive but did not must be removed, or a sender could make a client
// believe a forged id names an archived message. Other entities' stanza-ids and the sender's
// <origin-id/> are kept untouched.

import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';

export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_MAM_EXTENDED = 'urn:xmpp:mam:2#extended';
export const NS_SID = 'urn:xmpp:sid:0';
export const NS_HINTS = 'urn:xmpp:hints';
export const NS_FORWARD = 'urn:xmpp:forward:0';

export function archivable(stanza: Element): boolean {
  if (stanza.name !== 'message') return false;
  const type = stanza.attrs.type ?? 'normal';
  if (type === 'groupchat' || type === 'headline' || type === 'error') return false;
  if (stanza.getChild('no-store', NS_HINTS) || stanza.getChild('no-permanent-store', NS_HINTS)) return false;
  if (stanza.getChild('store', NS_HINTS)) return true;
  return stanza.getChild('body') !== undefined;
}

/** Removes stanza-ids that claim to be from the archive `by` (XEP-0359 §3.1). */
export function stripForgedStanzaIds(stanza: Element, by: string): void {
  const forged = (e: Element): boolean => e.name === 'stanza-id' && e.xmlns === NS_SID && e.attrs.by === by;
  if (stanza.elements().some(forged)) stanza.removeChildren(forged);
}

export function addStanzaId(stanza: Element, id: string, by: string): void {
  stanza.append(xml('stanza-id', NS_SID, { id, by }));
}

const CONTENT = new Set<string>([NS.CLIENT, NS.SERVER, NS.COMPONENT]);

/**
 * The copy to store: stanzas received over s2s are in jabber:server, but an archived message is
 * always handed back inside <forwarded/> where XEP-0297 §3 wants jabber:client.
 */
export function storedCopy(stanza: Element): Element {
  const walk = (e: Element): Element => {
    const out = new Element(e.name, CONTENT.has(e.xmlns) ? NS.CLIENT : e.xmlns);
    out.attrs = Object.assign(Object.create(null) as Record<string, string>, e.attrs);
    out.children = e.children.map((c) => (typeof c === 'string' ? c : walk(c)));
    return out;
  };
  return walk(stanza);
}
