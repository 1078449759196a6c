// Presence subscriptions end to end (RFC 6121 §3, Appendix A): the handshake both ways with
// roster pushes at every step on every interested resource, with raw clients and with slixmpp;
// denial; ignored stanzas; the server's automatic answers; pre-approval; removal cancelling
// both ways; stored requests redelivered at the next initial presence, also after a restart;
// and one handshake on PostgreSQL storage.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/server.js';
import { skipOrFail } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { pgTestUrl } from '../support/postgres.js';
import { parseFragment } from '@magpie/core/xml/parser';
import {
  startIm, login, take, none, rosterGet, rosterSet, rosterRemove, itemXml, items, push, isPresence, presenceSync, befriend,
} from './roster-helpers.js';

const R = 'romeo@localhost';
const J = 'juliet@localhost';

/** The handshake of RFC 6121 §3.1 both ways, checked at every step; `r` are the user's
    resources (all interested and available), `j` the contact's. */
async function handshake(r: RawClient[], j: RawClient[], user = R, contact = J): Promise<void> {
  // The user adds the contact, then asks to see its presence.
  await rosterSet(r[0]!, itemXml(contact, { name: 'J', groups: ['Verona'] }));
  for (const c of r) assert.equal((await push(c, contact)).subscription, 'none');
  r[0]!.send(`<presence to='${contact}' type='subscribe' id='sub1'/>`);
  for (const c of r) { const p = await push(c, contact); assert.deepEqual([p.subscription, p.ask], ['none', 'subscribe']); }
  // The contact's server delivers it from the user's BARE JID to every available resource.
  for (const c of j) {
    const s = await take(c, isPresence('subscribe'), 'subscribe');
    assert.equal(s.attr('from'), user, 'stamped with the bare JID');
    assert.equal(s.attr('id'), 'sub1');
  }
  // No roster item for a pending request (§3.1.3).
  for (const c of j) await none(c, (e) => e.name === 'iq' && e.attr('type') === 'set', 'push for a pending request', 100);
  // The contact approves, and adds the user to its roster.
  j[0]!.send(`<presence to='${user}' type='subscribed'/>`);
  for (const c of j) assert.equal((await push(c, user)).subscription, 'from');
  // The approval travels back: pushes 'to' and the subscribed stanza on the user's side, then
  // the contact's presence (§3.1.5).
  for (const c of r) {
    const p = await push(c, contact);
    assert.equal(p.subscription, 'to');
    assert.equal(p.ask, undefined);
    assert.deepEqual(p.groups, ['Verona'], 'the item keeps its name and groups');
    assert.equal((await take(c, isPresence('subscribed'), 'subscribed')).attr('from'), contact);
    await take(c, (e) => isPresence(undefined)(e) && e.attr('from')!.startsWith(contact + '/'), 'the contact\'s presence');
  }
  await rosterSet(j[0]!, itemXml(user, { name: 'R' }));
  for (const c of j) assert.equal((await push(c, user)).name, 'R');
  // The reverse handshake.
  j[0]!.send(`<presence to='${user}' type='subscribe'/>`);
  for (const c of j) { const p = await push(c, user); assert.equal(p.subscription, 'from'); assert.equal(p.ask, 'subscribe'); }
  for (const c of r) assert.equal((await take(c, isPresence('subscribe'), 'reverse subscribe')).attr('from'), contact);
  r[r.length - 1]!.send(`<presence to='${contact}' type='subscribed'/>`);
  for (const c of r) assert.equal((await push(c, contact)).subscription, 'both');
  for (const c of j) {
    const p = await push(c, user);
    assert.equal(p.subscription, 'both');
    assert.equal(p.ask, undefined);
    assert.equal((await take(c, isPresence('subscribed'), 'subscribed')).attr('from'), user);
  }
  assert.equal(items(await rosterGet(r[0]!)).find((i) => i.jid === contact)?.subscription, 'both');
  assert.equal(items(await rosterGet(j[0]!)).find((i) => i.jid === user)?.subscription, 'both');
}

/** Route a stanza as if another server had sent it (it bypasses the sender's outbound rules). */
async function inject(ts: TestServer, text: string): Promise<void> {
  await ts.server.router.send(parseFragment(text));
}

async function online(ts: TestServer, user: string, resource: string): Promise<RawClient> {
  const c = await login(ts, user, resource);
  await rosterGet(c);
  await presenceSync(c, '<presence/>');
  return c;
}

describe('presence subscriptions (RFC 6121 §3)', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startIm();
    for (const u of ['romeo', 'juliet', 'nurse', 'tybalt', 'mercutio', 'benvolio', 'paris', 'slix', 'friar', 'lady']) await ts.addUser(u, 'pw');
  });
  after(async () => { await ts.stop(); });

  it('the handshake both ways with two resources of the user', async () => {
    const r = [await online(ts, 'romeo', 'balcony'), await online(ts, 'romeo', 'garden')];
    const j = [await online(ts, 'juliet', 'chamber')];
    await handshake(r, j);
    for (const c of [...r, ...j]) c.destroy();
  });

  it('the handshake with slixmpp as the contact', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const s = new SlixClient({ jid: 'slix@localhost/py', password: 'pw', port: ts.port, auto_authorize: null });
    const u = await online(ts, 'friar', 'cell');
    const S = 'slix@localhost', F = 'friar@localhost';
    try {
      await s.waitFor((e) => e.event === 'session_start');
      s.command({ cmd: 'get_roster' });
      await s.waitFor((e) => e.event === 'roster');
      s.command({ cmd: 'presence', status: 'reading' });
      await presenceSync(u, `<presence to='${S}' type='subscribe'/>`);
      assert.equal((await push(u, S)).ask, 'subscribe');
      const req = await s.waitFor((e) => e.event === 'presence' && e.type === 'subscribe');
      assert.equal(req.frm, F, 'slixmpp sees the request from the bare JID');
      let m = s.mark();
      s.command({ cmd: 'subscribed', to: F });
      const sp = await s.waitFor((e) => e.event === 'roster_push', 15000, m);
      assert.deepEqual((sp.items as { jid: string; subscription: string }[]).map((i) => [i.jid, i.subscription]), [[F, 'from']]);
      assert.equal((await push(u, S)).subscription, 'to');
      assert.equal((await take(u, isPresence('subscribed'))).attr('from'), S);
      // slixmpp's presence follows the approval.
      const pres = await take(u, (e) => isPresence(undefined)(e) && e.attr('from') === 'slix@localhost/py');
      assert.equal(pres.getChildText('status'), 'reading');
      m = s.mark();
      s.command({ cmd: 'subscribe', to: F });
      const sp2 = await s.waitFor((e) => e.event === 'roster_push', 15000, m);
      assert.deepEqual((sp2.items as { ask: string }[])[0]!.ask, 'subscribe');
      assert.equal((await take(u, isPresence('subscribe'))).attr('from'), S);
      m = s.mark();
      u.send(`<presence to='${S}' type='subscribed'/>`);
      assert.equal((await push(u, S)).subscription, 'both');
      await s.waitFor((e) => e.event === 'presence' && e.type === 'subscribed' && e.frm === F, 15000, m);
      const sp3 = await s.waitFor((e) => e.event === 'roster_push' && (e.items as { subscription: string }[])[0]!.subscription === 'both', 15000, m);
      assert.equal(sp3.frm, S);
      // ... and the friar's presence reaches slixmpp.
      await s.waitFor((e) => e.event === 'presence' && e.frm === 'friar@localhost/cell' && e.type === 'available', 15000, m);
      // slixmpp keeps the ver of the pushes: its roster is current, the answer is empty.
      m = s.mark();
      s.command({ cmd: 'get_roster' });
      const final = await s.waitFor((e) => e.event === 'roster', 15000, m);
      assert.equal(final.empty, true, JSON.stringify(final));
      assert.equal(items(await rosterGet(u)).find((i) => i.jid === S)?.subscription, 'both');
    } finally { await s.quit(); u.destroy(); }
  });

  it('denial, ignored stanzas and the server\'s own answers', async () => {
    const n = await online(ts, 'nurse', 'n');
    const t = await online(ts, 'tybalt', 't');
    const N = 'nurse@localhost', T = 'tybalt@localhost';
    // A.2.2 None: an unsubscribed with nothing to cancel is not routed.
    await presenceSync(n, `<presence to='${T}' type='unsubscribed'/>`);
    await none(t, isPresence('unsubscribed'), 'routed unsubscribed');
    // A.3.2–A.3.4 None: unsolicited stanzas from the contact's server (as a server out of
    // step would send them) change nothing and are not delivered.
    for (const type of ['subscribed', 'unsubscribed', 'unsubscribe']) await inject(ts, `<presence type='${type}' from='${T}/elsewhere' to='${N}'/>`);
    await none(n, (e) => e.name === 'presence' && e.attr('type') !== undefined, 'unsolicited subscription stanza');
    assert.deepEqual(items(await rosterGet(n)), []);
    // Denial: pending out → none, the user sees the unsubscribed.
    await presenceSync(n, `<presence to='${T}' type='subscribe'/>`);
    assert.equal((await push(n, T)).ask, 'subscribe');
    await take(t, isPresence('subscribe'));
    // A.3.1 None + Pending In: a repeated request is not delivered again.
    await presenceSync(n, `<presence to='${T}' type='subscribe'/>`);
    await none(t, isPresence('subscribe'), 'duplicate request');
    await none(n, (e) => e.name === 'iq' && e.attr('type') === 'set', 'push for a repeated request');
    await presenceSync(t, `<presence to='${N}' type='unsubscribed'/>`);
    const p = await push(n, T);
    assert.equal(p.subscription, 'none');
    assert.equal(p.ask, undefined);
    assert.equal((await take(n, isPresence('unsubscribed'))).attr('from'), T);
    // A request to an account that does not exist is refused by the server for it.
    await presenceSync(n, `<presence to='ghost@localhost' type='subscribe'/>`);
    assert.equal((await push(n, 'ghost@localhost')).ask, 'subscribe');
    assert.equal((await take(n, isPresence('unsubscribed'))).attr('from'), 'ghost@localhost');
    const g = await push(n, 'ghost@localhost');
    assert.deepEqual([g.subscription, g.ask], ['none', undefined]);
    n.destroy(); t.destroy();
  });

  it('answers a subscriber\'s repeated request itself, and honours a pre-approval', async () => {
    await befriend(ts, 'benvolio', 'paris');
    const b = await online(ts, 'benvolio', 'b');
    const p = await online(ts, 'paris', 'p');
    const B = 'benvolio@localhost', P = 'paris@localhost', M = 'mercutio@localhost';
    // A.3.1 '*': Paris already has a subscription: the server answers, Benvolio is not asked.
    // (In step, Paris's server ignores that answer, A.3.3 'Both'; it matters when Paris's side
    // lost the state: here its item says None + Pending Out.)
    await ts.server.storage.map.set('localhost', 'paris', 'roster', B, { jid: B, subscription: 'none', ask: 'subscribe', groups: [] });
    await presenceSync(p, `<presence to='${B}' type='subscribe'/>`);
    assert.equal((await take(p, isPresence('subscribed'))).attr('from'), B);
    assert.equal((await push(p, B)).subscription, 'to');
    await none(b, isPresence('subscribe'), 'request from a subscriber');
    assert.equal(items(await rosterGet(b)).find((i) => i.jid === P)?.subscription, 'both', 'unchanged');
    // §3.4: Benvolio pre-approves Mercutio: a roster item with approved='true', nothing routed.
    const m = await online(ts, 'mercutio', 'm');
    await presenceSync(b, `<presence to='${M}' type='subscribed'/>`);
    const pa = await push(b, M);
    assert.deepEqual([pa.subscription, pa.approved], ['none', 'true']);
    await none(m, isPresence('subscribed'), 'routed pre-approval');
    // Mercutio's request is approved at once, without Benvolio's clients seeing it.
    await presenceSync(m, `<presence to='${B}' type='subscribe'/>`);
    assert.equal((await push(m, B)).ask, 'subscribe');
    assert.equal((await push(m, B)).subscription, 'to');
    assert.equal((await take(m, isPresence('subscribed'))).attr('from'), B);
    await take(m, (e) => isPresence(undefined)(e) && e.attr('from') === 'benvolio@localhost/b', 'Benvolio\'s presence');
    const after = await push(b, M);
    assert.deepEqual([after.subscription, after.approved], ['from', undefined]);
    await none(b, isPresence('subscribe'), 'a pre-approved request');
    for (const c of [b, p, m]) c.destroy();
  });

  it('removing an item cancels the subscription both ways', async () => {
    await befriend(ts, 'lady', 'juliet');
    const l = await online(ts, 'lady', 'l');
    const j = await online(ts, 'juliet', 'j2');
    const L = 'lady@localhost';
    await take(j, (e) => isPresence(undefined)(e) && e.attr('from') === 'lady@localhost/l', 'Lady\'s presence');
    assert.equal((await rosterRemove(l, J)).attr('type'), 'result');
    assert.equal((await push(l, J)).subscription, 'remove');
    // The contact sees both cancellations from the bare JID, with its roster pushes.
    assert.equal((await take(j, isPresence('unsubscribe'))).attr('from'), L);
    assert.equal((await take(j, isPresence('unsubscribed'))).attr('from'), L);
    assert.equal((await push(j, L)).subscription, 'to');
    assert.equal((await push(j, L)).subscription, 'none');
    // ... and Lady's resources are no longer available to Juliet.
    await take(j, (e) => isPresence('unavailable')(e) && e.attr('from') === 'lady@localhost/l', 'unavailable');
    assert.equal(items(await rosterGet(j)).find((i) => i.jid === L)?.subscription, 'none');
    assert.equal(items(await rosterGet(l)).find((i) => i.jid === J), undefined);
    l.destroy(); j.destroy();
  });
});

describe('stored subscription requests (RFC 6121 §3.1.3)', () => {
  it('are redelivered at each initial presence until answered, also after a restart', async () => {
    let ts = await startIm();
    await ts.addUser('romeo', 'pw'); await ts.addUser('juliet', 'pw');
    try {
      const r = await online(ts, 'romeo', 'r');
      await presenceSync(r, `<presence to='${J}' type='subscribe'><status>It is the east</status></presence>`);
      // Juliet logs in: nothing before her initial presence, the request after it.
      let j = await login(ts, 'juliet', 'j');
      await rosterGet(j);
      await none(j, isPresence('subscribe'), 'request before initial presence', 200);
      j.send('<presence/>');
      const s1 = await take(j, isPresence('subscribe'));
      assert.equal(s1.attr('from'), R);
      assert.equal(s1.getChildText('status'), 'It is the east', 'the request as it was sent');
      assert.ok(s1.getChild('delay', 'urn:xmpp:delay')?.attr('stamp'), 'marked as delayed');
      j.destroy();
      r.destroy();
      // A restart on the same data: still pending.
      await ts.stop(true);
      ts = await startIm({}, ts.dir);
      j = await online(ts, 'juliet', 'j');
      assert.equal((await take(j, isPresence('subscribe'))).attr('from'), R);
      assert.deepEqual(items(await rosterGet(j)), [], 'a pending request is not a roster item');
      // Answered: not redelivered any more.
      await presenceSync(j, `<presence to='${R}' type='subscribed'/>`);
      j.destroy();
      j = await online(ts, 'juliet', 'j3');
      await none(j, isPresence('subscribe'), 'an answered request', 300);
      assert.equal(items(await rosterGet(j))[0]?.subscription, 'from');
      const r2 = await online(ts, 'romeo', 'r2');
      assert.equal(items(await rosterGet(r2))[0]?.subscription, 'to');
      j.destroy(); r2.destroy();
    } finally { await ts.stop(); }
  });
});

describe('presence subscriptions on PostgreSQL', () => {
  it('the handshake with the roster stored in PostgreSQL', async (t) => {
    const url = await pgTestUrl();
    if (!url) return skipOrFail(t, 'PostgreSQL is not reachable on 127.0.0.1:5432');
    const schema = 'magpie_im_' + Math.random().toString(36).slice(2, 10);
    const ts = await startIm({ storage: { type: 'postgres', url, schema } });
    try {
      assert.equal(ts.server.storage.kind, 'postgres');
      await ts.addUser('romeo', 'pw'); await ts.addUser('juliet', 'pw');
      const r = [await online(ts, 'romeo', 'a'), await online(ts, 'romeo', 'b')];
      const j = [await online(ts, 'juliet', 'c')];
      await handshake(r, j);
      for (const c of [...r, ...j]) c.destroy();
    } finally {
      await ts.stop();
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect(); await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await client.end();
    }
  });
});
