// A per-key mutex (one key per account): offline storage reads a quota, appends and updates the
// byte count as one step, and delivery reads, writes to the session and deletes as one step, so
// two stores for one account cannot both pass a full quota and two resources that become
// available together cannot both deliver the same message. In-process only: a cluster would
// need the storage layer's own locking (see the module's header on the delivery guarantee).

export class KeyedLock {
  private tails = new Map<string, Promise<void>>();

  /** Run `fn` once every earlier holder of `key` has finished; released even when fn throws. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = prev.then(() => mine);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      // Forget the key when nobody queued behind us, so the map does not grow with every account.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  get size(): number { return this.tails.size; }
}
