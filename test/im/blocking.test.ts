// Blocking Command (XEP-0191) end to end with the roster and presence modules: block and
// unblock with pushes to the resources that asked for the blocklist, what the blocked contact
// and the user experience, presence on block/unblock, JID matching (full, bare, domain),
// unblock-all, errors, and persistence across a restart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import type { MagpieModule } from '@magpie/server/modules/module';
import blocking from '@magpie/server/modules/blocking/blocking';
import offline from '@magpie/server/modules/offline/offline';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { IM_MODULES, befriend, errorCondition, iq, isPresence, login, none, presenceSync, sleep, take, chat, byId, noneSince } from './roster-helpers.js';

const NS_B = 'urn:xmpp:blocking';
const modules = [...IM_MODULES, blocking, offline] as MagpieModule[];

const blocklist = async (c: RawClient): Promise<string[]> => {
  const r = await iq(c, 'get', `<blocklist xmlns='${NS_B}'/>`);
  assert.equal(r.attr('type'), 'result', r.toString());
  return r.getChild('blocklist', NS_B)!.getChildren('item').map((i) => i.attr('jid')!);
};
const itemsXml = (jids: string[]) => jids.map((j) => `<item jid='${j}'/>`).join('');
const block = (c: RawClient, ...jids: string[]) => iq(c, 'set', `<block xmlns='${NS_B}'>${itemsXml(jids)}</block>`);
const unblock = (c: RawClient, ...jids: string[]) => iq(c, 'set', `<unblock xmlns='${NS_B}'>${itemsXml(jids)}</unblock>`);
/** The next blocking push (block or unblock) to `c`: its element name and item JIDs. */
async function pushed(c: RawClient): Promise<{ op: string; jids: string[]; el: Element }> {
  const el = await take(c, (e) => e.name === 'iq' && e.attr('type') === 'set' && !!e.getChildByNs(NS_B), 'blocking push');
  const p = el.getChildByNs(NS_B)!;
  return { op: p.name, jids: p.getChildren('item').map((i) => i.attr('jid')!), el };
}
const isBlockingPush = (e: Element) => e.name === 'iq' && e.attr('type') === 'set' && !!e.getChildByNs(NS_B);

async function setup(): Promise<TestServer> {
  const ts = await startTestServer({}, { modules });
  for (const u of ['alice', 'bob', 'carol']) await ts.addUser(u, 'pw');
  await befriend(ts, 'alice', 'bob');
  return ts;
}

describe('blocking command (XEP-0191)', () => {
  it('block then unblock: pushes, presence, what each side sees', async () => {
    const ts = await setup();
    try {
      const a1 = await login(ts, 'alice', 'one'); const a2 = await login(ts, 'alice', 'two'); const a3 = await login(ts, 'alice', 'three');
      const b = await login(ts, 'bob', 'b');
      const disco = await iq(a1, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'localhost');
      assert.ok(disco.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').some((f) => f.attr('var') === NS_B));
      assert.deepEqual(await blocklist(a1), []);
      assert.deepEqual(await blocklist(a2), []);
      await presenceSync(b, `<presence/>`);
      await presenceSync(a1, `<presence/>`);
      await presenceSync(a2, `<presence/>`);
      await take(b, isPresence(undefined, 'alice@localhost/one'), 'alice/one available');
      await take(b, isPresence(undefined, 'alice@localhost/two'), 'alice/two available');

      const [markA1, markB] = [a1.elements.length, b.elements.length];
      const r = await block(a1, 'bob@localhost');
      assert.equal(r.attr('type'), 'result');
      for (const c of [a1, a2]) {
        const p = await pushed(c);
        assert.deepEqual([p.op, p.jids], ['block', ['bob@localhost']]);
        assert.equal(p.el.attr('from'), 'alice@localhost', 'pushes come from the account');
      }
      await none(a3, isBlockingPush, 'push to a resource that never asked for the blocklist');
      // §3.3: the blocked contact had alice's presence: it now sees her resources go offline.
      await take(b, isPresence('unavailable', 'alice@localhost/one'), 'unavailable from alice/one');
      await take(b, isPresence('unavailable', 'alice@localhost/two'), 'unavailable from alice/two');
      assert.deepEqual(await blocklist(a2), ['bob@localhost']);

      // Inbound from the blocked contact: message and iq get service-unavailable, presence nothing.
      b.send(chat('alice@localhost', 'in1'));
      assert.equal(errorCondition(await take(b, byId('in1'))), 'service-unavailable');
      b.send(`<iq type='get' to='alice@localhost/one' id='in2'><query xmlns='jabber:iq:version'/></iq>`);
      assert.equal(errorCondition(await take(b, byId('in2'))), 'service-unavailable');
      await presenceSync(b, `<presence><show>away</show></presence>`);
      await presenceSync(b, `<presence to='alice@localhost/one'><status>directed</status></presence>`);
      await noneSince(a1, markA1, (e) => e.attr('from')?.startsWith('bob@') === true, 'a stanza from bob');
      await noneSince(b, markB, (e) => e.name === 'presence' && e.attr('type') === 'error', 'a presence error', 0);

      // Outbound to the blocked contact: not-acceptable with <blocked/>.
      a1.send(chat('bob@localhost', 'out1'));
      const err = await take(a1, byId('out1'));
      assert.equal(err.attr('type'), 'error');
      assert.equal(errorCondition(err), 'not-acceptable');
      assert.ok(err.getChild('error')!.getChild('blocked', 'urn:xmpp:blocking:errors'), 'application condition <blocked/>');
      assert.equal(err.attr('from'), 'bob@localhost');
      a2.send(`<presence to='bob@localhost/b'/>`);
      assert.equal(errorCondition(await take(a2, (e) => e.name === 'presence' && e.attr('type') === 'error')), 'not-acceptable');
      await noneSince(b, markB, (e) => e.attr('from')?.startsWith('alice@') === true && e.attr('type') !== 'error' && !(e.name === 'presence' && e.attr('type') === 'unavailable'), 'a stanza from alice');

      // Unblock: pushes, and bob sees alice's current presence again.
      assert.equal((await unblock(a2, 'bob@localhost')).attr('type'), 'result');
      for (const c of [a1, a2]) assert.deepEqual(Object.values(await pushed(c)).slice(0, 2), ['unblock', ['bob@localhost']]);
      await take(b, isPresence(undefined, 'alice@localhost/one'), 'alice/one available again');
      await take(b, isPresence(undefined, 'alice@localhost/two'), 'alice/two available again');
      assert.deepEqual(await blocklist(a1), []);
      b.send(chat('alice@localhost/one', 'in3', 'hello again'));
      assert.equal((await take(a1, byId('in3'))).getChildText('body'), 'hello again');
      a1.send(chat('bob@localhost', 'out2'));
      assert.equal((await take(b, byId('out2'))).attr('type'), 'chat');
      for (const c of [a1, a2, a3, b]) c.destroy();
    } finally { await ts.stop(); }
  });

  it('matching: a full JID blocks one resource, a domain everything at it but the server; unblock-all', async () => {
    const ts = await setup();
    try {
      const a = await login(ts, 'alice', 'a');
      const bEvil = await login(ts, 'bob', 'evil'); const bGood = await login(ts, 'bob', 'good');
      const c = await login(ts, 'carol', 'c');
      await blocklist(a);
      await presenceSync(a, `<presence/>`);
      await block(a, 'bob@localhost/evil');
      assert.deepEqual((await pushed(a)).jids, ['bob@localhost/evil']);
      bEvil.send(chat('alice@localhost', 'e1'));
      assert.equal(errorCondition(await take(bEvil, byId('e1'))), 'service-unavailable');
      bGood.send(chat('alice@localhost', 'g1'));
      await take(a, byId('g1'));
      a.send(chat('bob@localhost/good', 'g2'));
      await take(bGood, byId('g2'));
      a.send(chat('bob@localhost/evil', 'e2'));
      assert.equal(errorCondition(await take(a, byId('e2'))), 'not-acceptable');

      // Several items in one command, one of them a domain.
      await block(a, 'localhost', 'bob@localhost/evil');
      assert.deepEqual((await pushed(a)).jids, ['localhost'], 'only what changed is pushed');
      assert.deepEqual((await blocklist(a)).sort(), ['bob@localhost/evil', 'localhost']);
      c.send(chat('alice@localhost', 'c1'));
      assert.equal(errorCondition(await take(c, byId('c1'))), 'service-unavailable');
      bGood.send(chat('alice@localhost', 'g3'));
      assert.equal(errorCondition(await take(bGood, byId('g3'))), 'service-unavailable');
      // The server itself stays reachable, and so do the user's own resources.
      const ping = await iq(a, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
      assert.equal(ping.attr('type'), 'result');
      const a2 = await login(ts, 'alice', 'a2');
      a2.send(chat('alice@localhost/a', 'self'));
      await take(a, byId('self'));

      // §3.5: an empty unblock unblocks everything, pushed as an empty unblock.
      assert.equal((await unblock(a)).attr('type'), 'result');
      const p = await pushed(a);
      assert.deepEqual([p.op, p.jids], ['unblock', []]);
      assert.deepEqual(await blocklist(a), []);
      c.send(chat('alice@localhost', 'c2'));
      await take(a, byId('c2'));
      for (const x of [a, a2, bEvil, bGood, c]) x.destroy();
    } finally { await ts.stop(); }
  });

  it('errors: empty block, malformed JIDs, someone else\'s blocklist', async () => {
    const ts = await setup();
    try {
      const a = await login(ts, 'alice', 'a');
      const b = await login(ts, 'bob', 'b');
      assert.equal(errorCondition(await iq(a, 'set', `<block xmlns='${NS_B}'/>`)), 'bad-request');
      assert.equal(errorCondition(await block(a, '@localhost')), 'jid-malformed');
      assert.equal(errorCondition(await block(a, 'carol@localhost', 'bad@@localhost')), 'jid-malformed');
      assert.equal(errorCondition(await unblock(a, 'x@')), 'jid-malformed');
      assert.deepEqual(await blocklist(a), [], 'a failed command changes nothing');
      assert.equal(errorCondition(await iq(b, 'get', `<blocklist xmlns='${NS_B}'/>`, 'alice@localhost')), 'forbidden');
      assert.equal(errorCondition(await iq(b, 'set', `<block xmlns='${NS_B}'><item jid='bob@localhost'/></block>`, 'alice@localhost')), 'forbidden');
      a.destroy(); b.destroy();
    } finally { await ts.stop(); }
  });

  it('a block survives a restart; messages from a blocked JID are not stored offline', async () => {
    let ts = await setup();
    try {
      const a = await login(ts, 'alice', 'a');
      await block(a, 'bob@localhost');
      a.destroy();
      await sleep(100);
      const dir = ts.dir;
      await ts.stop(true);
      ts = await startTestServer({}, { modules, dir });
      const b = await login(ts, 'bob', 'b');
      b.send(chat('alice@localhost', 'off1'));
      assert.equal(errorCondition(await take(b, byId('off1'))), 'service-unavailable');
      assert.equal(await ts.server.storage.archive.count('localhost', 'alice', 'offline'), 0);
      const a2 = await login(ts, 'alice', 'a2');
      assert.deepEqual(await blocklist(a2), ['bob@localhost']);
      a2.destroy(); b.destroy();
    } finally { await ts.stop(); }
  });
});

describe('account deletion', () => {
  it('closes the account\'s sessions, and a recreated account starts with an empty blocklist', async () => {
    const ts = await startTestServer({}, { modules });
    try {
      await ts.addUser('alice', 'pw');
      const a = await login(ts, 'alice', 'r1');
      await iq(a, 'set', `<block xmlns='urn:xmpp:blocking'><item jid='spam@localhost'/></block>`);
      await ts.server.accounts.delete('localhost', 'alice');
      await a.waitText(/not-authorized/);
      await a.waitClosed();
      await ts.addUser('alice', 'pw2');
      const b = await login(ts, 'alice', 'r2', 'pw2');
      const list = await iq(b, 'get', `<blocklist xmlns='urn:xmpp:blocking'/>`);
      assert.deepEqual(list.getChild('blocklist', 'urn:xmpp:blocking')!.getChildren('item').map((i) => i.attr('jid')), []);
      b.destroy();
    } finally { await ts.stop(); }
  });
});
