// Service discovery on accounts (XEP-0030 §3.1, §4.1, §8): the server answers for a bare JID,
// and only the account itself (and the server) or a requester the account shares its presence
// with (subscription 'from'/'both') learns anything: others get service-unavailable for
// disco#info and an empty disco#items, exactly as for a missing account.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { startTestServer, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { online, iq, condition, rosterStandIn } from './services-helpers.js';

const INFO = 'http://jabber.org/protocol/disco#info';
const ITEMS = 'http://jabber.org/protocol/disco#items';
const roster = rosterStandIn();
const pw = (u: string) => 'pw-' + u;

describe('service discovery of accounts', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({}, { modules: [roster.module] });
    for (const u of ['owner', 'friend', 'stranger']) await ts.addUser(u, pw(u));
    await roster.allow(ts, 'owner', 'friend', pw);
  });
  after(async () => { await ts.stop(); });

  it('disco#info: the account and its presence subscribers get the account identity; others and missing accounts service-unavailable', async () => {
    const owner = await online(ts, 'owner', pw('owner'));
    const friend = await online(ts, 'friend', pw('friend'));
    const stranger = await online(ts, 'stranger', pw('stranger'));
    try {
      for (const c of [owner, friend]) {
        const r = await iq(c, `type='get' to='owner@localhost'`, `<query xmlns='${INFO}'/>`);
        assert.equal(r.attr('type'), 'result', r.toString());
        assert.equal(r.attr('from'), 'owner@localhost');
        const q = r.getChild('query', INFO)!;
        // The PEP service (XEP-0163 §6) answers on the account too.
        assert.deepEqual(q.getChildren('identity').map((i) => `${i.attr('category')}/${i.attr('type')}`), ['account/registered', 'pubsub/pep']);
        assert.ok(q.getChildren('feature').some((f) => f.attr('var') === INFO));
      }
      const hidden = await iq(stranger, `type='get' to='owner@localhost'`, `<query xmlns='${INFO}'/>`);
      const missing = await iq(stranger, `type='get' to='ghost@localhost'`, `<query xmlns='${INFO}'/>`);
      assert.equal(condition(hidden), 'service-unavailable');
      assert.equal(condition(missing), 'service-unavailable');
      // Indistinguishable: same error element.
      assert.equal(hidden.getChild('error')!.toString(), missing.getChild('error')!.toString());
      assert.equal(condition(await iq(stranger, `type='get' to='ghost@localhost'`, `<query xmlns='${INFO}' node='x'/>`)), 'service-unavailable');
      assert.equal(condition(await iq(friend, `type='get' to='owner@localhost'`, `<query xmlns='${INFO}' node='x'/>`)), 'item-not-found');
    } finally { owner.destroy(); friend.destroy(); stranger.destroy(); }
  });

  it('disco#items: connected resources for the account, available ones for its subscribers; an empty result for others and missing accounts', async () => {
    const owner = await online(ts, 'owner', pw('owner'), 'desk');
    const idle = await online(ts, 'owner', pw('owner'), 'idle');
    const friend = await online(ts, 'friend', pw('friend'));
    const stranger = await online(ts, 'stranger', pw('stranger'));
    try {
      owner.send(`<presence/>`);
      const ping = await iq(owner, `type='get' to='localhost'`, `<ping xmlns='urn:xmpp:ping'/>`); // presence processed
      assert.equal(ping.attr('type'), 'result');
      // Availability is the presence module's state; without that module, set it as it would.
      const desk = ts.server.sessions.get('owner@localhost/desk')!;
      desk.presence ??= parseFragment(`<presence xmlns='jabber:client' from='owner@localhost/desk'/>`);
      const items = async (c: RawClient) => (await iq(c, `type='get' to='owner@localhost'`, `<query xmlns='${ITEMS}'/>`)).getChild('query', ITEMS)!.getChildren('item').map((i) => i.attr('jid')).sort();
      assert.deepEqual(await items(friend), ['owner@localhost/desk'], 'a subscriber sees only available resources');
      assert.deepEqual(await items(owner), ['owner@localhost/desk', 'owner@localhost/idle'], 'the account sees all its connected resources');
      for (const to of ['owner@localhost', 'ghost@localhost']) {
        const r = await iq(stranger, `type='get' to='${to}'`, `<query xmlns='${ITEMS}'/>`);
        assert.equal(r.attr('type'), 'result', to);
        assert.equal(r.getChild('query', ITEMS)!.elements().length, 0, to);
      }
      const withNode = await iq(stranger, `type='get' to='ghost@localhost'`, `<query xmlns='${ITEMS}' node='n'/>`);
      assert.equal(withNode.attr('type'), 'result');
      assert.equal(withNode.getChild('query', ITEMS)!.attr('node'), 'n');
      idle.destroy();
    } finally { owner.destroy(); friend.destroy(); stranger.destroy(); }
  });
});
