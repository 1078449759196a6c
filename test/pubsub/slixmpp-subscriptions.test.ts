// A third-party subscriber (slixmpp's xep_0060 plugin, Debian's python3-slixmpp) on the generic
// PubSub service: it subscribes with options to an 'authorize' node (XEP-0060 §6.3.7, §6.1.4),
// hears the owner's approval (§8.6 notification of subscription state) and the last item, reads
// its options form (§6.3) and switches delivery off and on again.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { login, presenceSync, take } from '../im/roster-helpers.js';
import { PUBSUB, publish, pubsubIq } from './pubsub-helpers.js';

const SVC = 'pubsub.localhost';
const DATA = 'jabber:x:data';
const ATOM = `<entry xmlns='http://www.w3.org/2005/Atom'/>`;

describe('PubSub subscriptions with slixmpp', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ modules: { options: { pubsub: { service: { creators: ['alice@localhost'] } } } } });
    await ts.addUser('alice', 'pw');
    await ts.addUser('py', 'pw');
  });
  after(async () => { await ts.stop(); });

  it('slixmpp subscribes with options, is approved, and turns delivery off and on', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const alice = await login(ts, 'alice', 'r');
    const s = new SlixClient({ jid: 'py@localhost/slix', password: 'pw', port: ts.port }, 'slix_pubsub.py');
    try {
      await presenceSync(alice, '<presence/>');
      const cfg = `<configure><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#node_config</value></field><field var='pubsub#access_model'><value>authorize</value></field></x></configure>`;
      assert.equal((await pubsubIq(alice, 'set', `<create node='slixclub'/>${cfg}`, SVC)).attr('type'), 'result');
      assert.equal((await publish(alice, 'slixclub', ATOM, 'i1', undefined, SVC)).attr('type'), 'result');
      await s.waitFor((e) => e.event === 'session_start');
      s.command({ cmd: 'presence' });
      await s.waitFor((e) => e.event === 'presence_sent');

      s.command({ cmd: 'subscribe', service: SVC, node: 'slixclub', options: { 'pubsub#deliver': '1', 'pubsub#show-values': ['online', 'chat'] } });
      const sub = await s.waitFor((e) => e.event === 'subscribed' || e.event === 'error');
      assert.equal(sub.event, 'subscribed', JSON.stringify(sub));
      assert.equal(sub.subscription, 'pending');
      assert.deepEqual(sub.options, { FORM_TYPE: [`${PUBSUB}#subscribe_options`], 'pubsub#deliver': true, 'pubsub#show-values': ['chat', 'online'] });

      const request = await take(alice, (e) => e.name === 'message' && !!e.getChild('x', DATA), 'authorization request');
      const subid = request.getChild('x', DATA)!.getChildren('field', DATA).find((f) => f.attr('var') === 'pubsub#subid')!.getChildText('value', DATA);
      alice.send(`<message to='${SVC}'><x xmlns='${DATA}' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#subscribe_authorization</value></field>`
        + `<field var='pubsub#node'><value>slixclub</value></field><field var='pubsub#subscriber_jid'><value>py@localhost</value></field>`
        + `<field var='pubsub#subid'><value>${subid}</value></field><field var='pubsub#allow'><value>true</value></field></x></message>`);
      const approved = await s.waitFor((e) => e.event === 'subscription');
      assert.deepEqual([approved.frm, approved.node, approved.subscription], [SVC, 'slixclub', 'subscribed']);
      assert.equal((await s.waitFor((e) => e.event === 'item')).id, 'i1', 'the last item on approval');

      s.command({ cmd: 'get_options', service: SVC, node: 'slixclub' });
      const got = await s.waitFor((e) => e.event === 'options' || e.event === 'error');
      // (slixmpp reads hidden fields, FORM_TYPE among them, as lists.)
      assert.deepEqual(got.fields, { FORM_TYPE: [`${PUBSUB}#subscribe_options`], 'pubsub#deliver': true, 'pubsub#show-values': ['chat', 'online'] }, JSON.stringify(got));

      let mark = s.mark();
      s.command({ cmd: 'set_options', service: SVC, node: 'slixclub', fields: { 'pubsub#deliver': '0' } });
      assert.equal((await s.waitFor((e) => e.event === 'options_set' || e.event === 'error', 15000, mark)).event, 'options_set');
      assert.equal((await publish(alice, 'slixclub', ATOM, 'i2', undefined, SVC)).attr('type'), 'result');
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(!s.events.slice(mark).some((e) => e.event === 'item'), 'no item with deliver=false');

      mark = s.mark();
      s.command({ cmd: 'set_options', service: SVC, node: 'slixclub', fields: { 'pubsub#deliver': '1' } });
      assert.equal((await s.waitFor((e) => e.event === 'options_set' || e.event === 'error', 15000, mark)).event, 'options_set');
      assert.equal((await publish(alice, 'slixclub', ATOM, 'i3', undefined, SVC)).attr('type'), 'result');
      assert.equal((await s.waitFor((e) => e.event === 'item', 15000, mark)).id, 'i3');
    } finally { await s.quit(); alice.destroy(); }
  });
});
