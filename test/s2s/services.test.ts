// Service domains across federation: a user of another server reaches this server's internal
// services (upload.<host>, served by a module) and external components (XEP-0114) over s2s,
// and the answers travel back; a peer may not claim one of those domains as its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { take } from '../im/roster-helpers.js';
import { condition, loginAt, route, startFederated } from './federation-helpers.js';

const T = 20_000;
const SECRET = 'component-secret';

describe('service and component domains are reachable from other servers', () => {
  let A: TestServer; let B: TestServer; let comp: RawClient;
  before(async () => {
    A = await startTestServer({
      hosts: [{ domain: 'a.localhost' }],
      listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }, { type: 's2s', address: '127.0.0.1', port: 0 }, { type: 'component', address: '127.0.0.1', port: 0 }],
      components: [{ domain: 'bot.a.localhost', secret: SECRET }],
      s2s: { enabled: true, systemCas: false, authTimeout: 20 },
    } as never);
    B = await startFederated('b.localhost');
    route(A, B); route(B, A);
    // In DNS each service domain has its own SRV records; here, static routes to A's s2s port.
    for (const d of ['upload.a.localhost', 'bot.a.localhost']) B.server.config.s2s.routes[d] = B.server.config.s2s.routes['a.localhost']!;
    await B.addUser('bob', 'pw');
    comp = await RawClient.connect(A.server.port('component'));
    comp.send(`<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='bot.a.localhost'>`);
    await comp.until(() => comp.header !== undefined, 5000, 'component header');
    comp.send(`<handshake>${createHash('sha1').update(comp.header!.id + SECRET).digest('hex')}</handshake>`);
    await comp.next((e) => e.name === 'handshake');
  });
  after(async () => { comp?.destroy(); await A?.stop(); await B?.stop(); });

  it('a remote user queries a module\'s service domain and talks with a component', async () => {
    const bob = await loginAt(B, 'bob', 'r1');
    try {
      bob.send(`<iq type='get' id='d1' to='upload.a.localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      const info = await take(bob, (e) => e.attr('id') === 'd1', 'disco answer from upload.a.localhost', T);
      assert.equal(info.attr('type'), 'result', 'answered over s2s');
      assert.equal(info.attr('from'), 'upload.a.localhost');
      bob.send(`<iq type='get' id='d2' to='upload.a.localhost'><request xmlns='urn:xmpp:http:upload:0' filename='a.png' size='10'/></iq>`);
      assert.equal(condition(await take(bob, (e) => e.attr('id') === 'd2', 'slot answer', T)), 'forbidden', 'uploads are for the server\'s own users');

      bob.send(`<message to='bot.a.localhost' id='c1' type='chat'><body>hello bot</body></message>`);
      const got = await comp.next((e) => e.name === 'message' && e.attr('id') === 'c1', T);
      assert.equal(got.attr('from'), 'bob@b.localhost/r1');
      comp.send(`<message from='bot.a.localhost' to='bob@b.localhost/r1' id='c2' type='chat'><body>hello bob</body></message>`);
      const back = await take(bob, (e) => e.name === 'message' && e.attr('id') === 'c2', 'the component\'s answer over s2s', T);
      assert.equal(back.attr('from'), 'bot.a.localhost');
    } finally { bob.destroy(); }
  });
});
