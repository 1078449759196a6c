// Privacy lists (XEP-0016) end to end with the roster and presence modules: managing lists
// (names, get, edit, remove, active, default, pushes, the §2.2 conflicts and the errors),
// the shared store with the blocking command (XEP-0191 §5), and evaluation by JID, roster
// group and subscription, per stanza kind, in order, with an active list per session; stanzas
// that fan out to several resources judged per resource (§2.2), with what the sender gets and
// what offline storage keeps; and unavailable presence when presence-in becomes blocked (§2.10).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import type { MagpieModule } from '@magpie/server/modules/module';
import blocking from '@magpie/server/modules/blocking/blocking';
import privacy from '@magpie/server/modules/privacy/privacy';
import offline from '@magpie/server/modules/offline/offline';
import carbons from '@magpie/server/modules/carbons/carbons';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { IM_MODULES, befriend, errorCondition, iq, isPresence, itemXml, login, presenceSync, rosterSet, sleep, take, chat, byId, noneSince } from './roster-helpers.js';

const NS_P = 'jabber:iq:privacy';
const NS_B = 'urn:xmpp:blocking';
const BLOCKLIST = 'urn:xmpp:blocking';
const modules = [...IM_MODULES, blocking, privacy, offline, carbons] as MagpieModule[];

const q = (inner = '') => `<query xmlns='${NS_P}'>${inner}</query>`;
const pget = (c: RawClient, inner = '') => iq(c, 'get', q(inner));
const pset = (c: RawClient, inner: string) => iq(c, 'set', q(inner));
const setList = (c: RawClient, name: string, items: string) => pset(c, `<list name='${name}'>${items}</list>`);
const ok = (r: Element) => assert.equal(r.attr('type'), 'result', r.toString());
/** Names in a names result: { active, default, lists }. */
function names(r: Element): { active?: string; default?: string; lists: string[] } {
  ok(r);
  const query = r.getChild('query', NS_P)!;
  const out: { active?: string; default?: string; lists: string[] } = { lists: query.getChildren('list').map((l) => l.attr('name')!) };
  const a = query.getChild('active')?.attr('name'); if (a !== undefined) out.active = a;
  const d = query.getChild('default')?.attr('name'); if (d !== undefined) out.default = d;
  return out;
}
/** A list's items as compact strings: "order type value action [kinds]". */
async function listOf(c: RawClient, name: string): Promise<string[]> {
  const r = await pget(c, `<list name='${name}'/>`);
  ok(r);
  return r.getChild('query', NS_P)!.getChild('list')!.getChildren('item').map((i) =>
    [i.attr('order'), i.attr('type') ?? '-', i.attr('value') ?? '-', i.attr('action'), ...i.elements().map((k) => k.name)].join(' '));
}
const privacyPush = (name: string) => (e: Element) => e.name === 'iq' && e.attr('type') === 'set' && e.getChild('query', NS_P)?.getChild('list')?.attr('name') === name;
const blockPush = (e: Element) => e.name === 'iq' && e.attr('type') === 'set' && !!e.getChildByNs(NS_B);

async function setup(): Promise<TestServer> {
  const ts = await startTestServer({}, { modules });
  for (const u of ['alice', 'bob', 'carol', 'dave']) await ts.addUser(u, 'pw');
  return ts;
}

describe('privacy lists (XEP-0016)', () => {
  it('names, get, edit, active, default, remove, pushes, conflicts and errors', async () => {
    const ts = await setup();
    try {
      const a1 = await login(ts, 'alice', 'one'); const a2 = await login(ts, 'alice', 'two');
      const disco = await iq(a1, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'localhost');
      assert.ok(disco.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').some((f) => f.attr('var') === NS_P));
      assert.deepEqual(names(await pget(a1)), { lists: [] });

      ok(await setList(a1, 'public', `<item type='jid' value='tybalt@localhost' action='deny' order='1'/><item action='allow' order='2'/>`));
      await take(a1, privacyPush('public'), 'push to the editing resource');
      await take(a2, privacyPush('public'), 'push to the other resource');
      assert.deepEqual(await listOf(a2, 'public'), ['1 jid tybalt@localhost deny', '2 - - allow']);
      ok(await setList(a1, 'special', `<item action='deny' order='666'/><item type='jid' value='Juliet@LocalHost' action='allow' order='6'><message/><presence-in/></item>`));
      assert.deepEqual(await listOf(a1, 'special'), ['6 jid juliet@localhost allow message presence-in', '666 - - deny'], 'sorted, JID normalised');
      ok(await setList(a1, 'special', `<item action='allow' order='3'/>`));
      assert.deepEqual(await listOf(a1, 'special'), ['3 - - allow'], 'a set replaces the whole list');

      // Errors (§2.1, §2.3-§2.5).
      assert.equal(errorCondition(await pget(a1, `<list name='public'/><list name='special'/>`)), 'bad-request');
      assert.equal(errorCondition(await pget(a1, `<list name='nope'/>`)), 'item-not-found');
      assert.equal(errorCondition(await pset(a1, `<active name='public'/><default name='public'/>`)), 'bad-request');
      assert.equal(errorCondition(await setList(a1, 'x', `<item action='deny' order='1'/><item action='allow' order='1'/>`)), 'bad-request');
      assert.equal(errorCondition(await setList(a1, 'x', `<item action='block' order='1'/>`)), 'bad-request');
      assert.equal(errorCondition(await setList(a1, 'x', `<item action='deny' order='first'/>`)), 'bad-request');
      assert.equal(errorCondition(await setList(a1, 'x', `<item type='jid' value='@localhost' action='deny' order='1'/>`)), 'jid-malformed');
      assert.equal(errorCondition(await setList(a1, 'x', `<item type='subscription' value='maybe' action='deny' order='1'/>`)), 'bad-request');
      assert.equal(errorCondition(await setList(a1, 'x', `<item type='group' value='Nobody' action='deny' order='1'/>`)), 'item-not-found');
      assert.equal(errorCondition(await pset(a1, `<active name='nope'/>`)), 'item-not-found');
      assert.equal(errorCondition(await pset(a1, `<default name='nope'/>`)), 'item-not-found');
      assert.equal(errorCondition(await pset(a1, `<list name='nope'/>`)), 'item-not-found', 'removing a list that does not exist');
      assert.deepEqual(names(await pget(a1)).lists.sort(), ['public', 'special'], 'failed edits changed nothing');

      // Active per session, default for the account.
      ok(await pset(a1, `<active name='special'/>`));
      ok(await pset(a1, `<default name='public'/>`));
      assert.deepEqual(names(await pget(a1)), { active: 'special', default: 'public', lists: ['public', 'special'] });
      assert.deepEqual(names(await pget(a2)), { default: 'public', lists: ['public', 'special'] }, 'the active list is per session');
      // §2.2 conflicts.
      assert.equal(errorCondition(await pset(a2, `<list name='special'/>`)), 'conflict', 'active for another resource');
      assert.equal(errorCondition(await pset(a1, `<default name='special'/>`)), 'conflict', 'the default applies to a2');
      ok(await pset(a2, `<default name='special'/>`)); // a1 has an active list: the default applies to nobody else
      ok(await pset(a1, `<active/>`));
      assert.deepEqual(names(await pget(a1)), { default: 'special', lists: ['public', 'special'] });
      ok(await pset(a1, `<list name='public'/>`)); // applies to nobody
      await take(a2, privacyPush('public'), 'push on removal');
      assert.equal(errorCondition(await pset(a2, `<list name='special'/>`)), 'conflict', 'the default applies to a1');
      assert.equal(errorCondition(await pset(a2, `<default/>`)), 'conflict');
      a1.destroy();
      await sleep(100);
      ok(await pset(a2, `<default/>`));
      ok(await pset(a2, `<list name='special'/>`));
      assert.deepEqual(names(await pget(a2)), { lists: [] });
      // Someone else's lists.
      const b = await login(ts, 'bob', 'b');
      assert.equal(errorCondition(await iq(b, 'get', q(), 'alice@localhost')), 'forbidden');
      a2.destroy(); b.destroy();
    } finally { await ts.stop(); }
  });

  it('the XEP-0191 blocklist and the XEP-0016 list named for it see each other\'s edits', async () => {
    const ts = await setup();
    try {
      const aBlock = await login(ts, 'alice', 'blocker');   // a XEP-0191 client
      const aPriv = await login(ts, 'alice', 'privacy');    // a XEP-0016 client
      const aPlain = await login(ts, 'alice', 'plain');     // uses neither
      const c = await login(ts, 'carol', 'c'); const d = await login(ts, 'dave', 'd');
      ok(await iq(aBlock, 'get', `<blocklist xmlns='${NS_B}'/>`));
      assert.deepEqual(names(await pget(aPriv)), { lists: [] });

      // Blocking shows in the privacy list (a jid/deny item), which becomes the default.
      ok(await iq(aBlock, 'set', `<block xmlns='${NS_B}'><item jid='bob@localhost'/></block>`));
      await take(aPriv, privacyPush(BLOCKLIST), 'privacy push to the XEP-0016 client');
      await take(aBlock, blockPush, 'block push for bob');
      assert.deepEqual(names(await pget(aPriv)), { default: BLOCKLIST, lists: [BLOCKLIST] });
      assert.deepEqual(await listOf(aPriv, BLOCKLIST), ['0 jid bob@localhost deny']);

      // A jid/deny item without kinds added through XEP-0016 is blocked for XEP-0191; one with
      // a kind is a privacy rule only.
      const mark = aBlock.elements.length;
      ok(await setList(aPriv, BLOCKLIST, `<item type='jid' value='bob@localhost' action='deny' order='0'/>`
        + `<item type='jid' value='carol@localhost' action='deny' order='1'/>`
        + `<item type='jid' value='dave@localhost' action='deny' order='2'><message/></item>`));
      const p = await take(aBlock, blockPush, 'block push');
      assert.equal(p.getChildByNs(NS_B)!.name, 'block');
      assert.deepEqual(p.getChildByNs(NS_B)!.getChildren('item').map((i) => i.attr('jid')), ['carol@localhost']);
      await take(aPlain, privacyPush(BLOCKLIST), 'a XEP-0016 edit is pushed to every connected resource');
      const bl = await iq(aBlock, 'get', `<blocklist xmlns='${NS_B}'/>`);
      assert.deepEqual(bl.getChild('blocklist', NS_B)!.getChildren('item').map((i) => i.attr('jid')), ['bob@localhost', 'carol@localhost']);
      c.send(chat('alice@localhost', 'c1'));
      assert.equal(errorCondition(await take(c, byId('c1'))), 'service-unavailable');
      d.send(chat('alice@localhost', 'd1'));
      assert.equal(errorCondition(await take(d, byId('d1'))), 'service-unavailable', 'denied by the privacy item (the list is the default)');
      aPriv.send(chat('carol@localhost', 'c2'));
      const refused = await take(aPriv, byId('c2'));
      assert.equal(errorCondition(refused), 'not-acceptable');
      assert.ok(refused.getChild('error')!.getChild('blocked', 'urn:xmpp:blocking:errors'));
      aPriv.send(chat('dave@localhost/d', 'd2'));
      await take(d, byId('d2')); // <message/> covers incoming messages only

      // Removing the item through XEP-0016 unblocks for XEP-0191 clients.
      ok(await setList(aPriv, BLOCKLIST, `<item type='jid' value='carol@localhost' action='deny' order='1'/><item type='jid' value='dave@localhost' action='deny' order='2'><message/></item>`));
      const u = await take(aBlock, blockPush, 'unblock push');
      assert.equal(u.getChildByNs(NS_B)!.name, 'unblock');
      assert.deepEqual(u.getChildByNs(NS_B)!.getChildren('item').map((i) => i.attr('jid')), ['bob@localhost']);

      // Unblock-all removes the blocklist items and keeps the privacy rule; the plain resource
      // is not sent privacy pushes for blocking-command edits.
      await take(aPlain, privacyPush(BLOCKLIST), 'push of the second XEP-0016 edit');
      await iq(aPlain, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
      const plainMark = aPlain.elements.length;
      ok(await iq(aBlock, 'set', `<unblock xmlns='${NS_B}'/>`));
      await take(aPriv, privacyPush(BLOCKLIST), 'privacy push after unblock-all');
      assert.deepEqual(await listOf(aPriv, BLOCKLIST), ['2 jid dave@localhost deny message']);
      await noneSince(aPlain, plainMark, privacyPush(BLOCKLIST), 'privacy push to a resource that never used XEP-0016');
      await noneSince(aBlock, mark, (e) => blockPush(e) && e.getChildByNs(NS_B)!.name === 'block' && e.getChildByNs(NS_B)!.getChildren('item').some((i) => i.attr('jid') === 'dave@localhost'), 'dave in a block push', 0);
      c.send(chat('alice@localhost/blocker', 'c3'));
      await take(aBlock, byId('c3'));
      for (const x of [aBlock, aPriv, aPlain, c, d]) x.destroy();
    } finally { await ts.stop(); }
  });

  it('evaluation: by JID, subscription and group, per stanza kind, first match wins', async () => {
    const ts = await setup();
    try {
      await befriend(ts, 'alice', 'bob');
      const a = await login(ts, 'alice', 'a');
      const b = await login(ts, 'bob', 'b'); const c = await login(ts, 'carol', 'c'); const d = await login(ts, 'dave', 'd');
      ok(await rosterSet(a, itemXml('carol@localhost', { groups: ['Enemies'] })));
      await presenceSync(b, `<presence/>`);
      await presenceSync(a, `<presence/>`);
      await take(b, isPresence(undefined, 'alice@localhost/a'), 'alice available to bob');
      ok(await setList(a, 'rules',
        `<item type='jid' value='dave@localhost' action='allow' order='1'><message/></item>`
        + `<item type='subscription' value='none' action='deny' order='2'><message/></item>`
        + `<item type='jid' value='bob@localhost' action='deny' order='3'><presence-in/></item>`
        + `<item type='jid' value='bob@localhost' action='deny' order='4'><presence-out/></item>`
        + `<item type='group' value='Enemies' action='deny' order='5'><iq/></item>`));
      ok(await pset(a, `<default name='rules'/>`));
      // presence-out now denies bob, who had alice's presence: he is told she is gone.
      await take(b, isPresence('unavailable', 'alice@localhost/a'), 'unavailable to bob on the list change');

      d.send(chat('alice@localhost', 'd1')); // allowed by order 1 before the subscription rule
      await take(a, byId('d1'));
      c.send(chat('alice@localhost', 'c1')); // subscription none
      assert.equal(errorCondition(await take(c, byId('c1'))), 'service-unavailable');
      b.send(chat('alice@localhost', 'b1')); // subscription both: allowed
      await take(a, byId('b1'));
      // Group item on iq only: carol's iq is refused, her presence is not affected.
      c.send(`<iq type='get' to='alice@localhost/a' id='c2'><query xmlns='jabber:iq:version'/></iq>`);
      assert.equal(errorCondition(await take(c, byId('c2'))), 'service-unavailable');
      d.send(`<iq type='get' to='alice@localhost/a' id='d2'><query xmlns='jabber:iq:version'/></iq>`);
      await take(a, (e) => e.name === 'iq' && e.attr('id') === 'd2');
      // presence-in: bob's presence does not reach alice; presence-out: her directed presence is refused.
      const mark = a.elements.length;
      await presenceSync(b, `<presence><show>dnd</show></presence>`);
      await noneSince(a, mark, (e) => e.name === 'presence' && e.attr('from') === 'bob@localhost/b', 'bob\'s presence');
      a.send(`<presence to='bob@localhost'/>`);
      const err = await take(a, (e) => e.name === 'presence' && e.attr('type') === 'error');
      assert.equal(errorCondition(err), 'not-acceptable');
      assert.equal(err.getChild('error')!.getChild('blocked', 'urn:xmpp:blocking:errors'), undefined, 'no <blocked/> for privacy rules');
      // Messages to bob are not covered by any item.
      a.send(chat('bob@localhost', 'a1'));
      await take(b, byId('a1'));
      for (const x of [a, b, c, d]) x.destroy();
    } finally { await ts.stop(); }
  });

  it('an active list applies to its own session only; outbound all-kinds deny refuses stanzas', async () => {
    const ts = await setup();
    try {
      const a1 = await login(ts, 'alice', 'one'); const a2 = await login(ts, 'alice', 'two');
      const b = await login(ts, 'bob', 'b');
      ok(await setList(a1, 'quiet', `<item action='deny' order='1'><message/></item>`));
      ok(await pset(a1, `<active name='quiet'/>`));
      b.send(chat('alice@localhost/one', 'q1'));
      assert.equal(errorCondition(await take(b, byId('q1'))), 'service-unavailable');
      b.send(chat('alice@localhost/two', 'q2'));
      await take(a2, byId('q2'));
      ok(await pset(a1, `<active/>`));
      b.send(chat('alice@localhost/one', 'q3'));
      await take(a1, byId('q3'));
      // A jid item without kinds blocks both directions.
      ok(await setList(a2, 'nobob', `<item type='jid' value='bob@localhost' action='deny' order='1'/>`));
      ok(await pset(a2, `<active name='nobob'/>`));
      a2.send(chat('bob@localhost', 'q4'));
      assert.equal(errorCondition(await take(a2, byId('q4'))), 'not-acceptable');
      a1.send(chat('bob@localhost/b', 'q5'));
      await take(b, byId('q5'));
      for (const x of [a1, a2, b]) x.destroy();
    } finally { await ts.stop(); }
  });

  it('a bare-JID message or presence is judged by each receiving resource\'s list (§2.2)', async () => {
    const ts = await setup();
    try {
      await befriend(ts, 'alice', 'bob');
      const b = await login(ts, 'bob', 'b');
      await presenceSync(b, `<presence/>`);
      const a1 = await login(ts, 'alice', 'one'); const a2 = await login(ts, 'alice', 'two');
      ok(await setList(a1, 'quietbob', `<item type='jid' value='bob@localhost' action='deny' order='1'><message/><presence-in/></item>`));
      ok(await pset(a1, `<active name='quietbob'/>`));
      await presenceSync(a1, `<presence><priority>5</priority></presence>`);
      await presenceSync(a2, `<presence/>`);
      await take(a2, isPresence(undefined, 'bob@localhost/b'), 'bob\'s presence to the resource without a list');
      const [m1, m2] = [a1.elements.length, a2.elements.length];

      // Privacy lists come before the choice of resources: the highest priority resource
      // refuses bob, so his message goes to the other one.
      b.send(chat('alice@localhost', 'm1'));
      await take(a2, byId('m1'), 'the message at the lower priority resource');
      await presenceSync(b, `<presence><show>away</show></presence>`);
      await take(a2, (e) => isPresence(undefined, 'bob@localhost/b')(e) && e.getChildText('show') === 'away', 'bob\'s new presence at two');
      // Nor a carbon copy of his messages to the other resource (XEP-0280 §7).
      ok(await iq(a1, 'set', `<enable xmlns='urn:xmpp:carbons:2'/>`));
      const c = await login(ts, 'carol', 'c');
      c.send(chat('alice@localhost/two', 'c1'));
      await take(a1, (e) => e.name === 'message' && e.getChild('received', 'urn:xmpp:carbons:2')?.toString().includes("id=\"c1\"") === true, 'a carbon of carol\'s message');
      b.send(chat('alice@localhost/two', 'm1b'));
      await take(a2, byId('m1b'));
      await noneSince(a1, m1, (e) => e.attr('from')?.startsWith('bob@') === true || (e.name === 'message' && e.toString().includes('m1b')), 'a stanza from bob at the resource whose active list refuses him');

      // Every eligible resource refuses: service-unavailable, and nothing is kept offline.
      ok(await pset(a2, `<active name='quietbob'/>`));
      b.send(chat('alice@localhost', 'm2'));
      assert.equal(errorCondition(await take(b, byId('m2'))), 'service-unavailable');
      await noneSince(a2, m2, (e) => e.name === 'message' && e.attr('id') === 'm2', 'the refused message');
      a1.destroy(); a2.destroy();
      await sleep(100);
      const a3 = await login(ts, 'alice', 'three');
      await presenceSync(a3, `<presence/>`);
      await noneSince(a3, 0, (e) => e.name === 'message' && e.attr('id') === 'm2', 'the refused message from offline storage');
      a3.destroy(); b.destroy(); c.destroy();
    } finally { await ts.stop(); }
  });

  it('an active list takes what the default list denies; without a resource the default list decides; offline delivery obeys the session\'s list', async () => {
    const ts = await setup();
    try {
      const a1 = await login(ts, 'alice', 'one'); const a2 = await login(ts, 'alice', 'two');
      const b = await login(ts, 'bob', 'b'); const c = await login(ts, 'carol', 'c');
      ok(await setList(a1, 'nocarol', `<item type='jid' value='carol@localhost' action='deny' order='1'><message/></item>`));
      ok(await setList(a1, 'open', `<item action='allow' order='1'/>`));
      ok(await pset(a1, `<default name='nocarol'/>`));
      ok(await pset(a1, `<active name='open'/>`));
      await presenceSync(a1, `<presence/>`);
      await presenceSync(a2, `<presence/>`);
      const m2 = a2.elements.length;
      c.send(chat('alice@localhost', 'c1'));
      await take(a1, byId('c1'), 'the message at the resource whose active list allows carol');
      await noneSince(a2, m2, byId('c1'), 'the message at the resource the default list applies to');

      // The only eligible resource applies the default list: refused.
      await presenceSync(a1, `<presence type='unavailable'/>`);
      c.send(chat('alice@localhost', 'c2'));
      assert.equal(errorCondition(await take(c, byId('c2'))), 'service-unavailable');
      // No resource at all: the default list decides, before offline storage.
      a1.destroy(); a2.destroy();
      await sleep(100);
      c.send(chat('alice@localhost', 'c3'));
      assert.equal(errorCondition(await take(c, byId('c3'))), 'service-unavailable');
      b.send(chat('alice@localhost', 'b1'));
      b.send(chat('alice@localhost', 'b2'));
      await iq(b, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');

      // Stored messages are judged again by the list of the session they are delivered to.
      const a3 = await login(ts, 'alice', 'three');
      ok(await setList(a3, 'nobob', `<item type='jid' value='bob@localhost' action='deny' order='1'><message/></item>`));
      ok(await pset(a3, `<active name='nobob'/>`));
      await presenceSync(a3, `<presence/>`);
      await noneSince(a3, 0, (e) => e.name === 'message' && (e.attr('id') === 'b1' || e.attr('id') === 'c3'), 'a refused message from offline storage', 500);
      a3.destroy();
      await sleep(100);
      const a4 = await login(ts, 'alice', 'four');
      await presenceSync(a4, `<presence/>`);
      await noneSince(a4, 0, (e) => e.name === 'message' && e.attr('id')?.startsWith('b') === true, 'messages the first session dropped', 500);
      a4.destroy(); b.destroy(); c.destroy();
    } finally { await ts.stop(); }
  });

  it('presence-in becoming denied sends the user unavailable from the contact; allowing it again probes (§2.10)', async () => {
    const ts = await setup();
    try {
      await befriend(ts, 'alice', 'bob');
      const b = await login(ts, 'bob', 'b');
      await presenceSync(b, `<presence/>`);
      const a1 = await login(ts, 'alice', 'one'); const a2 = await login(ts, 'alice', 'two');
      await presenceSync(a1, `<presence/>`);
      await presenceSync(a2, `<presence/>`);
      for (const a of [a1, a2]) await take(a, isPresence(undefined, 'bob@localhost/b'), 'bob available');
      await take(b, isPresence(undefined, 'alice@localhost/one'), 'alice/one available to bob');
      await take(b, isPresence(undefined, 'alice@localhost/two'), 'alice/two available to bob');

      // An active list: only that resource is told bob is gone; bob still sees alice.
      const [m2, mb] = [a2.elements.length, b.elements.length];
      ok(await setList(a1, 'deaf', `<item type='jid' value='bob@localhost' action='deny' order='1'><presence-in/></item>`));
      ok(await pset(a1, `<active name='deaf'/>`));
      await take(a1, isPresence('unavailable', 'bob@localhost/b'), 'unavailable from bob to the resource that stops hearing him');
      await noneSince(a2, m2, isPresence('unavailable', 'bob@localhost/b'), 'unavailable from bob at the other resource');
      await noneSince(b, mb, isPresence('unavailable'), 'unavailable to bob (presence-out is not blocked)', 0);
      // Declining the list: bob is probed and his presence comes back.
      ok(await pset(a1, `<active/>`));
      await take(a1, isPresence(undefined, 'bob@localhost/b'), 'bob\'s presence again after the list is declined');
      await take(a2, isPresence(undefined, 'bob@localhost/b'), 'the answer to the probe reaches the other resource too');

      // The same through the default list: each resource it applies to.
      ok(await pset(a1, `<default name='deaf'/>`));
      for (const a of [a1, a2]) await take(a, isPresence('unavailable', 'bob@localhost/b'), 'unavailable from bob on the default list');
      ok(await setList(a2, 'deaf', `<item action='allow' order='1'/>`));
      for (const a of [a1, a2]) await take(a, isPresence(undefined, 'bob@localhost/b'), 'bob again once the default list allows him');
      // The blocking command delivers nothing from the contact (XEP-0191 §3.3), not even that.
      const [n1, n2] = [a1.elements.length, a2.elements.length];
      ok(await iq(a1, 'set', `<block xmlns='${NS_B}'><item jid='bob@localhost'/></block>`));
      await take(b, isPresence('unavailable', 'alice@localhost/one'), 'alice/one gone for the blocked bob');
      await noneSince(a1, n1, (e) => e.attr('from')?.startsWith('bob@') === true, 'a stanza from a blocked bob');
      await noneSince(a2, n2, (e) => e.attr('from')?.startsWith('bob@') === true, 'a stanza from a blocked bob', 0);
      for (const x of [a1, a2, b]) x.destroy();
    } finally { await ts.stop(); }
  });
});
