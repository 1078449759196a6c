// Helpers for the XEP-0198 scenarios: raw clients that authenticate without binding (to
// resume), enable stream management, and inspect a session's state on the server.
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import type { ClientSession } from '@magpie/server/session/session';
import type { TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { take, sleep } from '../im/roster-helpers.js';

export const SM = 'urn:xmpp:sm:3';
export const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const isSm = (name: string) => (e: Element): boolean => e.name === name && e.xmlns === SM;

/** Authenticate on a new connection and return the post-SASL features (no bind). */
export async function authOnly(ts: TestServer, user: string, password = 'pw'): Promise<{ c: RawClient; features: Element }> {
  const c = await RawClient.connect(ts.port);
  c.open();
  await c.next((e) => e.name === 'features');
  const r = await c.auth('SCRAM-SHA-256', user, password);
  assert.equal(r.name, 'success');
  c.restartParser();
  c.open();
  const features = await c.next((e) => e.name === 'features');
  return { c, features };
}

export async function bind(c: RawClient, resource: string): Promise<string> {
  c.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
  const res = await take(c, (e) => e.name === 'iq' && e.attr('id') === 'bind1', 'bind result');
  const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';
  const jid = res.getChild('bind', NS_BIND)?.getChildText('jid', NS_BIND);
  assert.ok(jid, 'bound: ' + res.toString());
  return jid;
}

/** Log in, bind, enable SM (resumable when asked) and send available presence. */
export async function smLogin(ts: TestServer, user: string, resource: string, opts: { resume?: boolean; max?: number; presence?: boolean } = {}): Promise<{ c: RawClient; jid: string; enabled: Element }> {
  const { c } = await authOnly(ts, user);
  const jid = await bind(c, resource);
  c.send(`<enable xmlns='${SM}'${opts.resume ? ` resume='true'` : ''}${opts.max ? ` max='${opts.max}'` : ''}/>`);
  const enabled = await take(c, (e) => e.xmlns === SM && (e.name === 'enabled' || e.name === 'failed'), 'enabled');
  assert.equal(enabled.name, 'enabled', enabled.toString());
  if (opts.presence !== false) c.send(`<presence/>`);
  return { c, jid, enabled };
}

/** Ask for an ack and return the server's h. */
export async function serverH(c: RawClient): Promise<number> {
  const before = c.elements.length;
  c.send(`<r xmlns='${SM}'/>`);
  await c.until(() => c.elements.slice(before).some(isSm('a')), 5000, '<a/>');
  return Number(c.elements.slice(before).find(isSm('a'))!.attr('h'));
}

/** How many stanzas (message/presence/iq) the client has received so far. */
export const stanzaCount = (c: RawClient): number => c.elements.filter((e) => e.name === 'message' || e.name === 'presence' || e.name === 'iq').length;

export function sessionOf(ts: TestServer, jid: string): ClientSession | undefined { return ts.server.sessions.get(jid); }

export async function waitFor(pred: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error('timed out waiting for ' + what); await sleep(20); }
}

export function streamErrorCondition(c: RawClient): string | undefined {
  const err = c.elements.find((e) => e.name === 'error' && e.xmlns === 'http://etherx.jabber.org/streams');
  return err?.elements().find((x) => x.xmlns === 'urn:ietf:params:xml:ns:xmpp-streams' && x.name !== 'text')?.name;
}
