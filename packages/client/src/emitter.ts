// A small typed event emitter: the library must not pull Node's `events` into browser bundles,
// and typed event maps let listeners see the exact payload of each event.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type EventMap = Record<string, any[]>;
type Listener<A extends unknown[]> = (...args: A) => void;
type AnyListener = (...args: unknown[]) => void;

export class Emitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<AnyListener>>();

  /** Subscribe; returns the function that unsubscribes. */
  on<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as unknown as AnyListener);
    return () => this.off(event, fn);
  }

  once<K extends keyof E>(event: K, fn: Listener<E[K]>): () => void {
    const off = this.on(event, ((...args: E[K]) => { off(); fn(...args); }) as Listener<E[K]>);
    return off;
  }

  off<K extends keyof E>(event: K, fn: Listener<E[K]>): void {
    this.listeners.get(event)?.delete(fn as unknown as AnyListener);
  }

  /** Wait for the next `event` (optionally one matching `pred`). */
  wait<K extends keyof E>(event: K, pred?: (...args: E[K]) => boolean): Promise<E[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, ((...args: E[K]) => { if (!pred || pred(...args)) { off(); resolve(args); } }) as Listener<E[K]>);
    });
  }

  /** A listener that throws must not stop the others nor the caller (the connection loop):
      the exception is reported on 'listenerError' when someone listens, else rethrown async. */
  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set || set.size === 0) return;
    for (const fn of [...set]) {
      try {
        (fn as unknown as Listener<E[K]>)(...args);
      } catch (err) {
        if (event !== 'listenerError' && this.listeners.get('listenerError')?.size) this.emit('listenerError' as K, ...([err, event] as unknown as E[K]));
        else queueMicrotask(() => { throw err; });
      }
    }
  }

  listenerCount<K extends keyof E>(event: K): number { return this.listeners.get(event)?.size ?? 0; }
}
