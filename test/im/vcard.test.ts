// vcard-temp (XEP-0054) end to end: raw clients and slixmpp's xep_0054 plugin set and read
// vCards through Magpie; others' vCards, missing ones, forbidden sets, the size limit, the
// server's own vCard, and durability across a restart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import vcard from '@magpie/server/modules/vcard/vcard';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { SlixServices, slixmppAvailable } from '../support/slix-services.js';
import { online, iq, condition, errorType } from './services-helpers.js';

const NS = 'vcard-temp';
const SERVER_VCARD = `<vCard xmlns='vcard-temp'><FN>Magpie test server</FN><URL>https://example.org/</URL></vCard>`;
const options = { modules: { options: { vcard: { maxBytes: 2048, serverVCard: SERVER_VCARD } } } };

describe('vcard-temp', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer(options, { modules: [vcard] });
    for (const u of ['alice', 'bob', 'carol', 'slix']) await ts.addUser(u, 'pw-' + u);
  });
  after(async () => { await ts.stop(); });

  it('a user sets their vCard; they and others read it; others\' missing vCards and missing accounts are service-unavailable', async () => {
    const alice = await online(ts, 'alice', 'pw-alice');
    const bob = await online(ts, 'bob', 'pw-bob');
    try {
      // §3.1: no vCard yet → an empty <vCard/> for the owner.
      const empty = await iq(alice, `type='get'`, `<vCard xmlns='${NS}'/>`);
      assert.equal(empty.attr('type'), 'result');
      const v0 = empty.getChild('vCard', NS)!;
      assert.ok(v0, empty.toString());
      assert.equal(v0.elements().length, 0);

      // §3.3 (1.3.0): someone else's missing vCard and a missing account answer the same error.
      const missing = await iq(bob, `type='get' to='alice@localhost'`, `<vCard xmlns='${NS}'/>`);
      assert.equal(condition(missing), 'service-unavailable');
      const noAccount = await iq(bob, `type='get' to='nobody@localhost'`, `<vCard xmlns='${NS}'/>`);
      assert.equal(condition(noAccount), 'service-unavailable');
      assert.equal(errorType(noAccount), 'cancel');

      // §3.2: set with no 'to'.
      const set = await iq(alice, `type='set'`, `<vCard xmlns='${NS}'><FN>Alice Liddell</FN><N><FAMILY>Liddell</FAMILY><GIVEN>Alice</GIVEN><MIDDLE/></N><NICKNAME>alice &amp; co</NICKNAME><TEL><HOME/><VOICE/><NUMBER/></TEL></vCard>`);
      assert.equal(set.attr('type'), 'result', set.toString());

      const own = (await iq(alice, `type='get'`, `<vCard xmlns='${NS}'/>`)).getChild('vCard', NS)!;
      assert.equal(own.getChildText('FN'), 'Alice Liddell');
      assert.equal(own.getChild('N')!.getChildText('GIVEN'), 'Alice');
      assert.ok(own.getChild('N')!.getChild('MIDDLE'));

      // §3.3: another user gets it at the bare JID, from the bare JID.
      const other = await iq(bob, `type='get' to='alice@localhost'`, `<vCard xmlns='${NS}'/>`);
      assert.equal(other.attr('from'), 'alice@localhost');
      assert.equal(other.getChild('vCard', NS)!.getChildText('NICKNAME'), 'alice & co');
      assert.ok(other.getChild('vCard', NS)!.getChild('TEL')!.getChild('NUMBER'));

      // Setting to the own bare JID explicitly is the same as no 'to'; it replaces everything.
      const set2 = await iq(alice, `type='set' to='alice@localhost'`, `<vCard xmlns='${NS}'><FN>Alice L.</FN></vCard>`);
      assert.equal(set2.attr('type'), 'result');
      const v2 = (await iq(bob, `type='get' to='alice@localhost'`, `<vCard xmlns='${NS}'/>`)).getChild('vCard', NS)!;
      assert.equal(v2.getChildText('FN'), 'Alice L.');
      assert.equal(v2.getChild('NICKNAME'), undefined);
    } finally { alice.destroy(); bob.destroy(); }
  });

  it('setting another user\'s vCard is forbidden and changes nothing', async () => {
    const alice = await online(ts, 'alice', 'pw-alice', 'f');
    const carol = await online(ts, 'carol', 'pw-carol', 'f');
    try {
      await iq(alice, `type='set'`, `<vCard xmlns='${NS}'><FN>The real Alice</FN></vCard>`);
      const r = await iq(carol, `type='set' to='alice@localhost'`, `<vCard xmlns='${NS}'><FN>Hacked</FN></vCard>`);
      assert.equal(condition(r), 'forbidden');
      assert.equal(errorType(r), 'auth');
      const r2 = await iq(carol, `type='set' to='localhost'`, `<vCard xmlns='${NS}'><FN>Hacked</FN></vCard>`);
      assert.equal(condition(r2), 'forbidden');
      const v = await iq(carol, `type='get' to='alice@localhost'`, `<vCard xmlns='${NS}'/>`);
      assert.equal(v.getChild('vCard', NS)!.getChildText('FN'), 'The real Alice');
    } finally { alice.destroy(); carol.destroy(); }
  });

  it('a vCard over maxBytes is refused (policy-violation) and the stored one kept; an empty vCard removes it', async () => {
    const carol = await online(ts, 'carol', 'pw-carol', 'big');
    const bob = await online(ts, 'bob', 'pw-bob', 'big');
    try {
      assert.equal((await iq(carol, `type='set'`, `<vCard xmlns='${NS}'><FN>Carol</FN></vCard>`)).attr('type'), 'result');
      const photo = 'A'.repeat(3000);
      const big = await iq(carol, `type='set'`, `<vCard xmlns='${NS}'><FN>Carol</FN><PHOTO><TYPE>image/png</TYPE><BINVAL>${photo}</BINVAL></PHOTO></vCard>`);
      assert.equal(condition(big), 'policy-violation');
      assert.equal(errorType(big), 'modify');
      const kept = await iq(bob, `type='get' to='carol@localhost'`, `<vCard xmlns='${NS}'/>`);
      assert.equal(kept.getChild('vCard', NS)!.getChildText('FN'), 'Carol');
      assert.equal(kept.getChild('vCard', NS)!.getChild('PHOTO'), undefined);

      assert.equal((await iq(carol, `type='set'`, `<vCard xmlns='${NS}'/>`)).attr('type'), 'result');
      assert.equal(condition(await iq(bob, `type='get' to='carol@localhost'`, `<vCard xmlns='${NS}'/>`)), 'service-unavailable');
      const own = await iq(carol, `type='get'`, `<vCard xmlns='${NS}'/>`);
      assert.equal(own.getChild('vCard', NS)!.elements().length, 0);
    } finally { carol.destroy(); bob.destroy(); }
  });

  it('the server answers with its configured vCard and advertises vcard-temp on itself and on accounts', async () => {
    const bob = await online(ts, 'bob', 'pw-bob', 'srv');
    try {
      const r = await iq(bob, `type='get' to='localhost'`, `<vCard xmlns='${NS}'/>`);
      assert.equal(r.attr('from'), 'localhost');
      assert.equal(r.getChild('vCard', NS)!.getChildText('FN'), 'Magpie test server');
      const info = await iq(bob, `type='get' to='localhost'`, `<query xmlns='http://jabber.org/protocol/disco#info'/>`);
      assert.ok(info.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').some((f) => f.attr('var') === NS));
      const own = await iq(bob, `type='get' to='bob@localhost'`, `<query xmlns='http://jabber.org/protocol/disco#info'/>`);
      assert.ok(own.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').some((f) => f.attr('var') === NS), own.toString());
    } finally { bob.destroy(); }
  });

  it('slixmpp (xep_0054) publishes a vCard a raw client reads, and reads one a raw client set', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const s = new SlixServices({ jid: 'slix@localhost/py', password: 'pw-slix', port: ts.port });
    const bob = await online(ts, 'bob', 'pw-bob', 'slix');
    try {
      await s.next((e) => e.event === 'session_start');
      assert.equal((await s.run({ cmd: 'vcard_publish', fn: 'Slix Python', nickname: 'snake ☀' }, 'vcard_published')).event, 'vcard_published');
      const v = (await iq(bob, `type='get' to='slix@localhost'`, `<vCard xmlns='${NS}'/>`)).getChild('vCard', NS)!;
      assert.equal(v.getChildText('FN'), 'Slix Python');
      assert.equal(v.getChildText('NICKNAME'), 'snake ☀');

      await iq(bob, `type='set'`, `<vCard xmlns='${NS}'><FN>Bob Raw</FN><NICKNAME>bobby</NICKNAME></vCard>`);
      const got = await s.run({ cmd: 'vcard_get', jid: 'bob@localhost' }, 'vcard');
      assert.equal(got.event, 'vcard', JSON.stringify(got));
      assert.equal(got.frm, 'bob@localhost');
      assert.equal(got.fn, 'Bob Raw');
      assert.deepEqual([got.nickname].flat(), ['bobby']); // slixmpp gives NICKNAME as a list

      const none = await s.run({ cmd: 'vcard_get', jid: 'nobody@localhost' }, 'vcard');
      assert.deepEqual([none.event, none.condition], ['error', 'service-unavailable']);
    } finally { await s.quit(); bob.destroy(); }
  });

  it('vCards survive a restart', async () => {
    const alice = await online(ts, 'alice', 'pw-alice', 'restart');
    await iq(alice, `type='set'`, `<vCard xmlns='${NS}'><FN>Alice durable</FN><DESC>line 1\nline 2 &lt;ok&gt;</DESC></vCard>`);
    alice.destroy();
    await ts.stop(true);
    ts = await startTestServer(options, { dir: ts.dir, modules: [vcard] });
    const bob = await online(ts, 'bob', 'pw-bob', 'restart');
    try {
      const v = (await iq(bob, `type='get' to='alice@localhost'`, `<vCard xmlns='${NS}'/>`)).getChild('vCard', NS)!;
      assert.equal(v.getChildText('FN'), 'Alice durable');
      assert.equal(v.getChildText('DESC'), 'line 1\nline 2 <ok>');
    } finally { bob.destroy(); }
  });
});
