// XEP-0198 over XMPP-over-WebSocket (RFC 7395): enable with resumption, drop the WebSocket
// abruptly, let messages arrive while the session hibernates, resume on a new WebSocket.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { parseFragment } from '@magpie/core/xml/parser';
import type { Element } from '@magpie/core/xml/element';
import { createClientMechanism } from '@magpie/core/sasl/client';
import { startTestServer, type TestServer } from '../support/server.js';
import { login, chat, byId } from '../im/roster-helpers.js';
import { SM, isSm, sessionOf, waitFor } from './sm-helpers.js';

const FRAMING = 'urn:ietf:params:xml:ns:xmpp-framing';

class WsClient {
  elements: Element[] = [];
  private taken = new Set<Element>();
  private constructor(private ws: WebSocket) {
    ws.on('message', (d) => { try { this.elements.push(parseFragment(d.toString())); } catch { /* not one element */ } });
  }
  static open(url: string): Promise<WsClient> {
    return new Promise((res, rej) => {
      const ws = new WebSocket(url, ['xmpp']);
      ws.once('open', () => res(new WsClient(ws)));
      ws.once('error', rej);
    });
  }
  send(s: string): void { this.ws.send(s); }
  async take(pred: (e: Element) => boolean, what = 'element', ms = 8000): Promise<Element> {
    const end = Date.now() + ms;
    for (;;) {
      const e = this.elements.find((x) => !this.taken.has(x) && pred(x));
      if (e) { this.taken.add(e); return e; }
      if (Date.now() > end) throw new Error(`no ${what}; got ${this.elements.map(String).join('\n')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** Open, SCRAM-SHA-256, re-open: the post-authentication features. */
  async auth(user: string, password: string): Promise<Element> {
    this.send(`<open xmlns='${FRAMING}' to='localhost' version='1.0'/>`);
    await this.take((e) => e.name === 'features');
    const m = createClientMechanism('SCRAM-SHA-256', { username: user, password })!;
    const init = await m.initial();
    this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>${Buffer.from(init!).toString('base64')}</auth>`);
    for (;;) {
      const el = await this.take((e) => e.xmlns === 'urn:ietf:params:xml:ns:xmpp-sasl');
      if (el.name === 'challenge') {
        const r = await m.challenge(new Uint8Array(Buffer.from(el.text(), 'base64')));
        this.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${Buffer.from(r).toString('base64')}</response>`);
        continue;
      }
      assert.equal(el.name, 'success');
      break;
    }
    this.send(`<open xmlns='${FRAMING}' to='localhost' version='1.0'/>`);
    return this.take((e) => e.name === 'features');
  }
  terminate(): void { this.ws.terminate(); }
  close(): void { this.ws.close(); }
}

describe('XEP-0198 over WebSocket', () => {
  let ts: TestServer;
  before(async () => { ts = await startTestServer(); await ts.addUser('w', 'pw'); await ts.addUser('t', 'pw'); });
  after(async () => { await ts.stop(); });

  it('enables, hibernates when the WebSocket drops, and resumes with the missed messages', async () => {
    const w = await WsClient.open(ts.wsUrl);
    const features = await w.auth('w', 'pw');
    assert.ok(features.getChild('sm', SM));
    w.send(`<iq type='set' id='b' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>web</resource></bind></iq>`);
    await w.take((e) => e.attr('id') === 'b');
    w.send(`<enable xmlns='${SM}' resume='true'/>`);
    const enabled = await w.take(isSm('enabled'));
    assert.equal(enabled.attr('resume'), 'true');
    w.send(`<presence xmlns='jabber:client'/>`);
    const t = await login(ts, 't', 'pc');
    t.send(chat('w@localhost/web', 'w1'));
    await w.take(byId('w1'));
    w.send(`<a xmlns='${SM}' h='2'/>`); // own presence, w1
    w.terminate();
    const s = sessionOf(ts, 'w@localhost/web')!;
    await waitFor(() => s.suspended, 'suspended');
    t.send(chat('w@localhost/web', 'w2'));
    t.send(chat('w@localhost/web', 'w3'));

    const w2 = await WsClient.open(ts.wsUrl);
    await w2.auth('w', 'pw');
    w2.send(`<resume xmlns='${SM}' previd='${enabled.attr('id')}' h='2'/>`);
    const resumed = await w2.take(isSm('resumed'));
    assert.equal(resumed.attr('h'), '1', 'the presence');
    await w2.take(byId('w3'));
    assert.deepEqual(w2.elements.filter((e) => e.name === 'message').map((e) => e.attr('id')), ['w2', 'w3']);
    assert.equal(sessionOf(ts, 'w@localhost/web'), s);
    w2.send(`<message xmlns='jabber:client' to='t@localhost/pc' type='chat' id='reply'><body>hi</body></message>`);
    const reply = await (async () => { await t.until(() => t.elements.some(byId('reply'))); return t.elements.find(byId('reply'))!; })();
    assert.equal(reply.attr('from'), 'w@localhost/web');
    w2.close(); t.close();
  });
});
