// XEP-0227 1.1 (Portable Import/Export Format): the names shared by export and import, and the
// mapping between the file's SCRAM mechanisms (§2.3 "SCRAM credentials") and stored hashes.
// Where Magpie keeps each kind of user data (the stores of the feature modules) is named here
// once, so that the exporter and the importer cannot disagree about it.

import { NS } from '@magpie/core/protocol/namespaces';
import type { ScramHash } from '../accounts/accounts.js';

export const NS_PIE = 'urn:xmpp:pie:0';
export const NS_PIE_SCRAM = 'urn:xmpp:pie:0#scram';
export const NS_PIE_MAM = 'urn:xmpp:pie:0#mam';
export const NS_XINCLUDE = 'http://www.w3.org/2001/XInclude';
export const NS_ROSTER = NS.ROSTER;
export const NS_PRIVATE = 'jabber:iq:private';
export const NS_PRIVACY = 'jabber:iq:privacy';
export const NS_VCARD = 'vcard-temp';
export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_DATA = 'jabber:x:data';

/** The module stores (see each module's header comment for the shapes). */
export const STORES = {
  roster: 'roster', rosterPending: 'roster-pending', rosterVersion: 'roster',
  vcard: 'vcard', private: 'private', privacy: 'privacy',
  pubsubNodes: 'pubsub', pubsubItems: (node: string): string => `pubsub-items:${node}`,
  offline: 'offline', mam: 'mam',
} as const;

export const MECHANISM_OF: Readonly<Record<ScramHash, string>> = { 'SHA-1': 'SCRAM-SHA-1', 'SHA-256': 'SCRAM-SHA-256', 'SHA-512': 'SCRAM-SHA-512' };
export const HASH_OF: Readonly<Record<string, ScramHash>> = { 'SCRAM-SHA-1': 'SHA-1', 'SCRAM-SHA-256': 'SHA-256', 'SCRAM-SHA-512': 'SHA-512' };
export const KEY_BYTES: Readonly<Record<ScramHash, number>> = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-512': 64 };
