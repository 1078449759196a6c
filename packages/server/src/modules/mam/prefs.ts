// Archiving preferences (XEP-0441 0.2.0, split out of earlier XEP-0313 versions; still the
// <prefs xmlns='urn:xmpp:mam:2'/> element): a default
// behaviour ('always', 'never', or 'roster': only contacts in the roster) and two JID lists that
// override it, 'never' winning over 'always' when a JID is in both. Stored per user in the kv
// store 'mam-prefs'. A list entry matches a peer by its bare JID, or exactly by a full JID.

import { JID } from '@magpie/core/jid/jid';
import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { NS_MAM } from './policy.js';

export type DefaultPolicy = 'always' | 'never' | 'roster';
export interface Prefs { default: DefaultPolicy; always: string[]; never: string[] }

const POLICIES = new Set<string>(['always', 'never', 'roster']);

export function prefsXml(p: Prefs): Element {
  const list = (name: string, jids: string[]) => xml(name, NS_MAM, {}, ...jids.map((j) => xml('jid', NS_MAM, {}, j)));
  return xml('prefs', NS_MAM, { default: p.default }, list('always', p.always), list('never', p.never));
}

/** Reads a <prefs/> set; bad-request for an unknown default or a malformed JID. */
export function parsePrefs(el: Element, maxJids: number): Prefs {
  const def = el.attrs.default;
  if (def === undefined || !POLICIES.has(def)) throw new StanzaError('bad-request', "default must be 'always', 'never' or 'roster'");
  const list = (name: string): string[] => {
    const out = new Set<string>();
    for (const holder of el.getChildren(name, NS_MAM)) {
      for (const j of holder.getChildren('jid', NS_MAM)) {
        const jid = JID.tryParse(j.text().trim());
        if (!jid) throw new StanzaError('bad-request', `malformed JID in <${name}/>`);
        out.add(jid.toString());
      }
    }
    if (out.size > maxJids) throw new StanzaError('policy-violation', `at most ${maxJids} JIDs per list`);
    return [...out];
  };
  return { default: def as DefaultPolicy, always: list('always'), never: list('never') };
}

/** Whether a message with `peer` is archived; `inRoster` is asked only when the default needs it. */
export async function shouldArchive(p: Prefs, peer: JID, inRoster: () => Promise<boolean>): Promise<boolean> {
  const hit = (list: string[]): boolean => list.includes(peer.bareString()) || (!peer.isBare && list.includes(peer.toString()));
  if (hit(p.never)) return false;
  if (hit(p.always)) return true;
  if (p.default === 'always') return true;
  if (p.default === 'never') return false;
  return inRoster();
}
