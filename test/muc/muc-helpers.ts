// Helpers for the MUC scenarios (XEP-0045): a server with users, joining rooms and waiting for
// the self-presence (status 110) or the error presence, creating instant rooms, submitting
// configuration, and reading muc#user items and status codes.
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { iq, login, take } from '../im/roster-helpers.js';

export { iq, login, take, none, sleep, errorCondition, byId, noneSince } from '../im/roster-helpers.js';

export const MUC = 'http://jabber.org/protocol/muc';
export const MUC_USER = 'http://jabber.org/protocol/muc#user';
export const MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const SERVICE = 'conference.localhost';
export const USERS = ['alice', 'bob', 'carol', 'dave', 'eve'];

export async function startMuc(options: Record<string, unknown> = {}, dir?: string, extra: Record<string, unknown> = {}): Promise<TestServer> {
  const ts = await startTestServer({ modules: { options: { muc: options } }, ...extra }, dir ? { dir } : {});
  if (!dir) for (const u of USERS) await ts.addUser(u, 'pw');
  return ts;
}

export const roomJid = (room: string, nick?: string): string => `${room}@${SERVICE}${nick !== undefined ? '/' + nick : ''}`;

export const userX = (e: Element): Element | undefined => e.getChild('x', MUC_USER);
export const codes = (e: Element): number[] => (userX(e)?.getChildren('status', MUC_USER) ?? []).map((s) => Number(s.attr('code')));
export const itemOf = (e: Element): Element | undefined => userX(e)?.getChild('item', MUC_USER);

export const presenceFrom = (from: string, type?: string) => (e: Element): boolean =>
  e.name === 'presence' && e.attr('from') === from && e.attr('type') === type;

export interface JoinOpts { password?: string; history?: string; plain?: boolean; status?: string }

export function joinXml(room: string, nick: string, o: JoinOpts = {}): string {
  const x = o.plain ? '' : `<x xmlns='${MUC}'>${o.password !== undefined ? `<password>${o.password}</password>` : ''}${o.history ?? ''}</x>`;
  return `<presence to='${roomJid(room, nick)}'>${x}${o.status ? `<status>${o.status}</status>` : ''}</presence>`;
}

/** Join and take the self-presence (110); throws with the error presence when refused. */
export async function join(c: RawClient, room: string, nick: string, o: JoinOpts = {}): Promise<Element> {
  c.send(joinXml(room, nick, o));
  const p = await take(c, (e) => e.name === 'presence' && e.attr('from') === roomJid(room, nick) && (e.attr('type') === 'error' || codes(e).includes(110)), `self-presence in ${room} as ${nick}`);
  if (p.attr('type') === 'error') throw Object.assign(new Error('join refused: ' + p.toString()), { presence: p });
  return p;
}

/** Join expecting an error presence; returns its condition. */
export async function joinError(c: RawClient, room: string, nick: string, o: JoinOpts = {}): Promise<string | undefined> {
  c.send(joinXml(room, nick, o));
  const p = await take(c, (e) => e.name === 'presence' && e.attr('from') === roomJid(room, nick) && e.attr('type') === 'error', `error presence from ${room}/${nick}`);
  return p.getChild('error')?.elements().find((x) => x.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && x.name !== 'text')?.name;
}

export function fieldsXml(fields: Record<string, string | string[]>): string {
  return Object.entries(fields).map(([k, v]) => `<field var='${k}'>${(Array.isArray(v) ? v : [v]).map((x) => `<value>${x}</value>`).join('')}</field>`).join('');
}

/** Submit a configuration form (empty = instant room). */
export async function configure(c: RawClient, room: string, fields: Record<string, string | string[]> = {}): Promise<Element> {
  const hasFields = Object.keys(fields).length > 0;
  return iq(c, 'set', `<query xmlns='${MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'>${hasFields ? `<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>` : ''}${fieldsXml(fields)}</x></query>`, roomJid(room));
}

/** Create a room (201) and unlock it, configured with `fields`. Takes the subject message too. */
export async function createRoom(c: RawClient, room: string, nick: string, fields: Record<string, string | string[]> = {}): Promise<Element> {
  const p = await join(c, room, nick);
  assert.ok(codes(p).includes(201), 'a new room says 201: ' + p.toString());
  await take(c, (e) => e.name === 'message' && e.attr('from') === roomJid(room) && !!e.getChild('subject'), 'subject');
  const r = await configure(c, room, fields);
  assert.equal(r.attr('type'), 'result', r.toString());
  return p;
}

export const groupchat = (room: string, body: string, id = body): string => `<message to='${roomJid(room)}' type='groupchat' id='${id}'><body>${body}</body></message>`;

export const isGroupchat = (room: string, body: string) => (e: Element): boolean =>
  e.name === 'message' && e.attr('type') === 'groupchat' && e.attr('from')?.startsWith(roomJid(room) + '/') === true && e.getChildText('body') === body;

export async function users(ts: TestServer, names: string[]): Promise<RawClient[]> {
  return Promise.all(names.map((n) => login(ts, n, 'r1')));
}

export async function adminSet(c: RawClient, room: string, item: string): Promise<Element> {
  return iq(c, 'set', `<query xmlns='${MUC_ADMIN}'>${item}</query>`, roomJid(room));
}
