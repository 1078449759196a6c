// Discussion history (XEP-0045 §7.2.15 sent on join, limited by the joiner's
// <history maxchars maxstanzas seconds since/> of §7.2.16, each with a XEP-0203 delay from the
// room) and the subject message that follows it (§7.2.16). The room keeps its last
// muc#roomconfig_historylength groupchat messages in memory; with logging on, the service also
// appends each one to the room's archive (store 'muc', keyed by the room) for a future
// XEP-0313 room archive. In a cluster the owning node also keeps the history in a capped Redis
// list beside the room's snapshot (room-ownership.ts), one "<when> <stanza>" line per message
// (encodeHistory/decodeHistory), so the next owner sends joiners the same history with the
// original delay stamps.

import { Element, serialize, xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import type { HistoryEntry, Room } from './room.js';

export function remember(room: Room, stanza: Element, when: number): void {
  const max = room.config.historyLength;
  if (max <= 0) { room.history.length = 0; return; }
  room.history.push({ stanza, when, chars: stanza.toString().length });
  if (room.history.length > max) room.history.splice(0, room.history.length - max);
}

/** One history entry as a line of the room's log (cluster mode): "<when> <stanza>". */
export function encodeHistory(stanza: Element, when: number): string {
  return `${when} ${serialize(stanza)}`;
}

/** The history a room's log holds: its last `max` lines, oldest first; unreadable lines skipped. */
export function decodeHistory(lines: string[], max: number): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const line of max > 0 ? lines.slice(-Math.floor(max)) : []) {
    const sp = line.indexOf(' ');
    const when = Number(line.slice(0, sp));
    if (sp <= 0 || !Number.isSafeInteger(when)) continue;
    let stanza: Element;
    try { stanza = parseFragment(line.slice(sp + 1)); } catch { continue; }
    if (stanza.name !== 'message') continue;
    out.push({ stanza, when, chars: stanza.toString().length });
  }
  return out;
}

/** The history a joiner asked for, oldest first, each with its delay (XEP-0203). */
export function historyFor(room: Room, req: Element | undefined, now = Date.now()): Element[] {
  let items = room.history;
  const num = (k: string): number | undefined => {
    const v = req?.attrs[k];
    if (v === undefined) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : undefined;
  };
  const seconds = num('seconds');
  if (seconds !== undefined) items = items.filter((h) => now - h.when <= seconds * 1000);
  const since = req?.attrs.since ? Date.parse(req.attrs.since) : NaN;
  if (!Number.isNaN(since)) items = items.filter((h) => h.when > since);
  const maxStanzas = num('maxstanzas');
  if (maxStanzas !== undefined) items = maxStanzas === 0 ? [] : items.slice(-Math.floor(maxStanzas));
  const maxChars = num('maxchars');
  if (maxChars !== undefined) {
    // Whole stanzas only, counted from the newest back (§7.2.16 "the total number of characters").
    let total = 0, start = items.length;
    while (start > 0 && total + items[start - 1]!.chars <= maxChars) total += items[--start]!.chars;
    items = items.slice(start);
  }
  return items.map((h) => {
    const m = new Element(h.stanza.name, h.stanza.xmlns, { ...h.stanza.attrs });
    m.children = [...h.stanza.children, xml('delay', NS.DELAY ?? 'urn:xmpp:delay', { from: room.address, stamp: new Date(h.when).toISOString() })];
    return m;
  });
}

/** §7.2.16: the subject, always sent last (empty when none is set). */
export function subjectMessage(room: Room): Element {
  const from = room.subject.by ? room.occupantJid(room.subject.by) : room.address;
  return xml('message', NS.CLIENT, { type: 'groupchat', from, id: `subject-${room.subject.when}` },
    xml('subject', NS.CLIENT, {}, room.subject.text));
}
