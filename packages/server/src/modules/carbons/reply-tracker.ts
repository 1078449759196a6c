// XEP-0280 §6.1: an error message is copied when "it was sent in response to a message that was
// eligible for carbons delivery". An error answers from the address the original was sent to,
// with the original's id (RFC 6120 §8.3.1), so remembering (account, peer, id) of each copied
// message recognises its error. Bounded in entries and age: a late error is simply not copied.

export class ReplyTracker {
  private readonly seen = new Map<string, number>();

  constructor(private readonly maxEntries: number, private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  private static key(account: string, peer: string, id: string): string { return `${account}\u0000${peer}\u0000${id}`; }

  /** A copied message between `account` (bare JID) and `peer` (the exact JID on the other side). */
  remember(account: string, peer: string, id: string | undefined): void {
    if (id === undefined || id === '' || this.maxEntries === 0) return;
    const k = ReplyTracker.key(account, peer, id);
    this.seen.delete(k); // re-insert: Map order is age order
    this.seen.set(k, this.now() + this.ttlMs);
    while (this.seen.size > this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
  }

  /** Whether an error from/to `peer` with this id answers a copied message. */
  answers(account: string, peer: string, id: string | undefined): boolean {
    if (id === undefined) return false;
    const k = ReplyTracker.key(account, peer, id);
    const until = this.seen.get(k);
    if (until === undefined) return false;
    if (until < this.now()) { this.seen.delete(k); return false; }
    return true;
  }

  get size(): number { return this.seen.size; }
}
