// The privacy rules both protocols edit (XEP-0191 §5 "Relationship to Privacy Lists": one
// back-end store), and how a stanza is judged against them. Pure: no storage, no I/O except
// the roster lookup passed in for group and subscription items.
//
// A list is XEP-0016 §2.1's ordered items: type jid/group/subscription (or none: fall-through),
// value, action allow/deny, unique order, and optional stanza kinds (no kinds = every stanza,
// including presence subscriptions, which no kind covers). Evaluation (§2.2): items in
// ascending order, the first that matches decides; no match allows.
// JID matching (XEP-0016 §2.1, XEP-0191 §6): user@domain/resource only that resource;
// user@domain any resource; domain/resource only that resource of the domain itself; domain
// the domain and everything at it.
//
// The XEP-0191 blocklist is a VIEW of one list (named by the blocking module's `listName`
// option): its items of type jid, action deny and no stanza kinds. Blocking a JID adds such an
// item; unblocking removes it; a XEP-0016 client that adds or removes such an item in that
// list blocks or unblocks the JID for XEP-0191 clients too. Other items of that list (allow,
// group, subscription, per-kind) are kept and evaluated as privacy rules but are not part of
// the blocklist (XEP-0191 §5 item 3).

import { JID } from '@magpie/core/jid/jid';
import type { RosterItem } from '../im-services/services.js';

export type StanzaKind = 'message' | 'iq' | 'presence-in' | 'presence-out';
export const STANZA_KINDS: readonly StanzaKind[] = ['message', 'iq', 'presence-in', 'presence-out'];

/** One item as stored (JSON): absent fields are omitted, never undefined. */
export interface PrivacyItem {
  type?: 'jid' | 'group' | 'subscription';
  value?: string;
  action: 'allow' | 'deny';
  order: number;
  /** Stanza kinds the item applies to; absent or empty = all stanzas. */
  kinds?: StanzaKind[];
}

export interface PrivacyState {
  lists: Map<string, PrivacyItem[]>;
  default?: string;
}

/** An item ready for matching: the JID parsed once. */
export interface CompiledItem extends PrivacyItem { jid?: JID }

export function compile(items: readonly PrivacyItem[]): CompiledItem[] {
  return [...items].sort((a, b) => a.order - b.order).map((i) => {
    if (i.type !== 'jid') return { ...i };
    const jid = JID.tryParse(i.value);
    return jid ? { ...i, jid } : { ...i };
  });
}

export function jidMatches(item: JID, target: JID): boolean {
  if (item.local) {
    if (item.local !== target.local || item.domain !== target.domain) return false;
    return item.resource ? item.resource === target.resource : true;
  }
  if (item.resource) return target.local === '' && item.domain === target.domain && item.resource === target.resource;
  return item.domain === target.domain;
}

function appliesTo(item: PrivacyItem, kind: StanzaKind | undefined): boolean {
  if (!item.kinds || item.kinds.length === 0) return true;
  return kind !== undefined && item.kinds.includes(kind);
}

/** The roster item of the target's bare JID, fetched at most once per evaluation. */
export type ContactLookup = () => Promise<RosterItem | undefined>;

/**
 * The action of the first matching item, or undefined when none matches (allowed, §2.2).
 * `contact` resolves the roster item for group/subscription items: a JID without one has
 * subscription "none" and no groups (§2.1).
 */
export async function evaluate(items: readonly CompiledItem[], target: JID, kind: StanzaKind | undefined, contact: ContactLookup): Promise<'allow' | 'deny' | undefined> {
  for (const item of items) {
    if (!appliesTo(item, kind)) continue;
    let match: boolean;
    switch (item.type) {
      case undefined: match = true; break;
      case 'jid': match = item.jid !== undefined && jidMatches(item.jid, target); break;
      case 'group': match = (await contact())?.groups.includes(item.value ?? '') ?? false; break;
      case 'subscription': match = ((await contact())?.subscription ?? 'none') === item.value; break;
      default: match = false;
    }
    if (match) return item.action;
  }
  return undefined;
}

/** Is this item a blocklist entry (XEP-0191 view)? */
export function isBlockItem(i: PrivacyItem): boolean {
  return i.type === 'jid' && i.action === 'deny' && (!i.kinds || i.kinds.length === 0) && i.value !== undefined;
}

/** The blocklist view of a list: blocked JID strings in list order, without duplicates. */
export function blocklistOf(items: readonly PrivacyItem[] | undefined): string[] {
  if (!items) return [];
  return [...new Set([...items].sort((a, b) => a.order - b.order).filter(isBlockItem).map((i) => i.value!))];
}

const MAX_ORDER = 0xffffffff;

/**
 * Add block items for `jids` (normalised JID strings) that are not blocked yet, ahead of every
 * other item (XEP-0191 §5: blocked items SHOULD come first) without reordering the others.
 */
export function addBlocks(items: readonly PrivacyItem[], jids: readonly string[]): PrivacyItem[] | undefined {
  const have = new Set(blocklistOf(items));
  const fresh = [...new Set(jids)].filter((j) => !have.has(j));
  if (fresh.length === 0) return undefined;
  const n = fresh.length;
  let rest = [...items].sort((a, b) => a.order - b.order);
  let base = rest.length ? rest[0]!.order : 1;
  if (base < n) {
    // No room below the first item: shift everything up (renumbering compactly if that would
    // overflow unsignedInt), keeping the others' relative order.
    const top = rest.length ? rest[rest.length - 1]!.order + n : 0;
    rest = top > MAX_ORDER ? rest.map((i, k) => ({ ...i, order: n + k })) : rest.map((i) => ({ ...i, order: i.order + n }));
    base = n;
  }
  return [...fresh.map((value, k): PrivacyItem => ({ type: 'jid', value, action: 'deny', order: base - n + k })), ...rest];
}

/** Remove the block items for `jids` (or every block item); undefined when nothing changed. */
export function removeBlocks(items: readonly PrivacyItem[], jids: readonly string[] | 'all'): PrivacyItem[] | undefined {
  const drop = jids === 'all' ? undefined : new Set(jids);
  const out = items.filter((i) => !(isBlockItem(i) && (!drop || drop.has(i.value!))));
  return out.length === items.length ? undefined : out;
}
