// Services the instant-messaging modules offer each other through api.provide/api.service
// (RFC 6121). The roster module provides ROSTER; the blocking module provides BLOCKING; other
// modules consult them (presence broadcast skips blocked contacts, last activity and vCard
// answer only to authorised contacts, ...).

import type { ClientSession } from '../../session/session.js';

export type Subscription = 'none' | 'to' | 'from' | 'both';

/** One roster item as stored (RFC 6121 §2.1.2). `jid` is a bare JID string. */
export interface RosterItem {
  jid: string;
  name?: string;
  subscription: Subscription;
  /** Outbound subscription request pending (pending-out). */
  ask?: 'subscribe';
  /** Inbound subscription pre-approved (RFC 6121 §3.4). */
  approved?: boolean;
  groups: string[];
}

export const ROSTER = 'roster';
export interface RosterService {
  /** The user's roster item for a contact (bare JID string), if any. */
  get(host: string, user: string, contact: string): Promise<RosterItem | undefined>;
  all(host: string, user: string): Promise<RosterItem[]>;
  /** The contact may receive the user's presence (subscription 'from' or 'both'). */
  hasFrom(host: string, user: string, contact: string): Promise<boolean>;
  /** The user receives the contact's presence (subscription 'to' or 'both'). */
  hasTo(host: string, user: string, contact: string): Promise<boolean>;
}

export const BLOCKING = 'blocking';
export interface BlockingService {
  /** Communication between the user and `jid` (a full, bare or domain JID string) is blocked
      by the user's block list (XEP-0191) or privacy list (XEP-0016): the active list of
      `session` (one of the user's resources) if it has one, else the default list. */
  isBlocked(host: string, user: string, jid: string, kind?: 'message' | 'presence-in' | 'presence-out' | 'iq', session?: ClientSession): Promise<boolean>;
}
