// A test XMPP push app server (XEP-0357 §4 "App Server"): an XMPP entity on a real socket that
// records every pubsub publish it receives and answers it with a result, or with an
// item-not-found error for the nodes the test marks as failing.
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

export async function startAppServer(ts: TestServer): Promise<AppServer> {
  await ts.addUser('pushapp', 'pw');
  const c = await RawClient.connect(ts.port);
  const jid = await c.login('pushapp', 'pw', { resource: 'app' });
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
        ? `<iq type='error' id='${e.attr('id')}' to='${e.attr('from')}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`
        : `<iq type='result' id='${e.attr('id')}' to='${e.attr('from')}'/>`);
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
