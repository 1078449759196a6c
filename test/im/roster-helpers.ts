// Helpers for the roster, presence and subscription scenarios: a server with the roster and
// presence modules, logged-in raw clients, roster requests, and a way to wait for an element
// without discarding the ones that arrived before it (RawClient.next skips over them).
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import roster from '@magpie/server/modules/roster/roster';
import presence from '@magpie/server/modules/presence/presence';
import type { MagpieModule } from '@magpie/server/modules/module';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';

export const NS_ROSTER = 'jabber:iq:roster';
export const IM_MODULES = [roster, presence] as MagpieModule[];

export function startIm(overrides: Record<string, unknown> = {}, dir?: string): Promise<TestServer> {
  return startTestServer(overrides, dir ? { modules: IM_MODULES, dir } : { modules: IM_MODULES });
}

/** Options for the roster/presence modules, as a server override. */
export const imOptions = (options: Record<string, Record<string, unknown>>) => ({ modules: { options } });

export async function login(ts: TestServer, user: string, resource: string, password = 'pw'): Promise<RawClient> {
  const c = await RawClient.connect(ts.port);
  await c.login(user, password, { resource });
  return c;
}

const taken = new WeakMap<RawClient, Set<Element>>();
const takenOf = (c: RawClient): Set<Element> => { let s = taken.get(c); if (!s) { s = new Set(); taken.set(c, s); } return s; };

/** The first element not taken yet that matches `pred` (waiting for it); it is then taken. */
export async function take(c: RawClient, pred: (e: Element) => boolean, what = 'element', ms = 5000): Promise<Element> {
  const t = takenOf(c);
  let found: Element | undefined;
  await c.until(() => { found = c.elements.find((e) => !t.has(e) && pred(e)); return found !== undefined; }, ms, what);
  t.add(found!);
  return found!;
}

/** Assert that nothing matching `pred` arrives (among elements not taken) within `ms`. */
export async function none(c: RawClient, pred: (e: Element) => boolean, what: string, ms = 300): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  const t = takenOf(c);
  const e = c.elements.find((x) => !t.has(x) && pred(x));
  assert.equal(e, undefined, `unexpected ${what}: ${e?.toString()}`);
}

let seq = 0;
/** Send an iq and take its answer. */
export async function iq(c: RawClient, type: 'get' | 'set', payload: string, to?: string): Promise<Element> {
  const id = `q${++seq}`;
  c.send(`<iq type='${type}' id='${id}'${to ? ` to='${to}'` : ''}>${payload}</iq>`);
  return take(c, (e) => e.name === 'iq' && e.attr('id') === id, `answer to ${id}`);
}

export const rosterGet = (c: RawClient, ver?: string, to?: string): Promise<Element> =>
  iq(c, 'get', `<query xmlns='${NS_ROSTER}'${ver !== undefined ? ` ver='${ver}'` : ''}/>`, to);

export function itemXml(jid: string, opts: { name?: string; groups?: string[]; extra?: string } = {}): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');
  return `<item jid='${esc(jid)}'${opts.name !== undefined ? ` name='${esc(opts.name)}'` : ''}${opts.extra ?? ''}>${(opts.groups ?? []).map((g) => `<group>${esc(g)}</group>`).join('')}</item>`;
}

export const rosterSet = (c: RawClient, item: string): Promise<Element> => iq(c, 'set', `<query xmlns='${NS_ROSTER}'>${item}</query>`);
export const rosterRemove = (c: RawClient, jid: string): Promise<Element> => rosterSet(c, `<item jid='${jid}' subscription='remove'/>`);

export interface ItemView { jid: string; name?: string; subscription?: string; ask?: string; approved?: string; groups: string[] }
export function itemView(el: Element): ItemView {
  const v: ItemView = { jid: el.attr('jid')!, groups: el.getChildren('group').map((g) => g.text()) };
  for (const k of ['name', 'subscription', 'ask', 'approved'] as const) { const a = el.attr(k); if (a !== undefined) v[k] = a; }
  return v;
}
export const items = (res: Element): ItemView[] => (res.getChild('query', NS_ROSTER)?.getChildren('item') ?? []).map(itemView);

/** Take the next roster push (for `jid` when given) and check where it came from. */
export async function push(c: RawClient, jid?: string, ms = 5000): Promise<ItemView & { ver?: string }> {
  const el = await take(c, (e) => e.name === 'iq' && e.attr('type') === 'set' && !!e.getChild('query', NS_ROSTER)
    && (jid === undefined || e.getChild('query', NS_ROSTER)!.getChild('item')?.attr('jid') === jid), `roster push${jid ? ' for ' + jid : ''}`, ms);
  const q = el.getChild('query', NS_ROSTER)!;
  const v: ItemView & { ver?: string } = itemView(q.getChild('item')!);
  const ver = q.attr('ver');
  if (ver !== undefined) v.ver = ver;
  // §2.1.6: a push comes from the account's bare JID, or has no 'from' (implicitly the same;
  // Prosody's pushes carry neither 'from' nor 'to').
  const to = el.attr('to');
  const from = el.attr('from');
  if (to !== undefined || from !== undefined) assert.equal(from, to?.slice(0, to.indexOf('/')), 'a roster push comes from the bare JID');
  return v;
}

export const isPresence = (type: string | undefined, from?: string) => (e: Element): boolean =>
  e.name === 'presence' && e.attr('type') === type && (from === undefined || e.attr('from') === from);

export function errorCondition(e: Element): string | undefined {
  const err = e.getChild('error');
  return err?.elements().find((x) => x.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && x.name !== 'text')?.name;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Send a presence and make sure the server has processed it (an iq round trip on the same
    stream: stanzas of one stream are processed in order, each to the end of its routing). */
export async function presenceSync(c: RawClient, xml: string): Promise<void> {
  c.send(xml);
  await iq(c, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
}

/** Give `a` and `b` a mutual ('both') subscription through the protocol, with clients that
    stay unavailable (so nothing but roster state is left behind). */
export async function befriend(ts: TestServer, a: string, b: string): Promise<void> {
  const ca = await login(ts, a, 'befriend');
  const cb = await login(ts, b, 'befriend');
  const A = `${a}@localhost`, B = `${b}@localhost`;
  await presenceSync(ca, `<presence to='${B}' type='subscribe'/>`);
  await presenceSync(cb, `<presence to='${A}' type='subscribed'/>`);
  await presenceSync(cb, `<presence to='${A}' type='subscribe'/>`);
  await presenceSync(ca, `<presence to='${B}' type='subscribed'/>`);
  const ra = items(await rosterGet(ca)).find((i) => i.jid === B);
  const rb = items(await rosterGet(cb)).find((i) => i.jid === A);
  assert.equal(ra?.subscription, 'both');
  assert.equal(rb?.subscription, 'both');
  ca.destroy(); cb.destroy();
  await sleep(100);
}

/** A chat message whose id is also its body unless a body is given. */
export const chat = (to: string, id: string, body = id): string => `<message to='${to}' type='chat' id='${id}'><body>${body}</body></message>`;
export const byId = (id: string) => (e: Element): boolean => e.attr('id') === id;
/** Assert that nothing matching `pred` arrived at `c` after element index `mark` (waiting `ms` first). */
export async function noneSince(c: RawClient, mark: number, pred: (e: Element) => boolean, what: string, ms = 300): Promise<void> {
  await sleep(ms);
  const e = c.elements.slice(mark).find(pred);
  assert.equal(e, undefined, `unexpected ${what}: ${e?.toString()}`);
}
