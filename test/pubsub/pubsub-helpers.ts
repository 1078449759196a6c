// Helpers for the PubSub/PEP scenarios: logged-in raw clients that announce entity
// capabilities (XEP-0115) with chosen '+notify' features and answer the server's disco#info
// verification query, pubsub requests, and event matchers.
import { createHash } from 'node:crypto';
import type { Element } from '@magpie/core/xml/element';
import type { TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { login, iq, take, presenceSync } from '../im/roster-helpers.js';

export const PUBSUB = 'http://jabber.org/protocol/pubsub';
export const OWNER = `${PUBSUB}#owner`;
export const EVENT = `${PUBSUB}#event`;
const CAPS = 'http://jabber.org/protocol/caps';
const INFO = 'http://jabber.org/protocol/disco#info';

/** XEP-0115 §5.1 for one identity and a list of features (no forms), written for the tests. */
export function capsVer(features: string[]): string {
  const byOctets = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  const s = 'client/pc//Test<' + [...new Set(features)].sort(byOctets).map((f) => f + '<').join('');
  return createHash('sha1').update(s, 'utf8').digest('base64');
}

/**
 * Send available presence with caps for `notify` (nodes, '+notify' appended) and answer the
 * server's disco#info query if it asks (it does not when the string is cached already). Returns
 * once the server has processed the presence.
 */
const verified = new WeakMap<TestServer, Set<string>>();
export async function available(ts: TestServer, c: RawClient, notify: string[], extra = ''): Promise<void> {
  const features = [INFO, CAPS, ...notify.map((n) => `${n}+notify`)];
  const ver = capsVer(features);
  let known = verified.get(ts);
  if (!known) { known = new Set(); verified.set(ts, known); }
  const seen = c.elements.length;
  c.send(`<presence><c xmlns='${CAPS}' hash='sha-1' node='https://magpie.test/client' ver='${ver}'/>${extra}</presence>`);
  // The server asks only for strings it has not verified yet; wait a little for the query.
  const deadline = Date.now() + 5000;
  while (!known.has(ver) && Date.now() < deadline) {
    const q = c.elements.slice(seen).find((e) => e.name === 'iq' && e.attr('type') === 'get' && e.getChild('query', INFO));
    if (q) {
      const node = q.getChild('query', INFO)!.attr('node')!;
      c.send(`<iq type='result' id='${q.attr('id')}' to='${q.attr('from')}'><query xmlns='${INFO}' node='${node}'><identity category='client' type='pc' name='Test'/>${features.map((f) => `<feature var='${f}'/>`).join('')}</query></iq>`);
      known.add(ver);
      break;
    }
    await new Promise((r) => setTimeout(r, 30));
  }
  // The answer is verified and stored after it arrives: a round trip and a pause cover that.
  await iq(c, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
  await new Promise((r) => setTimeout(r, 200));
}

/** A logged-in client, available with caps naming `notify` nodes (none: available without caps). */
export async function online(ts: TestServer, user: string, resource: string, notify: string[] = []): Promise<RawClient> {
  const c = await login(ts, user, resource);
  if (notify.length) await available(ts, c, notify);
  else await presenceSync(c, '<presence/>');
  return c;
}

export const pubsubIq = (c: RawClient, type: 'get' | 'set', body: string, to?: string, ns = PUBSUB): Promise<Element> =>
  iq(c, type, `<pubsub xmlns='${ns}'>${body}</pubsub>`, to);

export function publishOptions(fields: Record<string, string>): string {
  return `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#publish-options</value></field>${
    Object.entries(fields).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join('')}</x></publish-options>`;
}

export const publish = (c: RawClient, node: string, item: string, id?: string, options?: Record<string, string>, to?: string): Promise<Element> =>
  pubsubIq(c, 'set', `<publish node='${node}'><item${id ? ` id='${id}'` : ''}>${item}</item></publish>${options ? publishOptions(options) : ''}`, to);

/** An event notification about `node` (of the given kind: child of <event/>). */
export const isEvent = (node: string, kind = 'items', from?: string) => (e: Element): boolean => {
  if (e.name !== 'message') return false;
  const ev = e.getChild('event', EVENT);
  const child = ev?.elements()[0];
  return !!child && child.name === kind && child.attr('node') === node && (from === undefined || e.attr('from') === from);
};

export const takeEvent = (c: RawClient, node: string, kind = 'items', from?: string, ms = 5000): Promise<Element> => take(c, isEvent(node, kind, from), `${kind} event for ${node}`, ms);

export function appCondition(e: Element): string | undefined {
  return e.getChild('error')?.elements().find((x) => x.xmlns === `${PUBSUB}#errors`)?.name;
}
