// Reliability of @magpie/client against a started Magpie: XEP-0198 resumption after the server
// drops the connection (nothing lost, nothing duplicated, the queue sent while away delivered),
// fallback to a new session when resumption is impossible, and reconnection with backoff after
// a whole server restart with the outgoing queue flushed.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { nodeConnector, xml, type Client, type OnlineInfo, type Status } from '@magpie/client/node';
import { startTestServer, type TestServer } from '../support/server.js';
import { clientFor, nextMessage, sleep, waitEvent, type Via } from './helpers.js';

const chat = (to: string, body: string, id: string) => xml('message', 'jabber:client', { to, type: 'chat', id }, xml('body', 'jabber:client', {}, body));

/** Destroy the server side of a client's connection, as a network failure would. */
function dropServerSide(ts: TestServer, jid: string): void {
  const s = ts.server.sessions.get(jid) as unknown as { currentStream: { transport: { destroy(): void } } } | undefined;
  assert.ok(s, 'session of ' + jid);
  s.currentStream.transport.destroy();
}

function onlineOnce(c: Client): Promise<OnlineInfo> {
  return waitEvent('online', (done) => { const off = c.on('online', (i) => { off(); done(i); }); }, 15000);
}

describe('client reliability', () => {
  let ts: TestServer;
  const clients: Client[] = [];
  before(async () => {
    ts = await startTestServer();
    for (const u of ['alice', 'bob', 'carol', 'dave']) await ts.addUser(u, 'pw');
  });
  after(async () => { for (const c of clients) await c.stop(); await ts.stop(); });

  for (const via of ['starttls', 'ws'] as Via[]) {
    it(`resumes over ${via} after a server-side drop: same JID, the message sent meanwhile arrives once, the queue is flushed`, async () => {
      const alice = clientFor(ts, 'alice', via, { resource: 'phone-' + via, reconnect: { initial: 400, max: 400, jitter: 0 } });
      const bob = clientFor(ts, 'bob', 'starttls', { resource: 'pc-' + via });
      clients.push(alice, bob);
      const jid = await alice.start();
      await bob.start();
      assert.ok(alice.sm.resumable, 'resumption enabled');
      const got: string[] = [];
      alice.on('message', (m) => got.push(m.getChildText('body') ?? ''));
      bob.send(chat(jid, 'before', 'b0'));
      await waitEvent('before', (done) => { const t = setInterval(() => { if (got.includes('before')) { clearInterval(t); done(null); } }, 10); });
      const statuses: Status[] = [];
      alice.on('status', (s) => statuses.push(s));
      const resumed = onlineOnce(alice);
      dropServerSide(ts, jid);
      await waitEvent('reconnecting', (done) => { if (alice.status === 'reconnecting') done(null); else alice.once('reconnecting', () => done(null)); });
      // While alice is away: bob writes to her, she writes to bob (queued locally).
      bob.send(chat(jid, 'meanwhile', 'b1'));
      const atBob = nextMessage(bob, (m) => m.getChildText('body') === 'from the queue');
      alice.send(chat(bob.jid!.toString(), 'from the queue', 'a1'));
      assert.equal(alice.queued, 1);
      const info = await resumed;
      assert.equal(info.resumed, true, 'resumed, not a new session');
      assert.equal(info.jid, jid);
      await atBob;
      await sleep(300);
      assert.deepEqual(got, ['before', 'meanwhile'], 'each message exactly once');
      assert.deepEqual(statuses, ['reconnecting', 'online']);
      assert.equal(alice.queued, 0);
      await alice.stop(); await bob.stop();
    });
  }

  it('keepalive detects a silent dead connection (no FIN, no data) and resumes on a new one', async () => {
    // A TCP relay whose existing connections can be frozen: bytes stop flowing both ways, as
    // when a NAT forgets the mapping; only the keepalive probe can notice.
    const frozen = new Set<net.Socket>();
    const live: net.Socket[] = [];
    const relay = net.createServer((down) => {
      const up = net.connect(ts.port, '127.0.0.1');
      live.push(down);
      down.on('data', (d) => { if (!frozen.has(down)) up.write(d); });
      up.on('data', (d) => { if (!frozen.has(down)) down.write(d); });
      const end = (): void => { up.destroy(); down.destroy(); };
      down.on('close', end); up.on('close', end); down.on('error', end); up.on('error', end);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const port = (relay.address() as net.AddressInfo).port;
    try {
      const c = clientFor(ts, 'carol', 'starttls', { service: `xmpp://127.0.0.1:${port}`, resource: 'ka', keepalive: 1, reconnect: { initial: 50, max: 50 } });
      clients.push(c);
      const jid = await c.start();
      const resumed = onlineOnce(c);
      const t0 = Date.now();
      for (const s of live) frozen.add(s);
      const info = await resumed;
      assert.equal(info.resumed, true);
      assert.equal(info.jid, jid);
      const took = Date.now() - t0;
      assert.ok(took >= 1000 && took < 10000, `detected after ${took} ms`);
      await c.stop();
    } finally { relay.close(); for (const s of live) s.destroy(); }
  });

  it('a stream error is typed; conflict (replaced by a new login) stops the client instead of fighting back', async () => {
    const first = clientFor(ts, 'dave', 'starttls', { resource: 'same' });
    const second = clientFor(ts, 'dave', 'ws', { resource: 'same' });
    clients.push(first, second);
    await first.start();
    const errs: string[] = [];
    first.on('stream-error', (e) => errs.push(e.condition));
    const offline = waitEvent<Error | undefined>('offline', (done) => first.once('offline', done));
    await second.start();
    const err = await offline;
    assert.deepEqual(errs, ['conflict']);
    assert.equal((err as { condition?: string }).condition, 'conflict');
    assert.equal(first.status, 'offline');
    await sleep(300);
    assert.equal(first.status, 'offline', 'no reconnection loop');
    assert.equal(second.status, 'online');
    await second.stop();
  });

  it('falls back to a new session when resumption fails, resending unacknowledged messages', async () => {
    const carol = clientFor(ts, 'carol', 'starttls', { resource: 'c', reconnect: { initial: 50, max: 50 }, sm: { ackEvery: 1000 } });
    const dave = clientFor(ts, 'dave', 'starttls', { resource: 'd' });
    clients.push(carol, dave);
    const jid = await carol.start();
    await dave.start();
    dave.send(xml('presence', 'jabber:client'));
    // Make the server forget the session: resumption id no longer valid.
    (carol.sm as unknown as { id: string }).id = 'not-a-valid-resumption-id';
    const online = onlineOnce(carol);
    let resumeFailed = false;
    carol.on('element', (el) => { if (el.name === 'failed' && el.xmlns === 'urn:xmpp:sm:3') resumeFailed = true; });
    const bodies: string[] = [];
    dave.on('message', (m) => bodies.push(m.getChildText('body') ?? ''));
    dropServerSide(ts, jid);
    // Written before carol notices the drop: it goes into a dead socket and stays unacknowledged.
    assert.equal(carol.status, 'online');
    carol.send(chat(dave.jid!.toString(), 'unacked', 'u1'));
    assert.equal(carol.sm.pending.length > 0, true);
    const info = await online;
    assert.equal(resumeFailed, true, 'resumption was tried and failed');
    assert.equal(info.resumed, false, 'a new session');
    assert.equal(carol.status, 'online');
    await waitEvent('resent message', (done) => { const t = setInterval(() => { if (bodies.includes('unacked')) { clearInterval(t); done(null); } }, 10); });
    await sleep(200);
    assert.deepEqual(bodies, ['unacked'], 'resent once in the new session');
    await carol.stop(); await dave.stop();
  });

  it('reconnects with backoff after a server restart and flushes what was sent while it was down', async () => {
    const dir = (await import('node:fs')).mkdtempSync((await import('node:path')).join((await import('node:os')).tmpdir(), 'magpie-client-restart-'));
    let srv = await startTestServer({}, { dir });
    await srv.addUser('erin', 'pw');
    await srv.addUser('frank', 'pw');
    let port = srv.port;
    const connect: Parameters<typeof clientFor>[3] = { connect: (ctx) => nodeConnector({ service: `xmpp://127.0.0.1:${port}`, tls: { rejectUnauthorized: false } })(ctx) };
    const erin = clientFor(srv, 'erin', 'starttls', { ...connect, resource: 'e', reconnect: { initial: 100, max: 400 } });
    const frank = clientFor(srv, 'frank', 'starttls', { ...connect, resource: 'f', reconnect: { initial: 100, max: 400 } });
    clients.push(erin, frank);
    frank.on('online', () => frank.send(xml('presence', 'jabber:client')));
    await erin.start(); await frank.start();
    const delays: number[] = [];
    erin.on('reconnecting', (r) => delays.push(r.delay));
    await srv.stop(true);
    await waitEvent('erin reconnecting', (done) => { if (erin.status === 'reconnecting') done(null); else erin.once('reconnecting', () => done(null)); });
    erin.send(chat('frank@localhost', 'sent while the server was down', 'q1'));
    await sleep(700); // a few failed attempts against the closed port
    assert.ok(delays.length >= 2, 'several attempts: ' + delays.join(','));
    assert.ok(delays.every((d) => d <= 400), 'capped');
    srv = await startTestServer({}, { dir });
    port = srv.port;
    try {
      const atFrank = nextMessage(frank, (m) => m.getChildText('body') === 'sent while the server was down', 20000);
      const [e] = await Promise.all([onlineOnce(erin), onlineOnce(frank)]);
      assert.equal(e.resumed, false);
      await atFrank;
      assert.equal(erin.queued, 0);
    } finally {
      await erin.stop(); await frank.stop();
      await srv.stop();
    }
  });
});
