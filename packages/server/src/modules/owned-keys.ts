// Keys owned by one node of a cluster at a time (issue #8: "MUC rooms: one node owns a room at a
// time, ownership moves when that node dies"). What a module sees of it: the service
// OWNED_KEYS_SERVICE, provided by the server only in cluster mode (cluster/ownership.ts), so a
// module on a single node keeps its own code path and never touches Redis. A module takes one
// namespace (e.g. `muc:conference.example.org`); in it, a key (a room) is claimed by the first
// node that needs it, stanzas for the key reaching another node are carried to the owner, a
// small state snapshot beside the key lets another node continue when the owner dies, a capped
// log beside it carries what changes too often to rewrite the snapshot each time (a room's
// discussion history), and a directory (key -> label) lists the keys of every node (public rooms).

import type { StanzaEvent } from '../hooks/events.js';

export const OWNED_KEYS_SERVICE = 'owned-keys';

export interface OwnedKeysProvider {
  /** This node's name. */
  readonly node: string;
  /** Take namespace `ns` (once per namespace on each node) with this node's handlers. */
  namespace(ns: string, handlers: OwnedKeysHandlers): OwnedKeys;
}

export interface OwnedKeysHandlers {
  /** A stanza another node carried here for a key of the namespace: handle it as if it had
      arrived here (this node may no longer own the key: resolve again, pass `hop` on). */
  stanza(ev: StanzaEvent, hop: number): Promise<void>;
  /** Keys whose owner died (or whose claim this node's previous run left), now unowned: this
      node was chosen to take them over at once rather than at their next stanza. */
  orphaned(keys: string[], deadNode: string): Promise<void>;
  /** Keys this node held that another node claimed while this one was cut off from Redis (the
      others found it dead): drop this node's copy, the other owner's is the one in use. */
  lost(keys: string[]): Promise<void>;
  /** Keys this node claimed again after re-registering (Redis may have lost their snapshots). */
  reclaimed(keys: string[]): Promise<void>;
}

export interface OwnedKeys {
  readonly node: string;
  /** The node owning `key`; claims it for this node when nobody does (atomic: one winner). */
  resolve(key: string): Promise<string>;
  /**
   * Carry a stanza to `owner`. False when nobody listens there (the owner died): its claim is
   * cleared, so the next resolve() claims the key.
   */
  forward(owner: string, key: string, ev: StanzaEvent, hop: number): Promise<boolean>;
  /** Give the key up; `keepState` leaves the snapshot and the log for the next owner (a handover). */
  release(key: string, keepState?: boolean): Promise<void>;
  /** Replace the key's snapshot and its directory label (undefined: not listed); ignored when
      this node no longer owns the key. Writes keep their order. */
  saveState(key: string, state: string, label: string | undefined): void;
  loadState(key: string): Promise<string | undefined>;
  /** Add `entry` to the key's log, which keeps its last `max` entries (none when `max` <= 0:
      the log is deleted). Fire-and-forget like saveState: the appends of one event-loop turn
      go out as one write, before any later write of the key; ignored when this node no longer
      owns the key. */
  appendLog(key: string, entry: string, max: number): void;
  /** Keep only the log's last `max` entries (delete it when `max` <= 0); same rules. */
  trimLog(key: string, max: number): void;
  /** Replace the whole log with `entries` (the last `max` of them); same rules. */
  replaceLog(key: string, entries: string[], max: number): void;
  /** The key's log, oldest entry first (the last writes of a dead owner may be missing). */
  loadLog(key: string): Promise<string[]>;
  /** Every listed key of the namespace with its label, whichever node owns it. */
  directory(): Promise<Map<string, string>>;
}
