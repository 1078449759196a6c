// The same login, roster and message scenarios as against Magpie, against a real Prosody from
// Debian (test/s2s/prosody-peer.ts, c2s only): STARTTLS + SCRAM with the server signature
// verified, XEP-0198 resumption, roster pushes, messages with receipts, and Prosody's PEP
// (bookmarks 2), MAM and blocking, so the library is not only tested against its own server.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, AuthError, type Client } from '@magpie/client/node';
import { messages } from '@magpie/client/plugins/messages';
import { presence } from '@magpie/client/plugins/presence';
import { roster } from '@magpie/client/plugins/roster';
import { pep } from '@magpie/client/plugins/pep';
import { mam } from '@magpie/client/plugins/mam';
import { blocking } from '@magpie/client/plugins/blocking';
import { muc } from '@magpie/client/plugins/muc';
import { skipOrFail } from '../support/server.js';
import { prosodyInstalled, selfSigned, startProsody, type ProsodyPeer } from '../s2s/prosody-peer.js';
import { sleep, waitEvent } from './helpers.js';

const DOMAIN = 'prosody.localhost';

describe('client against Prosody', () => {
  let p: ProsodyPeer | undefined;
  let certDir = '';
  const all: Client[] = [];
  const mk = (user: string, o: Record<string, unknown> = {}): Client => {
    const c = createClient({ jid: `${user}@${DOMAIN}`, password: 'pw', service: `xmpp://127.0.0.1:${p!.c2sPort}`, tls: { rejectUnauthorized: false, servername: DOMAIN }, reconnect: { initial: 100, max: 500 }, ...o });
    all.push(c);
    return c;
  };
  const until = async (pred: () => boolean, what: string, ms = 10000): Promise<void> => {
    const end = Date.now() + ms;
    while (!pred()) { if (Date.now() > end) throw new Error('timed out: ' + what); await sleep(20); }
  };

  before(async () => {
    if (!prosodyInstalled()) return;
    certDir = mkdtempSync(join(tmpdir(), 'magpie-client-prosody-'));
    const { cert, key } = selfSigned(certDir, DOMAIN);
    p = await startProsody({ domain: DOMAIN, cert, key, secureAuth: false, routes: {}, modules: ['smacks', 'carbons', 'blocklist', 'pep', 'bookmarks', 'mam'],
      extraConfig: `Component ${JSON.stringify('conference.' + DOMAIN)} "muc"\n  modules_enabled = { "muc_mam" }\n` });
    p.register('romeo', 'pw');
    p.register('juliet', 'pw');
  });
  after(async () => {
    for (const c of all) await c.stop();
    await p?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('logs in over STARTTLS with SCRAM, verifying the server signature; a wrong password is an AuthError', async (t) => {
    if (!p) { skipOrFail(t, 'prosody is not installed'); return; }
    const c = mk('romeo', { resource: 'r1' });
    let mech = '';
    c.on('output', (el) => { if (el.name === 'auth') mech = el.attr('mechanism')!; });
    assert.equal(await c.start(), `romeo@${DOMAIN}/r1`);
    assert.equal(c.secure, true);
    assert.match(mech, /^SCRAM-SHA-1/);
    await c.stop();
    const bad = mk('romeo', { password: 'wrong' });
    await assert.rejects(bad.start(), (e: unknown) => e instanceof AuthError && e.condition === 'not-authorized');
  });

  it('roster pushes, subscriptions, presence and messages with receipts between two library clients', async (t) => {
    if (!p) { skipOrFail(t, 'prosody is not installed'); return; }
    const romeo = mk('romeo', { resource: 'balcony' });
    const juliet = mk('juliet', { resource: 'garden' });
    const [rr, jr] = [romeo.use(roster), juliet.use(roster)];
    const [rp, jp] = [romeo.use(presence), juliet.use(presence)];
    const [rm, jm] = [romeo.use(messages), juliet.use(messages)];
    await romeo.start(); await juliet.start();
    jp.on('subscription-request', ({ from }) => { jp.approve(from); jp.subscribe(from); });
    rp.on('subscription-request', ({ from }) => rp.approve(from));
    await rr.set(`juliet@${DOMAIN}`, { name: 'Juliet', groups: ['Capulet'] });
    await until(() => rr.items.get(`juliet@${DOMAIN}`)?.name === 'Juliet', 'roster push');
    rp.subscribe(`juliet@${DOMAIN}`);
    await until(() => rr.items.get(`juliet@${DOMAIN}`)?.subscription === 'both' && jr.items.get(`romeo@${DOMAIN}`)?.subscription === 'both', 'mutual subscription');
    await until(() => rp.best(`juliet@${DOMAIN}`) !== undefined, 'juliet online at romeo');
    const got = waitEvent<{ body?: string }>('message', (done) => jm.once('message', done));
    const receipt = waitEvent<{ id: string }>('receipt', (done) => rm.once('receipt', done));
    const id = rm.send(`juliet@${DOMAIN}`, 'But soft, what light');
    assert.equal((await got).body, 'But soft, what light');
    assert.equal((await receipt).id, id);
    await romeo.stop(); await juliet.stop();
  });

  it('XEP-0198 on Prosody: resumes after the connection drops', async (t) => {
    if (!p) { skipOrFail(t, 'prosody is not installed'); return; }
    const c = mk('romeo', { resource: 'sm', reconnect: { initial: 200, max: 200, jitter: 0 } });
    const jid = await c.start();
    assert.ok(c.sm.resumable, 'Prosody offered resumption');
    const online = waitEvent<{ resumed: boolean; jid: string }>('online', (done) => c.once('online', done), 15000);
    (c as unknown as { transport: { destroy(): void } }).transport.destroy();
    const info = await online;
    assert.equal(info.resumed, true);
    assert.equal(info.jid, jid);
    await c.stop();
  });

  it('MUC (XEP-0045): join, occupants, groupchat messages, subject, leave', async (t) => {
    if (!p) { skipOrFail(t, 'prosody is not installed'); return; }
    const romeo = mk('romeo', { resource: 'muc' });
    const juliet = mk('juliet', { resource: 'muc' });
    await romeo.start(); await juliet.start();
    const [rm, jm] = [romeo.use(muc), juliet.use(muc)];
    const room = `verona@conference.${DOMAIN}`;
    const r = await rm.join(room, 'Romeo');
    assert.equal(r.joined, true);
    await jm.join(room, 'Juliet');
    await until(() => r.occupants.has('Juliet') && jm.rooms.get(room)!.occupants.has('Romeo'), 'occupants');
    assert.equal(r.occupants.get('Romeo')!.affiliation, 'owner', 'the creator owns the room');
    const heard = waitEvent<{ nick: string; body: string }>('groupchat', (done) => jm.on('message', (m) => { if (!m.delayed) done(m); }));
    rm.send(room, 'Hello, Verona');
    const m = await heard;
    assert.deepEqual([m.nick, m.body], ['Romeo', 'Hello, Verona']);
    const subj = waitEvent<{ subject: string; nick: string }>('subject', (done) => jm.on('subject', (s) => { if (s.subject) done(s); }));
    rm.setSubject(room, 'Two households');
    assert.equal((await subj).subject, 'Two households');
    const gone = waitEvent('left', (done) => jm.on('occupant', ({ occupant, left }) => { if (left && occupant.nick === 'Romeo') done(null); }));
    rm.leave(room);
    await gone;
    await until(() => !rm.rooms.has(room), 'romeo left');
    // A nick already taken is a typed conflict.
    const third = mk('romeo', { resource: 'muc2' });
    await third.start();
    await assert.rejects(third.use(muc).join(room, 'Juliet'), (e: unknown) => (e as { condition?: string }).condition === 'conflict');
    await romeo.stop(); await juliet.stop(); await third.stop();
  });

  it('PEP bookmarks (XEP-0402), MAM paging (XEP-0313) and blocking (XEP-0191)', async (t) => {
    if (!p) { skipOrFail(t, 'prosody is not installed'); return; }
    const romeo = mk('romeo', { resource: 'pep' });
    const juliet = mk('juliet', { resource: 'mam' });
    await romeo.start(); await juliet.start();
    const bm = romeo.use(pep);
    await bm.addBookmark({ jid: `room@conference.${DOMAIN}`, name: 'The Room', autojoin: true, nick: 'romeo' });
    const list = await bm.bookmarks();
    assert.deepEqual(list.map((b) => [b.jid, b.name, b.autojoin, b.nick]), [[`room@conference.${DOMAIN}`, 'The Room', true, 'romeo']]);
    await bm.removeBookmark(`room@conference.${DOMAIN}`);
    assert.deepEqual(await bm.bookmarks(), []);
    // XEP-0084: publish an avatar, and a contact reads metadata then data (checked by SHA-1 id).
    const png = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3, 4, 5]);
    const avatarId = await bm.publishAvatar(png, 'image/png', { width: 1, height: 1 });
    assert.match(avatarId, /^[0-9a-f]{40}$/);
    const meta = await juliet.use(pep).avatarMetadata(`romeo@${DOMAIN}`);
    assert.deepEqual([meta?.id, meta?.type, meta?.bytes], [avatarId, 'image/png', png.length]);
    assert.deepEqual(await juliet.use(pep).avatarData(`romeo@${DOMAIN}`, avatarId), png);

    const jm = juliet.use(messages);
    for (let i = 0; i < 5; i++) jm.send(`romeo@${DOMAIN}`, `line ${i}`);
    await sleep(300);
    const archive = romeo.use(mam);
    const pages: string[][] = [];
    for await (const page of archive.history({ with: `juliet@${DOMAIN}`, max: 2 })) {
      pages.push(page.messages.map((m) => m.message.getChildText('body') ?? ''));
      if (pages.length > 5) break;
    }
    const flat = pages.reverse().flat().filter((b) => b.startsWith('line '));
    assert.deepEqual(flat, ['line 0', 'line 1', 'line 2', 'line 3', 'line 4']);
    assert.ok(pages.length >= 3, 'paged by two');

    const b = romeo.use(blocking);
    await b.block(`juliet@${DOMAIN}`);
    assert.deepEqual(await b.list(), [`juliet@${DOMAIN}`]);
    await b.unblock();
    assert.deepEqual(await b.list(), []);
    await romeo.stop(); await juliet.stop();
  });
});
