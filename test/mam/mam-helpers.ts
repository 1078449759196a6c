// Helpers for the MAM scenarios: a server whose 'mam' service is reachable from the test (a tiny
// probe module captures it), available clients, and a query that collects the result messages
// and the <fin/> of one MAM query.
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { defineModule, type MagpieModule } from '@magpie/server/modules/module';
import type { MamService } from '@magpie/server/modules/mam/archiver';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { iq, take } from '../im/roster-helpers.js';

export const MAM = 'urn:xmpp:mam:2';
export const RSM = 'http://jabber.org/protocol/rsm';
export const SID = 'urn:xmpp:sid:0';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

export interface MamServer extends TestServer { mam: MamService }

export async function startMam(overrides: Record<string, unknown> = {}): Promise<MamServer> {
  let svc: MamService | undefined;
  const probe = defineModule({
    manifest: { name: 'mam-probe', description: 'test probe', specs: [], depends: ['mam'], defaultEnabled: true },
    setup(api) { svc = api.service<MamService>('mam'); },
  });
  const ts = await startTestServer(overrides, { modules: [probe as MagpieModule] });
  assert.ok(svc, 'the mam service is provided');
  return Object.assign(ts, { mam: svc });
}

/** Logged in and available (so bare-JID messages are delivered, not stored offline). */
export async function online(ts: TestServer, user: string, resource = 'r'): Promise<RawClient> {
  const c = await RawClient.connect(ts.port);
  await c.login(user, 'pw', { resource });
  c.send('<presence/>');
  await iq(c, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
  return c;
}

/** A round trip through the server: every stanza this client sent before has been routed. */
export const barrier = (c: RawClient): Promise<Element> => iq(c, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');

export interface ResultItem { id: string; body: string | undefined; from?: string; to?: string; stamp?: string; message?: Element }
export interface QueryAnswer { items: ResultItem[]; iq: Element; complete: boolean; first?: string; firstIndex?: string; last?: string; count?: number }

export interface QueryOpts {
  with?: string; start?: string; end?: string; beforeId?: string; afterId?: string; ids?: string[];
  max?: number; after?: string; before?: string; index?: number; flip?: boolean; extraFields?: string; to?: string;
}

let qn = 0;
export function queryXml(o: QueryOpts, queryid: string): string {
  const f = (v: string, vals: string[]) => `<field var='${v}'>${vals.map((x) => `<value>${x}</value>`).join('')}</field>`;
  const fields = [
    o.with !== undefined && f('with', [o.with]), o.start !== undefined && f('start', [o.start]), o.end !== undefined && f('end', [o.end]),
    o.beforeId !== undefined && f('before-id', [o.beforeId]), o.afterId !== undefined && f('after-id', [o.afterId]),
    o.ids !== undefined && f('ids', o.ids), o.extraFields,
  ].filter(Boolean).join('');
  const form = fields ? `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${MAM}</value></field>${fields}</x>` : '';
  const rsmParts = [o.max !== undefined && `<max>${o.max}</max>`, o.after !== undefined && `<after>${o.after}</after>`,
    o.before !== undefined && (o.before === '' ? '<before/>' : `<before>${o.before}</before>`), o.index !== undefined && `<index>${o.index}</index>`].filter(Boolean).join('');
  const rsm = rsmParts ? `<set xmlns='${RSM}'>${rsmParts}</set>` : '';
  return `<query xmlns='${MAM}' queryid='${queryid}'>${form}${rsm}${o.flip ? '<flip-page/>' : ''}</query>`;
}

/** Runs one query; the answer iq may be an error (then items is empty). */
export async function mamQuery(c: RawClient, o: QueryOpts = {}): Promise<QueryAnswer> {
  const queryid = `f${++qn}`;
  const answer = await iq(c, 'set', queryXml(o, queryid), o.to);
  const msgs: Element[] = [];
  for (const e of c.elements) {
    if (e.name === 'message' && e.getChild('result', MAM)?.attr('queryid') === queryid) msgs.push(e);
  }
  const items = msgs.map((m): ResultItem => {
    const r = m.getChild('result', MAM)!;
    const fwd = r.getChild('forwarded', 'urn:xmpp:forward:0');
    const inner = fwd?.getChild('message', 'jabber:client');
    const out: ResultItem = { id: r.attr('id')!, body: inner?.getChildText('body') };
    if (inner?.attr('from') !== undefined) out.from = inner.attr('from')!;
    if (inner?.attr('to') !== undefined) out.to = inner.attr('to')!;
    const stamp = fwd?.getChild('delay', 'urn:xmpp:delay')?.attr('stamp');
    if (stamp !== undefined) out.stamp = stamp;
    if (inner) out.message = inner;
    return out;
  });
  const fin = answer.getChild('fin', MAM);
  const set = fin?.getChild('set', RSM);
  const res: QueryAnswer = { items, iq: answer, complete: fin?.attr('complete') === 'true' };
  const first = set?.getChild('first');
  if (first) { res.first = first.text(); if (first.attr('index') !== undefined) res.firstIndex = first.attr('index')!; }
  if (set?.getChild('last')) res.last = set.getChildText('last')!;
  if (set?.getChild('count')) res.count = Number(set.getChildText('count'));
  return res;
}

export function condition(e: Element): string | undefined {
  return e.getChild('error')?.elements().find((c) => c.xmlns === STANZAS && c.name !== 'text')?.name;
}

export const bodies = (a: QueryAnswer): (string | undefined)[] => a.items.map((i) => i.body);

/** Sends `n` chat messages a→to with bodies `${prefix}${i}` and waits for all to be routed. */
export async function sendMany(a: RawClient, to: string, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i++) a.send(`<message to='${to}' type='chat' id='${prefix}${i}'><body>${prefix}${i}</body></message>`);
  await barrier(a);
}

export { take };
