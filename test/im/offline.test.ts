// Offline messages (XEP-0160, XEP-0203) end to end: stored across a server restart on SQLite and
// PostgreSQL, delivered in order with delay stamps exactly once, quota, what is not stored,
// negative priority, a session closing in the middle of delivery, and slixmpp as the receiver.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { pgTestUrl } from '../support/postgres.js';
import type { Element } from '@magpie/core/xml/element';
import offline from '@magpie/server/modules/offline/offline';
import { IM_MODULES } from './roster-helpers.js';
import type { MagpieModule } from '@magpie/server/modules/module';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const DELAY = 'urn:xmpp:delay';
const modules = [...IM_MODULES, offline] as MagpieModule[];
const cond = (e: Element): string | undefined => e.getChild('error')?.elements().find((c) => c.xmlns === STANZAS && c.name !== 'text')?.name;
const isMsg = (e: Element) => e.name === 'message' && e.attr('type') !== 'error';
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function login(ts: TestServer, user: string, resource: string): Promise<RawClient> {
  const c = await RawClient.connect(ts.port);
  await c.login(user, 'pw', { resource });
  return c;
}

/** Waits until the stored queue of `user` is empty (the delete follows the write). */
async function drained(ts: TestServer, user: string): Promise<void> {
  const end = Date.now() + 20000;
  while ((await ts.server.storage.archive.count('localhost', user, 'offline')) !== 0) {
    if (Date.now() > end) throw new Error('offline queue not drained');
    await pause(20);
  }
}

async function restartScenario(overrides: Record<string, unknown>): Promise<void> {
  let ts = await startTestServer(overrides, { modules });
  try {
    await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
    const a = await login(ts, 'alice', 'a');
    const t0 = Date.now();
    a.send(`<message to='bob@localhost' type='chat' id='m1'><body>one</body></message>`);
    a.send(`<message to='bob@localhost' id='m2'><body>two</body></message>`);
    a.send(`<message to='bob@localhost/gone' type='normal' id='m3'><body>three</body></message>`);
    a.send(`<message to='bob@localhost' type='headline' id='h'><body>not stored</body></message>`);
    a.send(`<message to='bob@localhost' type='chat' id='m4'><body>four &amp; &lt;more&gt;</body><delay xmlns='${DELAY}' from='localhost' stamp='1999-01-01T00:00:00Z'/></message>`);
    // A ping round trip orders after the messages: all of them have been routed by then.
    a.send(`<iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await a.next((e) => e.attr('id') === 'p1');
    await pause(100);
    assert.ok(!a.elements.some((e) => e.attr('type') === 'error'), 'nothing was bounced: ' + a.text.slice(-500));
    assert.equal(await ts.server.storage.archive.count('localhost', 'bob', 'offline'), 4);
    const t1 = Date.now();
    a.destroy();
    const dir = ts.dir;
    await ts.stop(true);
    ts = await startTestServer({ ...overrides }, { modules, dir });

    const b = await login(ts, 'bob', 'phone');
    await pause(150);
    assert.equal(b.elements.filter(isMsg).length, 0, 'nothing is delivered before initial presence');
    b.send(`<presence/>`);
    const got: Element[] = [];
    for (let i = 0; i < 4; i++) got.push(await b.next(isMsg));
    assert.deepEqual(got.map((m) => m.getChildText('body')), ['one', 'two', 'three', 'four & <more>']);
    assert.deepEqual(got.map((m) => m.attr('id')), ['m1', 'm2', 'm3', 'm4']);
    let last = 0;
    for (const m of got) {
      assert.equal(m.attr('from'), 'alice@localhost/a');
      const delays = m.getChildren('delay', DELAY);
      assert.equal(delays.length, 1, 'one delay, ours (the forged one from our domain is removed)');
      assert.equal(delays[0]!.attr('from'), 'localhost');
      const stamp = delays[0]!.attr('stamp')!;
      assert.match(stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'XEP-0082 UTC DateTime');
      const ms = Date.parse(stamp);
      assert.ok(ms >= t0 - 1000 && ms <= t1 + 1000, `stamp ${stamp} is the original receive time`);
      assert.ok(ms >= last, 'stamps in order'); last = ms;
    }
    await drained(ts, 'bob');
    await pause(200);
    assert.equal(b.elements.filter(isMsg).length, 4, 'each message exactly once, no headline');
    b.destroy();

    const b2 = await login(ts, 'bob', 'laptop');
    b2.send(`<presence/>`);
    await pause(400);
    assert.equal(b2.elements.filter(isMsg).length, 0, 'a second login gets nothing');
    b2.destroy();
  } finally {
    await ts.stop();
  }
}

async function closeDuringDelivery(overrides: Record<string, unknown>): Promise<void> {
    const N = 300;
    const ts = await startTestServer({ ...overrides, modules: { disabled: ['mam'], options: { offline: { batchSize: 5 } } } }, { modules }); // the archive's own writes would only slow the queue-filling down
    try {
      await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
      const a = await login(ts, 'alice', 'a');
      for (let i = 0; i < N; i++) a.send(`<message to='bob@localhost' type='chat'><body>${i}</body></message>`);
      a.send(`<iq type='get' id='p5' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await a.next((e) => e.attr('id') === 'p5', 20000);
      const end = Date.now() + 20000;
      while ((await ts.server.storage.archive.count('localhost', 'bob', 'offline')) < N && Date.now() < end) await pause(20);
      const b = await login(ts, 'bob', 'b');
      b.send(`<presence/>`);
      await b.next(isMsg);
      b.send(`</stream:stream>`); // graceful: everything written before the close still arrives
      await b.waitClosed();
      const first = b.elements.filter(isMsg).map((m) => Number(m.getChildText('body')));
      assert.ok(first.length < N, `the close landed during delivery (got ${first.length} of ${N})`);
      const b2 = await login(ts, 'bob', 'b2');
      b2.send(`<presence/>`);
      await b2.until(() => b2.elements.filter(isMsg).length >= N - first.length, 10000, 'the rest');
      await drained(ts, 'bob');
      await pause(200);
      const second = b2.elements.filter(isMsg).map((m) => Number(m.getChildText('body')));
      assert.deepEqual([...first, ...second], Array.from({ length: N }, (_, i) => i), 'all, in order, none twice');
      a.destroy(); b2.destroy();
    } finally { await ts.stop(); }
}

async function twoResources(overrides: Record<string, unknown>): Promise<void> {
    const N = 120;
    const ts = await startTestServer({ ...overrides, modules: { disabled: ['mam'], options: { offline: { batchSize: 7 } } } }, { modules });
    try {
      await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
      const a = await login(ts, 'alice', 'a');
      for (let i = 0; i < N; i++) a.send(`<message to='bob@localhost' type='chat'><body>${i}</body></message>`);
      a.send(`<iq type='get' id='p8' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await a.next((e) => e.attr('id') === 'p8', 20000);
      const b1 = await login(ts, 'bob', 'one'); const b2 = await login(ts, 'bob', 'two');
      b1.send(`<presence/>`); b2.send(`<presence/>`);
      const bodies = () => [...b1.elements, ...b2.elements].filter(isMsg).map((m) => Number(m.getChildText('body')));
      await b1.until(() => bodies().length >= N, 10000, 'all messages');
      await drained(ts, 'bob');
      await pause(200);
      assert.deepEqual(bodies().sort((x, y) => x - y), Array.from({ length: N }, (_, i) => i), 'none lost, none twice');
      for (const c of [b1, b2]) {
        const mine = c.elements.filter(isMsg).map((m) => Number(m.getChildText('body')));
        assert.deepEqual(mine, [...mine].sort((x, y) => x - y), 'each resource gets its share in order');
      }
      a.destroy(); b1.destroy(); b2.destroy();
    } finally { await ts.stop(); }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: url });
  await client.connect(); await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await client.end();
}

describe('offline messages', () => {
  it('survive a restart (SQLite) and are delivered in order, with delay, exactly once', async () => {
    await restartScenario({});
  });

  it('survive a restart on PostgreSQL', async (t) => {
    const url = await pgTestUrl();
    if (!url) return skipOrFail(t, 'PostgreSQL is not reachable on 127.0.0.1:5432');
    const schema = 'magpie_offline_' + Math.random().toString(36).slice(2, 10);
    try { await restartScenario({ storage: { type: 'postgres', url, schema } }); } finally { await dropSchema(url, schema); }
  });

  it('quota: beyond maxMessages or maxBytes the sender gets service-unavailable', async () => {
    const ts = await startTestServer({ modules: { options: { offline: { maxMessages: 2, maxBytes: 600 } } } }, { modules });
    try {
      await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw'); await ts.addUser('carol', 'pw');
      const a = await login(ts, 'alice', 'a');
      for (const id of ['q1', 'q2', 'q3']) a.send(`<message to='bob@localhost' type='chat' id='${id}'><body>${id}</body></message>`);
      const e = await a.next((el) => el.attr('type') === 'error');
      assert.equal(e.attr('id'), 'q3'); assert.equal(cond(e), 'service-unavailable');
      assert.equal(e.attr('from'), 'bob@localhost');
      // Bytes: one large message fits under 600 bytes, the second does not.
      const big = 'x'.repeat(300);
      a.send(`<message to='carol@localhost' type='chat' id='b1'><body>${big}</body></message>`);
      a.send(`<message to='carol@localhost' type='chat' id='b2'><body>${big}</body></message>`);
      const e2 = await a.next((el) => el.attr('type') === 'error');
      assert.equal(e2.attr('id'), 'b2'); assert.equal(cond(e2), 'service-unavailable');
      // Delivering frees the quota.
      const b = await login(ts, 'bob', 'b');
      b.send(`<presence/>`);
      assert.equal((await b.next(isMsg)).attr('id'), 'q1');
      assert.equal((await b.next(isMsg)).attr('id'), 'q2');
      await drained(ts, 'bob');
      b.send(`<presence type='unavailable'/>`);
      await pause(100);
      a.send(`<message to='bob@localhost' type='chat' id='q4'><body>q4</body></message>`);
      a.send(`<iq type='get' id='p2' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await a.next((el) => el.attr('id') === 'p2');
      await pause(100);
      assert.ok(!a.elements.some((el) => el.attr('id') === 'q4' && el.attr('type') === 'error'), 'stored again after the queue drained');
      a.destroy(); b.destroy();
    } finally { await ts.stop(); }
  });

  it('headline, error, groupchat, chat states alone and no-store are not stored; <store/> is', async () => {
    const ts = await startTestServer({}, { modules });
    try {
      await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
      const a = await login(ts, 'alice', 'a');
      a.send(`<message to='bob@localhost' type='headline' id='n1'><body>news</body></message>`);
      a.send(`<message to='bob@localhost' type='error' id='n2'><body>err</body><error type='cancel'><gone xmlns='${STANZAS}'/></error></message>`);
      a.send(`<message to='bob@localhost' type='groupchat' id='n3'><body>room</body></message>`);
      a.send(`<message to='bob@localhost' type='chat' id='n4'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`);
      a.send(`<message to='bob@localhost' type='chat' id='n5'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>`);
      a.send(`<message to='bob@localhost' type='chat' id='s1'><store xmlns='urn:xmpp:hints'/><x xmlns='urn:example:custom'/></message>`);
      a.send(`<message to='bob@localhost' type='chat' id='s2'><encrypted xmlns='eu.siacs.conversations.axolotl'/></message>`);
      a.send(`<iq type='get' id='p3' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await a.next((e) => e.attr('id') === 'p3');
      await pause(150);
      const errors = new Map(a.elements.filter((e) => e.attr('type') === 'error').map((e) => [e.attr('id'), cond(e)]));
      assert.equal(errors.get('n3'), 'service-unavailable', 'groupchat bounced');
      assert.equal(errors.get('n4'), 'service-unavailable', 'chat state alone: not stored, so unavailable');
      assert.equal(errors.get('n5'), 'service-unavailable', 'no-store hint honoured');
      assert.ok(!errors.has('n1') && !errors.has('n2'), 'headline and error are dropped silently');
      assert.ok(!errors.has('s1') && !errors.has('s2'));
      const page = await ts.server.storage.archive.query('localhost', 'bob', 'offline', {});
      assert.deepEqual(page.items.map((i) => i.with), ['alice@localhost', 'alice@localhost']);
      assert.deepEqual(page.items.map((i) => /id="(\w+)"/.exec(i.payload)?.[1]), ['s1', 's2']);
      a.destroy();
    } finally { await ts.stop(); }
  });

  it('a negative priority gets nothing until the resource sends a non-negative one', async () => {
    const ts = await startTestServer({}, { modules });
    try {
      await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
      const a = await login(ts, 'alice', 'a');
      a.send(`<message to='bob@localhost' type='chat' id='np1'><body>later</body></message>`);
      a.send(`<iq type='get' id='p4' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await a.next((e) => e.attr('id') === 'p4');
      const b = await login(ts, 'bob', 'b');
      b.send(`<presence><priority>-1</priority></presence>`);
      await pause(300);
      assert.equal(b.elements.filter(isMsg).length, 0);
      b.send(`<presence><priority>5</priority></presence>`);
      assert.equal((await b.next(isMsg)).attr('id'), 'np1');
      a.destroy(); b.destroy();
    } finally { await ts.stop(); }
  });

  it('a session that closes during delivery loses nothing: the next one gets exactly the rest', async () => {
    await closeDuringDelivery({});
  });

  it('the same on PostgreSQL (the close can land during a storage round trip)', async (t) => {
    const url = await pgTestUrl();
    if (!url) return skipOrFail(t, 'PostgreSQL is not reachable on 127.0.0.1:5432');
    const schema = 'magpie_offline_' + Math.random().toString(36).slice(2, 10);
    try { await closeDuringDelivery({ storage: { type: 'postgres', url, schema } }); } finally { await dropSchema(url, schema); }
  });

  it('two resources becoming available together share the queue: each message reaches one of them once', async () => {
    await twoResources({});
  });

  it('the same on PostgreSQL (storage round trips interleave the two deliveries)', async (t) => {
    const url = await pgTestUrl();
    if (!url) return skipOrFail(t, 'PostgreSQL is not reachable on 127.0.0.1:5432');
    const schema = 'magpie_offline_' + Math.random().toString(36).slice(2, 10);
    try { await twoResources({ storage: { type: 'postgres', url, schema } }); } finally { await dropSchema(url, schema); }
  });

  it('slixmpp receives its offline messages in order when it sends presence', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const ts = await startTestServer({}, { modules });
    let bob: SlixClient | undefined;
    try {
      await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
      const a = await login(ts, 'alice', 'a');
      for (const body of ['first', 'second', 'third']) a.send(`<message to='bob@localhost' type='chat'><body>${body}</body></message>`);
      a.send(`<iq type='get' id='p6' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await a.next((e) => e.attr('id') === 'p6');
      await pause(100);
      bob = new SlixClient({ jid: 'bob@localhost/slix', password: 'pw', port: ts.port });
      await bob.waitFor((e) => e.event === 'session_start');
      bob.command({ cmd: 'presence' });
      await bob.waitFor(() => bob!.events.filter((e) => e.event === 'message').length >= 3);
      const msgs = bob.events.filter((e) => e.event === 'message');
      assert.deepEqual(msgs.map((m) => m.body), ['first', 'second', 'third']);
      assert.ok(msgs.every((m) => m.frm === 'alice@localhost/a'));
      await drained(ts, 'bob');
      a.destroy();
    } finally { await bob?.quit(); await ts.stop(); }
  });

  it('priority raised from negative; stored while unavailable, delivered at the next available presence', async () => {
    const ts = await startTestServer({}, { modules });
    try {
      await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
      const a = await login(ts, 'alice', 'a');
      for (const id of ['r1', 'r2']) a.send(`<message to='bob@localhost' type='chat' id='${id}'><body>${id}</body></message>`);
      a.send(`<iq type='get' id='p7' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await a.next((e) => e.attr('id') === 'p7');
      const b = await login(ts, 'bob', 'b');
      b.send(`<presence><priority>-3</priority></presence>`);
      await b.next((e) => e.name === 'presence' && e.attr('from') === 'bob@localhost/b'); // the presence module's echo
      await pause(200);
      assert.equal(b.elements.filter(isMsg).length, 0, 'negative priority');
      b.send(`<presence/>`);
      assert.deepEqual([(await b.next(isMsg)).attr('id'), (await b.next(isMsg)).attr('id')], ['r1', 'r2']);
      await drained(ts, 'bob');
      b.send(`<presence type='unavailable'/>`);
      await pause(100);
      a.send(`<message to='bob@localhost' type='chat' id='r3'><body>r3</body></message>`);
      await pause(100);
      b.send(`<presence/>`);
      assert.equal((await b.next(isMsg)).attr('id'), 'r3', 'stored while unavailable, delivered at the next available presence');
      a.destroy(); b.destroy();
    } finally { await ts.stop(); }
  });

  it('advertises msgoffline', async () => {
    const ts = await startTestServer({}, { modules });
    try {
      await ts.addUser('alice', 'pw');
      const a = await login(ts, 'alice', 'a');
      a.send(`<iq type='get' id='d1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`);
      const r = await a.next((e) => e.attr('id') === 'd1');
      assert.ok(r.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').some((f) => f.attr('var') === 'msgoffline'));
      a.destroy();
    } finally { await ts.stop(); }
  });
});
