// The typed API of @magpie/client between two library clients on a started Magpie: subscription
// handshake and roster pushes, roster versioning, presence with entity capabilities, messages
// with receipts/chat states/corrections/threads, blocking, carbons, disco, HTTP upload.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { Client } from '@magpie/client/node';
import { messages } from '@magpie/client/plugins/messages';
import { presence } from '@magpie/client/plugins/presence';
import { roster, type RosterSnapshot } from '@magpie/client/plugins/roster';
import { blocking } from '@magpie/client/plugins/blocking';
import { carbons } from '@magpie/client/plugins/carbons';
import { disco } from '@magpie/client/plugins/disco';
import { capsHash } from '@magpie/client/plugins/caps';
import { upload } from '@magpie/client/plugins/upload';
import { startTestServer, type TestServer } from '../support/server.js';
import { clientFor, sleep, waitEvent } from './helpers.js';

const until = async (pred: () => boolean, what: string, ms = 10000): Promise<void> => {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error('timed out: ' + what); await sleep(20); }
};

/** fetch for the test server's self-signed HTTPS listener. */
const insecureFetch = ((url: string, init: { method?: string; body?: Uint8Array; headers?: Record<string, string> } = {}) => new Promise((resolve, reject) => {
  const req = https.request(url, { method: init.method ?? 'GET', headers: init.headers, rejectUnauthorized: false }, (res) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve({ ok: res.statusCode! < 300, status: res.statusCode, bytes: Buffer.concat(chunks) }));
  });
  req.on('error', reject);
  req.end(init.body ? Buffer.from(init.body) : undefined);
})) as unknown as typeof fetch;

describe('client typed API against Magpie', () => {
  let ts: TestServer;
  const all: Client[] = [];
  const mk = (...a: Parameters<typeof clientFor>): Client => { const c = clientFor(...a); all.push(c); return c; };
  before(async () => {
    ts = await startTestServer();
    for (const u of ['alice', 'bob', 'carol', 'dave']) await ts.addUser(u, 'pw');
  });
  after(async () => { for (const c of all) await c.stop(); await ts.stop(); });

  it('subscription handshake, roster pushes, presence with caps, messages with receipts, chat states, corrections', async () => {
    const alice = mk(ts, 'alice', 'ws', { resource: 'web' });
    const bob = mk(ts, 'bob', 'starttls', { resource: 'pc' });
    const [ar, br] = [alice.use(roster), bob.use(roster)];
    const [ap, bp] = [alice.use(presence), bob.use(presence)];
    const ad = alice.use(disco);
    const [am, bm] = [alice.use(messages), bob.use(messages)];
    await alice.start(); await bob.start();
    await until(() => ar.ver !== undefined && br.ver !== undefined, 'initial rosters');
    bp.on('subscription-request', ({ from }) => { bp.approve(from); bp.subscribe(from); });
    ap.on('subscription-request', ({ from }) => ap.approve(from));
    ap.subscribe('bob@localhost');
    await until(() => ar.items.get('bob@localhost')?.subscription === 'both' && br.items.get('alice@localhost')?.subscription === 'both', 'both subscribed');
    // Presence flows both ways; alice's carries her caps, which hash her own disco#info.
    ap.set({ show: 'chat', status: 'hi' });
    await until(() => bp.best('alice@localhost')?.show === 'chat', 'alice available at bob');
    const c = bp.best('alice@localhost')!.element.getChild('c', 'http://jabber.org/protocol/caps');
    assert.ok(c, 'caps in presence: ' + bp.best('alice@localhost')!.element.toString());
    const info = await bob.use(disco).info(alice.jid!.toString());
    assert.equal(c.attr('ver'), await capsHash(info.identities, info.features));
    assert.equal(c.attr('ver'), await ad.caps());
    assert.ok(info.features.includes('urn:xmpp:receipts'));
    assert.ok(bp.best('alice@localhost')!.from.endsWith('/web'));

    const got = waitEvent<{ body?: string; thread?: string; id?: string }>('message at bob', (done) => bm.once('message', done));
    const receipt = waitEvent<{ id: string }>('receipt at alice', (done) => am.once('receipt', done));
    const id = am.send('bob@localhost', 'hello', { thread: 't1' });
    const m = await got;
    assert.equal(m.body, 'hello');
    assert.equal(m.thread, 't1');
    assert.equal((await receipt).id, id);
    const state = waitEvent<{ state: string }>('chat state', (done) => am.once('chatstate', done));
    bm.sendChatState(alice.jid!.toString(), 'composing');
    assert.equal((await state).state, 'composing');
    const corr = waitEvent<{ replaces?: string; body?: string }>('correction', (done) => bm.once('correction', done));
    am.correct('bob@localhost', id, 'hello, corrected');
    const cm = await corr;
    assert.equal(cm.replaces, id);
    assert.equal(cm.body, 'hello, corrected');
    // Unavailable presence removes the resource.
    await alice.stop();
    await until(() => bp.best('alice@localhost') === undefined, 'alice gone');
    await bob.stop();
  });

  it('roster versioning: a cached version yields an empty result, pushes update the cache', async () => {
    const saved: RosterSnapshot[] = [];
    const store = { load: () => saved.at(-1), save: (s: RosterSnapshot) => { saved.push(s); } };
    const a = mk(ts, 'carol', 'starttls');
    const r = a.use(roster);
    r.useStore(store);
    const loaded = waitEvent<boolean>('loaded', (done) => r.once('loaded', (_i, fromCache) => done(fromCache)));
    await a.start();
    assert.equal(await loaded, false);
    await r.set('dave@localhost', { name: 'Dave', groups: ['Friends'] });
    await until(() => r.items.get('dave@localhost')?.name === 'Dave', 'push applied');
    await sleep(50);
    assert.equal(saved.at(-1)!.items.find((i) => i.jid === 'dave@localhost')?.groups[0], 'Friends');
    await a.stop();
    const b = mk(ts, 'carol', 'ws');
    const r2 = b.use(roster);
    r2.useStore(store);
    const loaded2 = waitEvent<boolean>('loaded', (done) => r2.once('loaded', (_i, fromCache) => done(fromCache)));
    await b.start();
    assert.equal(await loaded2, true, 'server said: unchanged');
    assert.equal(r2.items.get('dave@localhost')?.name, 'Dave');
    await r2.remove('dave@localhost');
    await until(() => !r2.items.has('dave@localhost'), 'removed by push');
    await b.stop();
  });

  it('blocking: block, list, pushes to other resources, unblock all', async () => {
    const a1 = mk(ts, 'dave', 'starttls', { resource: 'one' });
    const a2 = mk(ts, 'dave', 'ws', { resource: 'two' });
    await a1.start(); await a2.start();
    const [b1, b2] = [a1.use(blocking), a2.use(blocking)];
    await b2.list();
    await b1.block('spam@example.com', 'troll@example.net');
    assert.deepEqual((await b1.list()).sort(), ['spam@example.com', 'troll@example.net']);
    await until(() => b2.blocked.has('troll@example.net'), 'push to the other resource');
    await b1.unblock();
    await until(() => b2.blocked.size === 0, 'unblock-all push');
    assert.deepEqual(await b1.list(), []);
    await a1.stop(); await a2.stop();
  });

  it('carbons: the other resource sees copies of received and sent chats', async () => {
    const phone = mk(ts, 'alice', 'starttls', { resource: 'phone' });
    const desk = mk(ts, 'alice', 'ws', { resource: 'desk' });
    const bob = mk(ts, 'bob', 'starttls', { resource: 'x' });
    await phone.start(); await desk.start(); await bob.start();
    phone.use(presence).set({}); desk.use(presence).set({});
    await desk.use(carbons).enable();
    const copies: string[] = [];
    desk.use(carbons).on('carbon', ({ direction, message }) => { if (message.getChild('body')) copies.push(direction + ':' + message.getChildText('body')); });
    bob.use(messages).send(phone.jid!.toString(), 'to phone');
    phone.use(messages).send('bob@localhost', 'from phone');
    await until(() => copies.length === 2, 'two carbons: ' + copies.join(','));
    assert.deepEqual(copies.sort(), ['received:to phone', 'sent:from phone']);
    await phone.stop(); await desk.stop(); await bob.stop();
  });

  it('HTTP upload: service discovered, slot requested, bytes PUT and readable at the GET URL', async () => {
    const a = mk(ts, 'bob', 'starttls', { resource: 'up' });
    await a.start();
    const up = a.use(upload);
    up.fetchFn = insecureFetch;
    assert.equal(await up.findService(), 'upload.localhost');
    const data = new TextEncoder().encode('hello upload ' + Date.now());
    const url = await up.upload('note.txt', data, 'text/plain');
    const res = await insecureFetch(url) as unknown as { ok: boolean; bytes: Buffer };
    assert.ok(res.ok);
    assert.equal(res.bytes.toString(), new TextDecoder().decode(data));
    await a.stop();
  });
});
