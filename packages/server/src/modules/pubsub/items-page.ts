// Result Set Management on item retrieval (XEP-0060 §6.5.4 "Returning Some Items", XEP-0059):
// a requester pages through a node's items with <set xmlns='http://jabber.org/protocol/rsm'/>
// beside <items/>. The set is what the request selects (every item the requester may see, or
// the newest max_items), oldest first as items are returned without RSM, so <first index='0'>
// is the oldest and an empty <before/> asks for the newest page. Item ids are the RSM UIDs. The
// items are in memory already (the engine keeps a node's items once read), so any page, index
// jumps included, costs a slice.

import { StanzaError } from '@magpie/core/protocol/errors';
import type { RsmRequest, RsmResult } from '@magpie/core/protocol/rsm';

export interface ItemsPage<T> { items: T[]; rsm: RsmResult }

/** The page of `all` (oldest first) that `req` asks for, and the <set/> describing it. */
export function pageItems<T extends { id: string }>(all: readonly T[], req: RsmRequest): ItemsPage<T> {
  const position = (id: string): number => {
    const i = all.findIndex((x) => x.id === id);
    // XEP-0059 §2.x: an unknown UID cannot anchor a page.
    if (i < 0) throw new StanzaError('item-not-found', `no item ${id} in this result set`);
    return i;
  };
  if (req.index !== undefined && (req.after !== undefined || req.before !== undefined)) {
    throw new StanzaError('bad-request', 'RSM <index/> cannot be combined with <after/> or <before/>');
  }
  let start: number, end: number;
  if (req.before !== undefined) {
    end = req.before === '' ? all.length : position(req.before);
    start = req.max === undefined ? 0 : Math.max(0, end - req.max);
  } else {
    start = req.after !== undefined ? position(req.after) + 1 : Math.min(req.index ?? 0, all.length);
    end = req.max === undefined ? all.length : Math.min(all.length, start + req.max);
  }
  const items = all.slice(start, end);
  const rsm: RsmResult = { count: all.length };
  if (items.length > 0) {
    rsm.first = items[0]!.id;
    rsm.firstIndex = start;
    rsm.last = items.at(-1)!.id;
  }
  return { items, rsm };
}
