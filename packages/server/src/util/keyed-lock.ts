// A per-key mutex (one key per account) for read-modify-write sequences on one account's data:
// offline storage (quota check + append; read + deliver + delete) and the roster (version bump +
// item write + push). In-process only: shared data uses Storage.withAccountLock, which holds
// across the processes (cluster nodes) of one database; adapters build on this class.

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
