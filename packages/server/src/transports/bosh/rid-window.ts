// Request ids (XEP-0124 §14): payloads are forwarded and responses sent in rid order; a request
// may arrive ahead of a missing one (it waits, within a window of `requests` rids); a repeated
// rid gets the buffered copy of its response (§14.3, broken connections); anything else ends
// the session with item-not-found, the same answer whether the rid is too large or too small.

export type RidClass = 'next' | 'ahead' | 'repeat' | 'outside';

export interface CachedResponse { status: number; body: string }

export class RidWindow {
  private readonly cache = new Map<number, CachedResponse>();

  /** `last`: the rid of the newest request processed in order (the session creation's first). */
  constructor(private last: number, private readonly size: number) {}

  get lastProcessed(): number { return this.last; }

  classify(rid: number): RidClass {
    if (rid === this.last + 1) return 'next';
    if (rid > this.last + 1 && rid <= this.last + this.size) return 'ahead';
    if (rid <= this.last && rid > this.last - this.size) return 'repeat';
    return 'outside';
  }

  /** The next rid was processed. */
  advance(): number { return ++this.last; }

  /** Keep a response for resending; only the newest `size` are kept (§14.3). */
  remember(rid: number, r: CachedResponse): void {
    this.cache.set(rid, r);
    for (const k of this.cache.keys()) if (k <= this.last - this.size) this.cache.delete(k);
  }

  cached(rid: number): CachedResponse | undefined { return this.cache.get(rid); }
}
