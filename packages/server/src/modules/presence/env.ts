// What the parts of the presence module share: the module API, the roster, the blocking check
// (the blocking module is optional and may load after this one, so it is looked up per call),
// and the presence of an account's available resources addressed to someone (RFC 6121 §4.3.2,
// §3.1.5, §3.2.2).

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import type { ModuleApi } from '../module.js';
import type { ClientSession } from '../../session/session.js';
import type { RosterItem } from '../im-services/services.js';
import type { RosterManager } from '../roster/roster-store.js';
import type { SubState } from './subscription-state.js';

export interface PresenceOptions {
  preApproval: boolean;
  maxDirected: number;
  maxPendingRequests: number;
}

export interface PresenceEnv {
  api: ModuleApi<PresenceOptions>;
  roster: RosterManager;
  /** The account's block list or privacy list stops presence between it and `jid` (the list
      that applies to `session`, one of its resources, when given; else the default list). */
  isBlocked(host: string, user: string, jid: string, kind: 'presence-in' | 'presence-out', session?: ClientSession): Promise<boolean>;
}

/** A copy of `el` addressed to `to`. */
export function addressed(el: Element, to: string, from?: string): Element {
  const c = el.clone();
  c.attrs.to = to;
  if (from !== undefined) c.attrs.from = from;
  return c;
}

export function presence(type: string | undefined, from: string, to?: string): Element {
  return xml('presence', NS.CLIENT, { type, from, to });
}

/** The last presence of each available resource of `bare`, from its full JID, to `to`. */
export function currentPresence(api: ModuleApi<unknown>, bare: string, to: string): Element[] {
  const out: Element[] = [];
  for (const s of api.sessions.resources(bare)) if (s.presence) out.push(addressed(s.presence, to, s.jid.toString()));
  return out;
}

/** Unavailable presence from each available resource of `bare` to `to`. */
export function unavailableFrom(api: ModuleApi<unknown>, bare: string, to: string): Element[] {
  const out: Element[] = [];
  for (const s of api.sessions.resources(bare)) if (s.presence) out.push(presence('unavailable', s.jid.toString(), to));
  return out;
}

export const hasFrom = (i: RosterItem | undefined): boolean => i?.subscription === 'from' || i?.subscription === 'both';
export const hasTo = (i: RosterItem | undefined): boolean => i?.subscription === 'to' || i?.subscription === 'both';

/** The Appendix A state of a contact from its roster item and stored request. */
export function stateOf(item: RosterItem | undefined, pendingIn: boolean): SubState {
  return {
    subscription: item?.subscription ?? 'none',
    pendingOut: item?.ask === 'subscribe',
    pendingIn,
    approved: item?.approved === true,
  };
}

/** The roster item that shows `state` (creating one for `jid` when there was none). */
export function itemOf(item: RosterItem | undefined, jid: string, state: SubState): RosterItem {
  const out: RosterItem = { jid, subscription: state.subscription, groups: item ? [...item.groups] : [] };
  if (item?.name !== undefined) out.name = item.name;
  if (state.pendingOut) out.ask = 'subscribe';
  if (state.approved) out.approved = true;
  return out;
}
