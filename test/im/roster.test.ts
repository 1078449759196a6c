// Roster management end to end (RFC 6121 §2): get, add with several groups, update, pushes to
// every interested resource (and none to a resource that never asked), versioning (§2.6: the
// empty roster and its first item differ, the current ver gets an empty result, the version
// survives a restart), the error cases, and slixmpp managing its roster through Magpie.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/server.js';
import { skipOrFail } from '../support/server.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import {
  NS_ROSTER, startIm, imOptions, login, take, none, iq, rosterGet, rosterSet, rosterRemove, itemXml, items, push, errorCondition,
} from './roster-helpers.js';

describe('roster (RFC 6121 §2)', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startIm(imOptions({ roster: { maxItems: 3, maxNameLength: 10, maxGroupLength: 8, maxGroups: 2 } }));
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'slix']) await ts.addUser(u, 'pw');
  });
  after(async () => { await ts.stop(); });

  it('advertises roster versioning and pre-approval after authentication', async () => {
    const c = await login(ts, 'alice', 'features');
    const features = c.elements.filter((e) => e.name === 'features');
    const last = features[features.length - 1]!;
    assert.ok(last.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind'), 'the post-authentication features');
    assert.ok(last.getChild('ver', 'urn:xmpp:features:rosterver'), 'roster versioning');
    assert.ok(last.getChild('sub', 'urn:xmpp:features:pre-approval'), 'pre-approval');
    assert.ok(!features[0]!.getChild('ver', 'urn:xmpp:features:rosterver'), 'not before authentication');
    c.destroy();
  });

  it('gets, adds with groups, updates and pushes to every interested resource', async () => {
    const a1 = await login(ts, 'alice', 'one');
    const a2 = await login(ts, 'alice', 'two');
    const a3 = await login(ts, 'alice', 'uninterested');
    const empty = await rosterGet(a1, '');
    assert.equal(empty.attr('type'), 'result');
    assert.deepEqual(items(empty), []);
    const ver0 = empty.getChild('query', NS_ROSTER)!.attr('ver')!;
    assert.ok(ver0, 'the empty roster has a version');
    await rosterGet(a2);

    const set = await rosterSet(a1, itemXml('bob@localhost', { name: 'Bob', groups: ['Friends', 'Work'] }));
    assert.equal(set.attr('type'), 'result');
    for (const c of [a1, a2]) {
      const p = await push(c, 'bob@localhost');
      assert.deepEqual({ ...p, ver: undefined }, { jid: 'bob@localhost', name: 'Bob', subscription: 'none', groups: ['Friends', 'Work'], ver: undefined });
      assert.ok(p.ver && p.ver !== ver0, 'the first item has another version than the empty roster');
    }
    await none(a3, (e) => e.name === 'iq' && e.attr('type') === 'set', 'push to a resource that never requested the roster');

    const got = await rosterGet(a2);
    assert.deepEqual(items(got), [{ jid: 'bob@localhost', name: 'Bob', subscription: 'none', groups: ['Friends', 'Work'] }]);
    const ver1 = got.getChild('query', NS_ROSTER)!.attr('ver')!;

    // Update: a new name, one group; a client echoing subscription='none' (as slixmpp does) is fine.
    await rosterSet(a2, itemXml('bob@localhost', { name: 'Bobby', groups: ['Family'], extra: " subscription='none'" }));
    for (const c of [a1, a2]) assert.deepEqual((await push(c, 'bob@localhost')).groups, ['Family']);
    const got2 = await rosterGet(a1, ver1);
    assert.deepEqual(items(got2), [{ jid: 'bob@localhost', name: 'Bobby', subscription: 'none', groups: ['Family'] }], 'an older ver gets the whole roster');
    const ver2 = got2.getChild('query', NS_ROSTER)!.attr('ver')!;
    assert.notEqual(ver2, ver1);

    // §2.6.3: the current ver: an empty result and nothing after it.
    const same = await rosterGet(a1, ver2);
    assert.equal(same.attr('type'), 'result');
    assert.equal(same.getChild('query', NS_ROSTER), undefined);
    await none(a1, (e) => e.name === 'iq' && e.attr('type') === 'set', 'push after a current-version get');

    // Remove: pushed with subscription='remove' to both, then gone.
    assert.equal((await rosterRemove(a1, 'bob@localhost')).attr('type'), 'result');
    for (const c of [a1, a2]) assert.equal((await push(c, 'bob@localhost')).subscription, 'remove');
    assert.deepEqual(items(await rosterGet(a1)), []);
    const ver3 = (await rosterGet(a1)).getChild('query', NS_ROSTER)!.attr('ver');
    assert.notEqual(ver3, ver0, 'an emptied roster is not the never-used one');
    for (const c of [a1, a2, a3]) c.destroy();
  });

  it('answers the error cases', async () => {
    const c = await login(ts, 'carol', 'errors');
    const cond = async (payload: string, type: 'get' | 'set' = 'set', to?: string) => {
      const r = await iq(c, type, payload, to);
      assert.equal(r.attr('type'), 'error', payload);
      return errorCondition(r);
    };
    const q = (inner: string) => `<query xmlns='${NS_ROSTER}'>${inner}</query>`;
    assert.equal(await cond(q(itemXml('a@localhost') + itemXml('b@localhost'))), 'bad-request', 'two items');
    assert.equal(await cond(q('')), 'bad-request', 'no item');
    assert.equal(await cond(q(itemXml('a@localhost', { extra: " subscription='maybe'" }))), 'bad-request', 'not a subscription value');
    assert.equal(await cond(q(itemXml('a@localhost', { extra: " ask='subscribe'" }))), 'bad-request', 'ask');
    assert.equal(await cond(q(itemXml('a@localhost', { groups: ['X', 'X'] }))), 'bad-request', 'duplicate group');
    assert.equal(await cond(q(itemXml('a@localhost/res'))), 'bad-request', 'a full JID');
    assert.equal(await cond(q(`<item jid='a@@localhost'/>`)), 'jid-malformed');
    assert.equal(await cond(q(itemXml('a@localhost', { name: 'x'.repeat(11) }))), 'not-acceptable', 'name over the limit');
    assert.equal(await cond(q(itemXml('a@localhost', { groups: ['g'.repeat(9)] }))), 'not-acceptable', 'group over the limit');
    assert.equal(await cond(q(itemXml('a@localhost', { groups: ['a', 'b', 'c'] }))), 'not-acceptable', 'too many groups');
    assert.equal(await cond(q(`<item jid='a@localhost'><group/></item>`)), 'not-acceptable', 'empty group');
    assert.equal(await cond(q(`<item jid='nobody@localhost' subscription='remove'/>`)), 'item-not-found', 'removing an absent item');
    assert.equal(await cond(q(itemXml('carol@localhost'))), 'not-allowed', 'the account itself');
    assert.equal(await cond(`<query xmlns='${NS_ROSTER}'/>`, 'get', 'dave@localhost'), 'forbidden', 'another account\'s roster');
    assert.equal(await cond(q(itemXml('a@localhost')), 'set', 'dave@localhost'), 'forbidden', 'setting another account\'s roster');
    assert.deepEqual(items(await rosterGet(c)), [], 'nothing was stored by the refused sets');
    // maxItems = 3: the fourth item is refused; updating an existing one still works.
    for (const j of ['x1@localhost', 'x2@localhost', 'x3@localhost']) assert.equal((await rosterSet(c, itemXml(j))).attr('type'), 'result');
    assert.equal(await cond(q(itemXml('x4@localhost'))), 'not-allowed', 'the roster is full');
    assert.equal((await rosterSet(c, itemXml('x1@localhost', { name: 'renamed' }))).attr('type'), 'result');
    // A full roster also refuses the item an outbound subscribe would create.
    c.send(`<presence to='x5@localhost' type='subscribe' id='full'/>`);
    const bounced = await take(c, (e) => e.name === 'presence' && e.attr('id') === 'full');
    assert.equal(bounced.attr('type'), 'error');
    assert.equal(errorCondition(bounced), 'not-allowed');
    assert.equal(items(await rosterGet(c)).length, 3);
    c.destroy();
  });

  it('keeps the version across a restart', async () => {
    const own = await startIm();
    await own.addUser('vera', 'pw');
    let c = await login(own, 'vera', 'r');
    await rosterSet(c, itemXml('walt@localhost', { name: 'Walt' }));
    const res = await rosterGet(c);
    const ver = res.getChild('query', NS_ROSTER)!.attr('ver')!;
    c.destroy();
    await own.stop(true);
    const again = await startIm({}, own.dir);
    try {
      c = await login(again, 'vera', 'r');
      const same = await rosterGet(c, ver);
      assert.equal(same.attr('type'), 'result');
      assert.equal(same.getChild('query', NS_ROSTER), undefined, 'the version stored before the restart is current');
      await rosterSet(c, itemXml('xena@localhost'));
      const p = await push(c, 'xena@localhost');
      assert.ok(p.ver && p.ver !== ver, 'the counter continues');
      const all = items(await rosterGet(c, ver));
      assert.deepEqual(all.map((i) => i.jid), ['walt@localhost', 'xena@localhost']);
      c.destroy();
    } finally { await again.stop(); }
  });

  it('slixmpp reads and edits its roster and receives pushes', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const s = new SlixClient({ jid: 'slix@localhost/py', password: 'pw', port: ts.port });
    const raw = await login(ts, 'slix', 'raw');
    try {
      await s.waitFor((e) => e.event === 'session_start');
      await rosterGet(raw);
      s.command({ cmd: 'get_roster' });
      const r0 = await s.waitFor((e) => e.event === 'roster');
      assert.deepEqual(r0.items, []);
      // slixmpp's update_roster sends subscription='none' with the item: accepted.
      s.command({ cmd: 'roster_set', jid: 'erin@localhost', name: 'Erin', groups: ['Pals', 'Chess'] });
      const ok = await s.waitFor((e) => e.event === 'roster_result');
      assert.equal(ok.ok, true, JSON.stringify(ok));
      const sp = await s.waitFor((e) => e.event === 'roster_push');
      assert.equal(sp.frm, 'slix@localhost');
      assert.deepEqual((sp.items as { jid: string; groups: string[] }[]).map((i) => [i.jid, [...i.groups].sort()]), [['erin@localhost', ['Chess', 'Pals']]]);
      const rp = await push(raw, 'erin@localhost');
      assert.equal(rp.name, 'Erin');
      const mark = s.mark();
      s.command({ cmd: 'roster_remove', jid: 'erin@localhost' });
      await s.waitFor((e) => e.event === 'roster_result' && e.cmd === 'roster_remove' && e.ok === true, 15000, mark);
      assert.equal((await push(raw, 'erin@localhost')).subscription, 'remove');
      s.command({ cmd: 'roster_remove', jid: 'erin@localhost' });
      const err = await s.waitFor((e) => e.event === 'roster_result' && e.ok === false, 15000, mark);
      assert.equal(err.error, 'item-not-found');
    } finally { await s.quit(); raw.destroy(); }
  });
});
