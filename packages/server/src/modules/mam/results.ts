// What a MAM query sends back (XEP-0313 1.1 §4.2, §4.3): one <message/> per archived item
// carrying <result queryid id><forwarded xmlns='urn:xmpp:forward:0'> (XEP-0297) with a <delay/>
// (XEP-0203) holding the time the server archived it; then the iq result with <fin/> holding the
// RSM answer (XEP-0059 §2.1) and complete='true' on the last page in the paging direction.

import { Element, xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { parseFragment } from '@magpie/core/xml/parser';
import { buildRsm, type RsmResult } from '@magpie/core/protocol/rsm';
import { formatDateTime } from '@magpie/core/protocol/datetime';
import type { ArchiveItem } from '../../storage/storage.js';
import { NS_FORWARD, NS_MAM } from './policy.js';

/** The result message for one item; an unreadable stored payload yields a <forwarded/> without it (§3.2 placeholder). */
export function resultMessage(item: ArchiveItem, to: string, from: string, queryid: string | undefined, onBad: (e: unknown) => void): Element {
  const forwarded = xml('forwarded', NS_FORWARD, {}, xml('delay', NS.DELAY, { stamp: formatDateTime(item.when) }));
  try { forwarded.append(parseFragment(item.payload)); } catch (e) { onBad(e); }
  return xml('message', NS.CLIENT, { to, from, id: item.id },
    xml('result', NS_MAM, { queryid, id: item.id }, forwarded));
}

export function fin(items: ArchiveItem[], complete: boolean, rsm: Omit<RsmResult, 'first' | 'last'>): Element {
  const r: RsmResult = { ...rsm };
  if (items.length > 0) { r.first = items[0]!.id; r.last = items.at(-1)!.id; } else delete r.firstIndex;
  return xml('fin', NS_MAM, { complete: complete ? 'true' : undefined }, buildRsm(r));
}
