// The stanzas held back from one inactive session (XEP-0352 §6), in the order they were meant to
// be sent. Presence is collapsed by sender: a newer presence from the same full JID replaces the
// older one, and takes its place at the end, so that what follows it from that contact (e.g. a
// chat state) is still delivered after it.

import type { Element } from '@magpie/core/xml/element';

export class HeldStanzas {
  private slots: (Element | undefined)[] = [];
  private bySender = new Map<string, number>();
  private live = 0;

  /** Number of stanzas held. */
  get size(): number { return this.live; }

  /** Hold `stanza`; with a key, an older stanza held under that key is dropped. Returns whether one was. */
  add(stanza: Element, collapseKey?: string): boolean {
    let replaced = false;
    if (collapseKey !== undefined) {
      const i = this.bySender.get(collapseKey);
      if (i !== undefined) { this.slots[i] = undefined; this.live--; replaced = true; }
      this.bySender.set(collapseKey, this.slots.length);
    }
    this.slots.push(stanza);
    this.live++;
    // A contact flapping its presence leaves holes; compact so memory follows what is held.
    if (this.slots.length > 2 * this.live + 32) this.compact();
    return replaced;
  }

  private compact(): void {
    const keyOf = new Map<number, string>();
    for (const [k, i] of this.bySender) keyOf.set(i, k);
    const slots: Element[] = [];
    this.bySender.clear();
    this.slots.forEach((s, i) => {
      if (s === undefined) return;
      const k = keyOf.get(i);
      if (k !== undefined) this.bySender.set(k, slots.length);
      slots.push(s);
    });
    this.slots = slots;
  }

  /** Everything held, oldest first; the queue is empty afterwards. */
  take(): Element[] {
    const out = this.slots.filter((s): s is Element => s !== undefined);
    this.slots = [];
    this.bySender.clear();
    this.live = 0;
    return out;
  }
}
