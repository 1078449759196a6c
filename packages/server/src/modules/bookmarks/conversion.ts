// Conversion between PEP Native Bookmarks (XEP-0402 1.2: one item per room, id = room JID,
// payload <conference xmlns='urn:xmpp:bookmarks:1'/>) and the legacy <storage
// xmlns='storage:bookmarks'/> document of XEP-0048 (in private XML storage, XEP-0049, or in the
// PEP node 'storage:bookmarks'). XEP-0048 <url/> bookmarks have no XEP-0402 form and are kept
// only in the legacy document; XEP-0402 <extensions/> have no legacy form and are kept when a
// legacy write leaves the bookmark otherwise unchanged.

import { Element, xml } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';

export const NS_BOOKMARKS = 'urn:xmpp:bookmarks:1';
export const NS_LEGACY = 'storage:bookmarks';

export interface Bookmark { jid: string; name?: string; autojoin: boolean; nick?: string; password?: string }

const truthy = (v: string | undefined): boolean => v === 'true' || v === '1';

/** The XEP-0402 view of a conference payload (under its item id). */
export function fromNative(id: string, c: Element | undefined): Bookmark | undefined {
  if (!c || c.name !== 'conference' || c.xmlns !== NS_BOOKMARKS) return undefined;
  const b: Bookmark = { jid: id, autojoin: truthy(c.attr('autojoin')) };
  if (c.attr('name') !== undefined) b.name = c.attr('name')!;
  const nick = c.getChildText('nick', NS_BOOKMARKS);
  if (nick !== undefined) b.nick = nick;
  const pw = c.getChildText('password', NS_BOOKMARKS);
  if (pw !== undefined) b.password = pw;
  return b;
}

export function toNative(b: Bookmark, extensions?: Element): Element {
  return xml('conference', NS_BOOKMARKS, { name: b.name, autojoin: b.autojoin ? 'true' : undefined },
    b.nick !== undefined ? xml('nick', NS_BOOKMARKS, {}, b.nick) : undefined,
    b.password !== undefined ? xml('password', NS_BOOKMARKS, {}, b.password) : undefined,
    extensions?.clone());
}

/** The conferences of a legacy <storage/> (invalid room JIDs are skipped) and its other children. */
export function fromLegacy(storage: Element): { bookmarks: Bookmark[]; others: Element[] } {
  const bookmarks: Bookmark[] = [];
  const others: Element[] = [];
  for (const el of storage.elements()) {
    if (el.name !== 'conference') { others.push(el); continue; }
    const jid = JID.tryParse(el.attr('jid'));
    if (!jid || !jid.local || jid.resource) continue;
    const b: Bookmark = { jid: jid.toString(), autojoin: truthy(el.attr('autojoin')) };
    if (el.attr('name') !== undefined) b.name = el.attr('name')!;
    const nick = el.getChildText('nick', NS_LEGACY);
    if (nick !== undefined) b.nick = nick;
    const pw = el.getChildText('password', NS_LEGACY);
    if (pw !== undefined) b.password = pw;
    bookmarks.push(b);
  }
  return { bookmarks, others };
}

export function toLegacy(bookmarks: Bookmark[], others: Element[] = []): Element {
  const s = xml('storage', NS_LEGACY);
  for (const b of bookmarks) {
    s.append(xml('conference', NS_LEGACY, { jid: b.jid, name: b.name, autojoin: b.autojoin ? 'true' : 'false' },
      b.nick !== undefined ? xml('nick', NS_LEGACY, {}, b.nick) : undefined,
      b.password !== undefined ? xml('password', NS_LEGACY, {}, b.password) : undefined));
  }
  s.append(...others.map((o) => o.clone()));
  return s;
}

export const sameBookmark = (a: Bookmark, b: Bookmark): boolean =>
  a.jid === b.jid && a.name === b.name && a.autojoin === b.autojoin && a.nick === b.nick && a.password === b.password;
