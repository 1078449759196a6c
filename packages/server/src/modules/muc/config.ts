// Room configuration (XEP-0045 §10.2, the muc#roomconfig FORM_TYPE of §15.5.3) and the room
// features and muc#roominfo form that disco#info on a room shows (§6.4, §15.5.4).

import type { Element } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { form, formValues, parseBool, type FieldSpec } from './forms.js';

export const NS_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';
export const NS_ROOMINFO = 'http://jabber.org/protocol/muc#roominfo';

export type AllowPm = 'anyone' | 'participants' | 'moderators' | 'none';
export type Role = 'moderator' | 'participant' | 'visitor' | 'none';

export interface RoomConfig {
  name: string;
  description: string;
  persistent: boolean;
  public: boolean;
  passwordProtected: boolean;
  password: string;
  membersOnly: boolean;
  moderated: boolean;
  whois: 'moderators' | 'anyone';
  maxUsers: number;
  changeSubject: boolean;
  allowInvites: boolean;
  allowPm: AllowPm;
  /** Roles allowed to retrieve the member list. */
  getMemberList: Role[];
  historyLength: number;
  logging: boolean;
  /** §7.10: users without an affiliation may register (and so become members) even though the
      room is members-only or moderated, where membership is worth something (entry, voice). */
  registration: boolean;
}

/** Bounds the service options put on what an owner may configure. */
export interface ConfigLimits { defaultMaxUsers: number; maxUsersLimit: number; defaultHistory: number; maxHistory: number; allowLogging: boolean; registration: boolean }

export function defaultConfig(l: ConfigLimits, name: string): RoomConfig {
  return {
    name, description: '', persistent: false, public: true, passwordProtected: false, password: '',
    membersOnly: false, moderated: false, whois: 'moderators', maxUsers: l.defaultMaxUsers,
    changeSubject: false, allowInvites: false, allowPm: 'anyone', getMemberList: ['moderator', 'participant'],
    historyLength: l.defaultHistory, logging: false, registration: false,
  };
}

export const FIELD_REGISTRATION = 'x-magpie#roomconfig_registration';

const b = (v: boolean): string => (v ? '1' : '0');
const ROLES: Role[] = ['moderator', 'participant', 'visitor'];

export function configForm(c: RoomConfig, l: ConfigLimits): Element {
  const fields: FieldSpec[] = [
    { var: 'muc#roomconfig_roomname', type: 'text-single', label: 'Natural-language room name', values: [c.name] },
    { var: 'muc#roomconfig_roomdesc', type: 'text-single', label: 'Short description of room', values: [c.description] },
    { var: 'muc#roomconfig_persistentroom', type: 'boolean', label: 'Make room persistent', values: [b(c.persistent)] },
    { var: 'muc#roomconfig_publicroom', type: 'boolean', label: 'Make room publicly searchable', values: [b(c.public)] },
    { var: 'muc#roomconfig_passwordprotectedroom', type: 'boolean', label: 'Password required to enter', values: [b(c.passwordProtected)] },
    { var: 'muc#roomconfig_roomsecret', type: 'text-private', label: 'Password', values: [c.password] },
    { var: 'muc#roomconfig_membersonly', type: 'boolean', label: 'Make room members-only', values: [b(c.membersOnly)] },
    { var: 'muc#roomconfig_moderatedroom', type: 'boolean', label: 'Make room moderated', values: [b(c.moderated)] },
    { var: 'muc#roomconfig_whois', type: 'list-single', label: 'Who may discover real JIDs', values: [c.whois],
      options: [{ value: 'moderators', label: 'Moderators only' }, { value: 'anyone', label: 'Anyone' }] },
    { var: 'muc#roomconfig_maxusers', type: 'list-single', label: `Maximum number of occupants (up to ${l.maxUsersLimit})`, values: [String(c.maxUsers)],
      options: [...new Set([10, 20, 50, 100, 200, 500, 1000, l.defaultMaxUsers, l.maxUsersLimit])].filter((n) => n <= l.maxUsersLimit).sort((x, y) => x - y).map((n) => ({ value: String(n) })) },
    { var: 'muc#roomconfig_changesubject', type: 'boolean', label: 'Allow occupants to change the subject', values: [b(c.changeSubject)] },
    { var: 'muc#roomconfig_allowinvites', type: 'boolean', label: 'Allow occupants to invite others', values: [b(c.allowInvites)] },
    { var: 'muc#roomconfig_allowpm', type: 'list-single', label: 'Who may send private messages', values: [c.allowPm],
      options: ['anyone', 'participants', 'moderators', 'none'].map((value) => ({ value })) },
    { var: 'muc#roomconfig_getmemberlist', type: 'list-multi', label: 'Roles that may retrieve the member list', values: c.getMemberList,
      options: ROLES.map((value) => ({ value })) },
    { var: 'muc#roomconfig_historylength', type: 'text-single', label: `Messages of history sent on join (at most ${l.maxHistory})`, values: [String(c.historyLength)] },
  ];
  if (l.allowLogging) fields.push({ var: 'muc#roomconfig_enablelogging', type: 'boolean', label: 'Enable public logging (room archive)', values: [b(c.logging)] });
  // Not a registered muc#roomconfig field, hence the x- prefix (XEP-0068 field naming).
  if (l.registration) fields.push({ var: FIELD_REGISTRATION, type: 'boolean', label: 'Let users without an affiliation register with a members-only or moderated room (registration makes them members)', values: [b(c.registration)] });
  return form('form', NS_ROOMCONFIG, fields, 'Room configuration');
}

const bad = (what: string): StanzaError => new StanzaError('not-acceptable', `invalid value for ${what}`);

/** Apply a submitted muc#roomconfig form to a copy of `c`; unknown fields are ignored (§10.2). */
export function applyConfigForm(c: RoomConfig, x: Element, l: ConfigLimits): RoomConfig {
  const v = formValues(x);
  const ft = v.get('FORM_TYPE')?.[0];
  if (ft !== undefined && ft !== NS_ROOMCONFIG) throw new StanzaError('bad-request', 'not a muc#roomconfig form');
  const out: RoomConfig = { ...c, getMemberList: [...c.getMemberList] };
  const one = (k: string): string | undefined => v.get(k)?.[0];
  const bool = (k: string, set: (x: boolean) => void): void => {
    if (!v.has(k)) return;
    const r = parseBool(one(k));
    if (r === undefined) throw bad(k);
    set(r);
  };
  if (v.has('muc#roomconfig_roomname')) out.name = (one('muc#roomconfig_roomname') ?? '').slice(0, 200);
  if (v.has('muc#roomconfig_roomdesc')) out.description = (one('muc#roomconfig_roomdesc') ?? '').slice(0, 2000);
  bool('muc#roomconfig_persistentroom', (x) => { out.persistent = x; });
  bool('muc#roomconfig_publicroom', (x) => { out.public = x; });
  bool('muc#roomconfig_passwordprotectedroom', (x) => { out.passwordProtected = x; });
  if (v.has('muc#roomconfig_roomsecret')) out.password = (one('muc#roomconfig_roomsecret') ?? '').slice(0, 256);
  bool('muc#roomconfig_membersonly', (x) => { out.membersOnly = x; });
  bool('muc#roomconfig_moderatedroom', (x) => { out.moderated = x; });
  if (v.has('muc#roomconfig_whois')) {
    const w = one('muc#roomconfig_whois');
    if (w !== 'moderators' && w !== 'anyone') throw bad('muc#roomconfig_whois');
    out.whois = w;
  }
  if (v.has('muc#roomconfig_maxusers')) {
    const s = one('muc#roomconfig_maxusers') ?? '';
    const n = s === 'none' ? l.maxUsersLimit : Number(s);
    if (!Number.isInteger(n) || n < 1 || n > l.maxUsersLimit) throw bad('muc#roomconfig_maxusers');
    out.maxUsers = n;
  }
  bool('muc#roomconfig_changesubject', (x) => { out.changeSubject = x; });
  bool('muc#roomconfig_allowinvites', (x) => { out.allowInvites = x; });
  if (v.has('muc#roomconfig_allowpm')) {
    const p = one('muc#roomconfig_allowpm');
    if (p !== 'anyone' && p !== 'participants' && p !== 'moderators' && p !== 'none') throw bad('muc#roomconfig_allowpm');
    out.allowPm = p;
  }
  if (v.has('muc#roomconfig_getmemberlist')) {
    const roles = v.get('muc#roomconfig_getmemberlist')!;
    if (roles.some((r) => !ROLES.includes(r as Role))) throw bad('muc#roomconfig_getmemberlist');
    out.getMemberList = roles as Role[];
  }
  if (v.has('muc#roomconfig_historylength')) {
    const n = Number(one('muc#roomconfig_historylength'));
    if (!Number.isInteger(n) || n < 0) throw bad('muc#roomconfig_historylength');
    out.historyLength = Math.min(n, l.maxHistory);
  }
  if (v.has('muc#roomconfig_enablelogging')) {
    bool('muc#roomconfig_enablelogging', (x) => { out.logging = x && l.allowLogging; });
  }
  if (l.registration) bool(FIELD_REGISTRATION, (x) => { out.registration = x; });
  if (out.passwordProtected && !out.password) throw new StanzaError('not-acceptable', 'a password-protected room needs muc#roomconfig_roomsecret');
  if (!out.passwordProtected) out.password = '';
  return out;
}

/** The disco#info features of a room (§6.4, §15.6.3). */
export function roomFeatures(c: RoomConfig): string[] {
  return [
    'http://jabber.org/protocol/muc', 'urn:xmpp:occupant-id:0', 'http://jabber.org/protocol/muc#request', 'http://jabber.org/protocol/muc#self-ping-optimization',
    c.persistent ? 'muc_persistent' : 'muc_temporary',
    c.public ? 'muc_public' : 'muc_hidden',
    c.passwordProtected ? 'muc_passwordprotected' : 'muc_unsecured',
    c.membersOnly ? 'muc_membersonly' : 'muc_open',
    c.moderated ? 'muc_moderated' : 'muc_unmoderated',
    c.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous',
  ];
}

export function roomInfoForm(c: RoomConfig, occupants: number, subject: string): Element {
  const fields: FieldSpec[] = [
    { var: 'muc#roominfo_description', label: 'Description', values: [c.description] },
    { var: 'muc#roominfo_occupants', label: 'Number of occupants', values: [String(occupants)] },
    { var: 'muc#roominfo_subject', label: 'Subject', values: [subject] },
    { var: 'muc#roominfo_subjectmod', type: 'boolean', label: 'Occupants may change the subject', values: [b(c.changeSubject)] },
    { var: 'muc#roomconfig_maxusers', label: 'Maximum number of occupants', values: [String(c.maxUsers)] },
    { var: 'muc#roomconfig_allowpm', label: 'Who may send private messages', values: [c.allowPm] },
    { var: 'muc#roominfo_logs', label: 'Logging', values: [c.logging ? 'archive' : ''] },
  ];
  return form('result', NS_ROOMINFO, fields.filter((f) => f.var !== 'muc#roominfo_logs' || c.logging));
}
