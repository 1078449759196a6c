// A test XMPP push app server (XEP-0357 §4 "App Server"): an external component (XEP-0114) on a
// real socket, as app servers are usually deployed, that records every pubsub publish it
// receives and answers it with a result, or with an item-not-found error for the nodes the test
// marks as failing.
import { createHash } from 'node:crypto';
import type { Element } from '@magpie/core/xml/element';
import type { TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';

export interface AppServer {
  jid: string;
  publishes: Element[];
  failNodes: Set<string>;
  nextPublish(ms?: number): Promise<Element>;
  close(): Promise<void>;
}

export const APP_DOMAIN = 'push.localhost';
export const APP_SECRET = 'app-server-secret';

/** Listeners and components for a test server that an app server can connect to. */
export const appServerConfig = {
  listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }, { type: 'component', address: '127.0.0.1', port: 0 }],
  components: [{ domain: APP_DOMAIN, secret: APP_SECRET }],
};

export async function startAppServer(ts: TestServer): Promise<AppServer> {
  const c = await RawClient.connect(ts.server.port('component'));
  c.send(`<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='${APP_DOMAIN}'>`);
  await c.until(() => c.header !== undefined, 5000, 'component stream header');
  c.send(`<handshake>${createHash('sha1').update(c.header!.id + APP_SECRET).digest('hex')}</handshake>`);
  await c.next((e) => e.name === 'handshake');
  const jid = APP_DOMAIN;
  const publishes: Element[] = [];
  const failNodes = new Set<string>();
  let taken = 0;
  let seen = 0;
  const answer = (): void => {
    for (; seen < c.elements.length; seen++) {
      const e = c.elements[seen]!;
      const publish = e.name === 'iq' && e.attr('type') === 'set' ? e.getChild('pubsub', 'http://jabber.org/protocol/pubsub')?.getChild('publish') : undefined;
      if (!publish) continue;
      publishes.push(e);
      const fail = failNodes.has(publish.attr('node') ?? '');
      c.send(fail
        ? `<iq type='error' id='${e.attr('id')}' from='${jid}' to='${e.attr('from')}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`
        : `<iq type='result' id='${e.attr('id')}' from='${jid}' to='${e.attr('from')}'/>`);
    }
  };
  const timer = setInterval(answer, 10);
  return {
    jid, publishes, failNodes,
    async nextPublish(ms = 5000) {
      await c.until(() => { answer(); return publishes.length > taken; }, ms, 'a push publish');
      return publishes[taken++]!;
    },
    async close() { clearInterval(timer); c.destroy(); },
  };
}
