// Per-session module state that every cluster node must see (issue #8: "roster pushes and
// carbons to resources on other nodes"). A module keeps most of its per-session state in
// `session.data`, which lives on the node that owns the connection; the few small facts another
// node needs to act on a session it only holds a proxy of — "has enabled carbons" (XEP-0280 §4),
// "wants +notify for these PEP nodes" (XEP-0115 / XEP-0163 §4.3.3), "requested the block list"
// (XEP-0191 §3.2) — go here instead. In a cluster the registry publishes every change with the
// session's registry entry (cluster/wire.ts SessionEntry.shared), so the proxy of the session on
// every other node exposes the same values; on a single node this is a plain map and a change
// costs one comparison.
//
// Keep values small (flags, short lists, hashes): each change republishes the whole record of
// the session to every node. Queues and caches belong in `data` or in storage.

import type { Json } from '../storage/storage.js';

export class SharedState {
  private values = new Map<string, Json>();
  /** Set by the cluster registry for a local session: called after every effective change. */
  private listener: (() => void) | undefined;

  /** The value as the module stored it (the type is the caller's claim; values are JSON). */
  get<T = Json>(key: string): T | undefined { return this.values.get(key) as T | undefined; }

  has(key: string): boolean { return this.values.has(key); }

  /** Set `key` (JSON only); `undefined` deletes it. Setting an equal value changes nothing. */
  set(key: string, value: Json | undefined): void {
    const cur = this.values.get(key);
    if (value === undefined) {
      if (!this.values.has(key)) return;
      this.values.delete(key);
    } else {
      if (cur !== undefined && sameJson(cur, value)) return;
      this.values.set(key, value);
    }
    this.listener?.();
  }

  delete(key: string): void { this.set(key, undefined); }

  get size(): number { return this.values.size; }

  /** The record carried in a registry entry; undefined when empty (the entry omits it). */
  toRecord(): Record<string, Json> | undefined {
    if (this.values.size === 0) return undefined;
    return Object.fromEntries(this.values);
  }

  /** Replace everything with the owner's record (a proxy of another node's session). */
  replace(record: Record<string, Json> | undefined): void {
    this.values = new Map(record ? Object.entries(record) : []);
  }

  /** Observe changes (one observer: the cluster registry); returns the undo. */
  watch(fn: () => void): () => void {
    this.listener = fn;
    return () => { if (this.listener === fn) this.listener = undefined; };
  }
}

function sameJson(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
