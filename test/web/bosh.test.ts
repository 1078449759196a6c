// BOSH (XEP-0124, XEP-0206) over raw HTTP against a started server: session creation, SASL with
// stream restart, binding and chat with a TCP client, long polling, rid ordering and resending,
// terminal conditions, termination, inactivity and the configured limits.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { befriend, sleep } from '../im/roster-helpers.js';
import { BOSH, BoshClient, XBOSH, bodyXml, parseResponse, request } from './bosh-client.js';

const boshUrl = (ts: TestServer): string => `http://127.0.0.1:${ts.server.port('http')}/http-bind`;
const isMessage = (body: string) => (e: { name: string; getChildText(n: string): string | undefined }): boolean => e.name === 'message' && e.getChildText('body') === body;

describe('BOSH (XEP-0124 / XEP-0206)', () => {
  let ts: TestServer;
  let url: string;
  before(async () => {
    ts = await startTestServer({ http: { allowedOrigins: [], bosh: { maxWait: 60, inactivity: 30, polling: 2 } } });
    url = boshUrl(ts);
    for (const u of ['web', 'web2', 'web3', 'web4', 'tcp', 'friend', 'lost']) await ts.addUser(u, 'pw');
  });
  after(async () => { await ts.stop(); });

  it('creates a session: attributes negotiated down to the limits, features in the body, content type and CORS', async () => {
    const c = await BoshClient.create(url, { wait: 120, hold: 5, ver: '1.6' });
    const b = c.creation.body;
    assert.equal(c.creation.status, 200);
    assert.equal(c.creation.headers['content-type'], 'text/xml; charset=utf-8');
    assert.equal(c.creation.headers['access-control-allow-origin'], '*');
    assert.equal(b.xmlns, BOSH);
    assert.ok(b.attrs.sid && b.attrs.sid.length >= 20, 'an unpredictable sid');
    assert.equal(b.attrs.wait, '60', 'wait capped at maxWait');
    assert.equal(b.attrs.hold, '1', 'hold capped at maxHold');
    assert.equal(b.attrs.requests, '2');
    assert.equal(b.attrs.inactivity, '30');
    assert.equal(b.attrs.polling, '2');
    assert.equal(b.attrs.maxpause, '120');
    assert.equal(b.attrs.ver, '1.6', 'the lower of the two versions');
    assert.equal(b.attrs.from, 'localhost');
    assert.equal(b.attrs[`{${XBOSH}}version`], '1.0');
    assert.equal(b.attrs[`{${XBOSH}}restartlogic`], 'true');
    assert.match(c.creation.text, /<stream:features>/, 'features with the stream prefix declared on <body/>');
    const features = b.getChild('features', 'http://etherx.jabber.org/streams')!;
    const mechs = features.getChild('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl')!.getChildren('mechanism').map((m) => m.text());
    assert.ok(mechs.includes('PLAIN') && mechs.includes('SCRAM-SHA-256'));
    assert.ok(!mechs.some((m) => m.endsWith('-PLUS')), 'no channel binding: requests use several TLS connections');
    assert.equal(features.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls'), undefined);
    const low = await BoshClient.create(url, { wait: 7, ver: '1.20', content: 'text/html; charset=utf-8' });
    assert.equal(low.creation.body.attrs.wait, '7');
    assert.equal(low.creation.body.attrs.ver, '1.11');
    assert.equal(low.creation.headers['content-type'], 'text/html; charset=utf-8', "the 'content' attribute sets the response type");
    await c.send({ type: 'terminate' });
    await low.send({ type: 'terminate' });
  });

  for (const mechanism of ['PLAIN', 'SCRAM-SHA-256']) {
    it(`logs in with ${mechanism}, restarts, binds and chats with a TCP client`, async () => {
      const tcp = await RawClient.connect(ts.port);
      await tcp.login('tcp', 'pw', { resource: 'desk' });
      const c = await BoshClient.create(url);
      assert.equal(await c.login('web', 'pw', mechanism, `b-${mechanism}`), `web@localhost/b-${mechanism}`);
      assert.equal(ts.server.sessions.get(`web@localhost/b-${mechanism}`)?.secure, false);
      // Like a real client, the request carrying the message stays held and brings back the reply.
      const sent = c.send({}, `<message to='tcp@localhost/desk' type='chat' xmlns='jabber:client'><body>hello from bosh</body></message>`);
      const m = await tcp.next(isMessage('hello from bosh'));
      assert.equal(m.attr('from'), `web@localhost/b-${mechanism}`);
      tcp.send(`<message to='web@localhost/b-${mechanism}' type='chat'><body>hello from tcp</body></message>`);
      await sent;
      const back = await c.next(isMessage('hello from tcp'));
      assert.equal(back.attrs.from, 'tcp@localhost/desk');
      assert.equal(back.xmlns, 'jabber:client');
      // Unqualified stanzas (httpbind namespace) are read as jabber:client (XEP-0206 §2 note).
      const held = c.send({}, `<message to='tcp@localhost/desk' type='chat'><body>unqualified</body></message>`);
      await tcp.next(isMessage('unqualified'));
      // Terminating with a request held: the oldest gets type='terminate', the other an empty body.
      const [oldest, last] = await Promise.all([held, c.send({ type: 'terminate' })]);
      assert.equal(oldest.body.attrs.type, 'terminate');
      assert.equal(last.body.attrs.type, undefined);
      tcp.destroy();
    });
  }

  it('long polling: a held request returns as soon as a stanza arrives, and empty at `wait`', async () => {
    const tcp = await RawClient.connect(ts.port);
    await tcp.login('tcp', 'pw', { resource: 'poll' });
    const c = await BoshClient.create(url, { wait: 2 });
    await c.login('web2', 'pw', 'PLAIN', 'poll');
    let t0 = Date.now();
    const empty = await c.send();
    const waited = Date.now() - t0;
    assert.equal(empty.payloads.length, 0);
    assert.equal(empty.body.attrs.type, undefined);
    assert.ok(waited >= 1800 && waited < 6000, `empty response after about wait=2s, took ${waited} ms`);
    t0 = Date.now();
    const held = c.send();
    await sleep(300);
    tcp.send(`<message to='web2@localhost/poll' type='chat'><body>wake up</body></message>`);
    const r = await held;
    const took = Date.now() - t0;
    assert.ok(r.payloads.some(isMessage('wake up')), r.text);
    assert.ok(took < 1800, `answered when the message arrived, not at wait (${took} ms)`);
    await c.send({ type: 'terminate' });
    tcp.destroy();
  });

  it('processes out-of-order requests in rid order, resends a lost response, and ends on a rid outside the window', async () => {
    const tcp = await RawClient.connect(ts.port);
    await tcp.login('tcp', 'pw', { resource: 'order' });
    const c = await BoshClient.create(url, { wait: 2 });
    await c.login('web3', 'pw', 'PLAIN', 'order');
    const r1 = c.rid, r2 = c.rid + 1;
    c.rid += 2;
    const msg = (body: string): string => `<message to='tcp@localhost/order' type='chat' xmlns='jabber:client'><body>${body}</body></message>`;
    const second = c.send({}, msg('second'), r2);
    await sleep(300);
    assert.equal(tcp.elements.some(isMessage('second')), false, 'rid+2 waits for rid+1');
    const first = c.send({}, msg('first'), r1);
    await tcp.next(isMessage('first'));
    await tcp.next(isMessage('second'));
    const bodies = tcp.elements.filter((e) => e.name === 'message').map((e) => e.getChildText('body'));
    assert.deepEqual(bodies.slice(-2), ['first', 'second']);
    await Promise.all([first, second]);
    // A lost response: the same rid again gets the buffered copy.
    const ping = await c.send({}, `<iq type='get' id='p1' to='localhost' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`);
    assert.ok(ping.payloads.some((e) => e.name === 'iq' && e.attrs.id === 'p1' && e.attrs.type === 'result'), ping.text);
    const again = await c.send({}, `<iq type='get' id='p1' to='localhost' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>`, c.rid - 1);
    assert.equal(again.text, ping.text);
    // Beyond the window (requests=2): item-not-found, and the session is gone.
    const far = await c.send({}, '', c.rid + 5);
    assert.equal(far.status, 200, "a client that sent 'ver' reads the condition, not the status");
    assert.equal(far.body.attrs.type, 'terminate');
    assert.equal(far.body.attrs.condition, 'item-not-found');
    const after = await c.send();
    assert.equal(after.status, 404);
    assert.equal(after.body.attrs.condition, 'item-not-found');
    await tcp.until(() => !ts.server.sessions.get('web3@localhost/order'), 5000, 'XMPP session ended');
    tcp.destroy();
  });

  it('answers bad requests: unknown sid, bad XML, wrong root, GET, preflight, addressing', async () => {
    const unknown = parseResponse(await request(url, bodyXml({ rid: 5, sid: 'nosuchsessionnosuchsession' })));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.attrs.type, 'terminate');
    assert.equal(unknown.body.attrs.condition, 'item-not-found');
    const bad = parseResponse(await request(url, `<body xmlns='${BOSH}' rid='1'><unclosed></body>`));
    assert.equal(bad.status, 400);
    assert.equal(bad.body.attrs.condition, 'bad-request');
    const root = parseResponse(await request(url, `<stream xmlns='${BOSH}' rid='1' to='localhost'/>`));
    assert.equal(root.body.attrs.condition, 'bad-request');
    const norid = parseResponse(await request(url, `<body xmlns='${BOSH}' to='localhost' ver='1.6'/>`));
    assert.equal(norid.body.attrs.condition, 'bad-request');
    const get = await request(url, undefined, 'GET');
    assert.equal(get.status, 405);
    assert.match(String(get.headers.allow), /POST/);
    const pre = await request(url, undefined, 'OPTIONS', { origin: 'https://app.example', 'access-control-request-method': 'POST' });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], '*');
    assert.match(String(pre.headers['access-control-allow-methods']), /POST/);
    const noTo = parseResponse(await request(url, bodyXml({ rid: 1, ver: '1.6' })));
    assert.equal(noTo.status, 200);
    assert.equal(noTo.body.attrs.condition, 'improper-addressing');
    const otherHost = parseResponse(await request(url, bodyXml({ rid: 1, ver: '1.6', to: 'elsewhere.example' })));
    assert.equal(otherHost.body.attrs.condition, 'host-unknown');
    // Bad XML inside a live session ends that session.
    const c = await BoshClient.create(url);
    const broken = await request(url, `<body xmlns='${BOSH}' rid='${c.rid++}' sid='${c.sid}'><message>`);
    assert.equal(broken.status, 400);
    const gone = await c.send();
    assert.equal(gone.body.attrs.condition, 'item-not-found');
  });

  it('maps a stream error into a remote-stream-error terminate body; a restart before SASL is a bad request', async () => {
    const c = await BoshClient.create(url);
    const r = await c.send({}, `<message to='tcp@localhost' xmlns='jabber:client'><body>too early</body></message>`);
    assert.equal(r.body.attrs.type, 'terminate');
    assert.equal(r.body.attrs.condition, 'remote-stream-error');
    const err = r.body.getChild('error', 'http://etherx.jabber.org/streams');
    assert.ok(err?.getChild('not-authorized', 'urn:ietf:params:xml:ns:xmpp-streams'), r.text);
    assert.match(r.text, /xmlns:stream=/);
    const d = await BoshClient.create(url);
    const restart = await d.send({ 'xmpp:restart': 'true', to: 'localhost' });
    assert.equal(restart.body.attrs.condition, 'bad-request');
  });

  it('terminate: payloads are processed first, then the session ends and contacts see it go', async () => {
    await befriend(ts, 'friend', 'web4');
    const friend = await RawClient.connect(ts.port);
    await friend.login('friend', 'pw', { resource: 'f' });
    friend.send(`<presence/>`);
    const c = await BoshClient.create(url);
    await c.login('web4', 'pw', 'PLAIN', 'term');
    await c.send({}, `<presence xmlns='jabber:client'/>`);
    await friend.next((e) => e.name === 'presence' && e.attr('from') === 'web4@localhost/term' && e.attr('type') === undefined);
    const bye = await c.send({ type: 'terminate' }, `<presence type='unavailable' xmlns='jabber:client'><status>bye now</status></presence>`);
    assert.equal(bye.status, 200);
    assert.equal(bye.body.attrs.type, 'terminate');
    const gone = await friend.next((e) => e.name === 'presence' && e.attr('from') === 'web4@localhost/term' && e.attr('type') === 'unavailable');
    assert.equal(gone.getChildText('status'), 'bye now', 'the presence inside the terminate request was delivered');
    assert.equal(ts.server.sessions.get('web4@localhost/term'), undefined);
    const after = await c.send();
    assert.equal(after.body.attrs.condition, 'item-not-found');
    friend.destroy();
  });

  it('too-frequent polling is a policy violation', async () => {
    const c = await BoshClient.create(url);
    const first = c.send();
    await sleep(100);
    const second = await c.send();
    assert.equal(second.body.attrs.type, 'terminate');
    assert.equal(second.body.attrs.condition, 'policy-violation');
    const r1 = await first;
    assert.equal(r1.body.attrs.type, 'terminate', 'the other held request learns of the end too');
    assert.equal((await c.send()).body.attrs.condition, 'item-not-found');
  });

  it('a legacy client (no ver) gets HTTP status codes', async () => {
    const c = await BoshClient.create(url, { ver: '' });
    const far = await c.send({}, '', c.rid + 10);
    assert.equal(far.status, 404);
  });
});

describe('BOSH inactivity', () => {
  let ts: TestServer;
  let url: string;
  before(async () => {
    ts = await startTestServer({ http: { bosh: { inactivity: 1 } } });
    url = boshUrl(ts);
    for (const u of ['idle', 'watch', 'sleeper']) await ts.addUser(u, 'pw');
  });
  after(async () => { await ts.stop(); });

  it('inactivity ends the session and the XMPP session (contacts see unavailable)', async () => {
    await befriend(ts, 'watch', 'idle');
    const watch = await RawClient.connect(ts.port);
    await watch.login('watch', 'pw', { resource: 'w' });
    watch.send('<presence/>');
    const c = await BoshClient.create(url, { wait: 1 });
    assert.equal(c.creation.body.attrs.inactivity, '1');
    await c.login('idle', 'pw', 'PLAIN', 'i');
    await c.send({}, `<presence xmlns='jabber:client'/>`);
    await watch.next((e) => e.name === 'presence' && e.attr('from') === 'idle@localhost/i' && e.attr('type') === undefined);
    // No more requests: after `inactivity` the session is over.
    const gone = await watch.next((e) => e.name === 'presence' && e.attr('from') === 'idle@localhost/i' && e.attr('type') === 'unavailable', 8000);
    assert.ok(gone);
    assert.equal(ts.server.sessions.get('idle@localhost/i'), undefined);
    assert.equal((await c.send()).body.attrs.condition, 'item-not-found');
    watch.destroy();
  });

  it('a message the client never fetched before the session died goes to offline storage (XEP-0206 §8)', async () => {
    const c = await BoshClient.create(url, { wait: 1 });
    await c.login('sleeper', 'pw', 'PLAIN', 's');
    await c.send({}, `<presence xmlns='jabber:client'/>`);
    // The client stops polling; a message arrives for its resource and waits in the session.
    const watch = await RawClient.connect(ts.port);
    await watch.login('watch', 'pw', { resource: 'w2' });
    await sleep(200);
    watch.send(`<message to='sleeper@localhost/s' type='chat' id='late'><body>are you there?</body></message>`);
    for (let i = 0; i < 80 && ts.server.sessions.get('sleeper@localhost/s'); i++) await sleep(100);
    assert.equal(ts.server.sessions.get('sleeper@localhost/s'), undefined, 'the BOSH session ended');
    const back = await RawClient.connect(ts.port);
    await back.login('sleeper', 'pw', { resource: 'tcp' });
    back.send('<presence/>');
    const m = await back.next((e) => e.name === 'message' && e.attr('id') === 'late', 8000);
    assert.equal(m.getChildText('body'), 'are you there?');
    assert.ok(m.getChild('delay', 'urn:xmpp:delay'), 'delivered from offline storage with a delay');
    assert.ok(!watch.elements.some((e) => e.name === 'message' && e.attr('type') === 'error'), 'no bounce to the sender');
    watch.destroy(); back.destroy();
  });

  it('a pause (XEP-0124 §10) answers held requests at once and replaces the inactivity period until the next request', async () => {
    const c = await BoshClient.create(url, { wait: 20 });
    assert.equal(c.creation.body.attrs.maxpause, '120');
    const held = c.send();
    await sleep(100);
    const t0 = Date.now();
    const pause = await c.send({ pause: 3 });
    const r = await held;
    assert.ok(Date.now() - t0 < 2000, 'the held request was answered at once');
    assert.equal(r.body.attrs.type, undefined);
    assert.equal(pause.payloads.length, 0);
    await sleep(2000); // twice the inactivity period, within the pause
    const back = await c.send({ pause: 1 });
    assert.notEqual(back.body.attrs.type, 'terminate', 'still alive within the pause: ' + back.text);
    // A shorter pause is also honoured: past it, the session is over.
    await sleep(2500);
    assert.equal((await c.send()).body.attrs.condition, 'item-not-found');
  });

  it('a request ahead of a rid that never comes does not keep the session alive', async () => {
    const c = await BoshClient.create(url, { wait: 20 });
    const orphan = await c.send({}, '', c.rid + 1);
    assert.equal(orphan.body.attrs.type, 'terminate', 'answered when the session timed out');
    assert.equal((await c.send()).body.attrs.condition, 'item-not-found');
  });

});

describe('BOSH limits', () => {
  let ts: TestServer;
  let url: string;
  before(async () => {
    ts = await startTestServer({ http: { bosh: { maxSessionsPerAddress: 2, maxRequestBytes: 2048 } }, limits: { maxOutboundBuffer: 65536 } });
    url = boshUrl(ts);
    for (const u of ['slow', 'tcp']) await ts.addUser(u, 'pw');
  });
  after(async () => { await ts.stop(); });

  it('limits BOSH sessions per address', async () => {
    await sleep(100);
    const a = await BoshClient.create(url);
    const b = await BoshClient.create(url);
    await assert.rejects(BoshClient.create(url), /policy-violation/);
    const legacy = parseResponse(await request(url, bodyXml({ rid: 9, to: 'localhost' })));
    assert.equal(legacy.status, 403, 'legacy clients get 403 for policy-violation');
    await a.send({ type: 'terminate' });
    await sleep(50);
    const c = await BoshClient.create(url);
    await b.send({ type: 'terminate' });
    await c.send({ type: 'terminate' });
  });

  it('a client that stops fetching is cut off at limits.maxOutboundBuffer', async () => {
    const tcp = await RawClient.connect(ts.port);
    await tcp.login('tcp', 'pw', { resource: 'flood' });
    const c = await BoshClient.create(url);
    await c.login('slow', 'pw', 'PLAIN', 'slow');
    // No request held: everything queues in the session until the limit (64 KiB here).
    const chunk = 'y'.repeat(8000);
    for (let i = 0; i < 12; i++) tcp.send(`<message to='slow@localhost/slow' type='chat'><body>${chunk}</body></message>`);
    await tcp.until(() => !ts.server.sessions.get('slow@localhost/slow'), 5000, 'the slow session to be closed');
    const r = await c.send();
    assert.equal(r.body.attrs.type, 'terminate');
    if (r.body.attrs.condition === 'remote-stream-error') {
      assert.ok(r.body.getChild('error', 'http://etherx.jabber.org/streams')?.getChild('policy-violation', 'urn:ietf:params:xml:ns:xmpp-streams'), r.text);
      assert.ok(r.text.length < 8000, 'the backlog is dropped, the error delivered');
    } else assert.equal(r.body.attrs.condition, 'item-not-found', 'or the session is already gone');
    tcp.destroy();
  });

  it('an oversized request body is refused and ends its session', async () => {
    const c = await BoshClient.create(url);
    const big = `<message to='x@localhost' xmlns='jabber:client'><body>${'x'.repeat(4000)}</body></message>`;
    const r = await request(url, bodyXml({ rid: c.rid++, sid: c.sid }, big));
    assert.equal(r.status, 413);
    assert.match(r.text, /condition='policy-violation'/);
    assert.equal((await c.send()).body.attrs.condition, 'item-not-found');
  });
});

describe('BOSH origins', () => {
  let ts: TestServer;
  let url: string;
  before(async () => { ts = await startTestServer({ http: { allowedOrigins: ['https://good.example'] } }); url = boshUrl(ts); });
  after(async () => { await ts.stop(); });

  it('answers allowed origins with their own CORS header and refuses the others', async () => {
    const create = bodyXml({ rid: 1, to: 'localhost', ver: '1.6', wait: 5 });
    const good = await request(url, create, 'POST', { origin: 'https://good.example' });
    assert.equal(good.status, 200);
    assert.equal(good.headers['access-control-allow-origin'], 'https://good.example');
    assert.match(String(good.headers.vary), /Origin/);
    const evil = await request(url, create, 'POST', { origin: 'https://evil.example' });
    assert.equal(evil.status, 403);
    assert.equal(evil.headers['access-control-allow-origin'], undefined);
    const pre = await request(url, undefined, 'OPTIONS', { origin: 'https://evil.example' });
    assert.equal(pre.status, 403);
    const sid = parseResponse(good).body.attrs.sid!;
    await request(url, bodyXml({ rid: 2, sid, type: 'terminate' }), 'POST', { origin: 'https://good.example' });
  });
});
