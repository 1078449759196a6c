// The app's single store: the state, the reducer from state.ts, and subscribers (the UI root).
// Kept outside Preact so the session controller can dispatch from library callbacks and read
// the current state without stale closures.

import { initialState, reduce, type Action, type State } from './state.js';

export class Store {
  private current: State = initialState;
  private readonly subs = new Set<(s: State) => void>();

  get state(): State { return this.current; }

  dispatch = (a: Action): void => {
    const next = reduce(this.current, a);
    if (next === this.current) return;
    this.current = next;
    for (const fn of this.subs) fn(next);
  };

  subscribe(fn: (s: State) => void): () => void {
    this.subs.add(fn);
    return () => { this.subs.delete(fn); };
  }
}
