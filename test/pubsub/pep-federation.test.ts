// PEP across servers (XEP-0163 §4): a contact on another Magpie server announces +notify in
// the caps of the presence it sends; the owner's server verifies them with a disco#info query
// from the owner's bare JID, sends the last published item, then every new one.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { isPresence, push, take } from '../im/roster-helpers.js';
import { loginAt, route, startFederated } from '../s2s/federation-helpers.js';
import { EVENT, capsVer, publish, takeEvent } from './pubsub-helpers.js';

const T = 20_000;
const MOOD = 'http://jabber.org/protocol/mood';
const INFO = 'http://jabber.org/protocol/disco#info';
const CAPS = 'http://jabber.org/protocol/caps';

/** Answer every disco#info query `c` receives (its own server's and the remote PEP service's). */
function answerDisco(c: RawClient, features: string[]): () => void {
  const answered = new Set<unknown>();
  const t = setInterval(() => {
    for (const q of c.elements) {
      if (answered.has(q) || q.name !== 'iq' || q.attr('type') !== 'get' || !q.getChild('query', INFO)) continue;
      answered.add(q);
      const node = q.getChild('query', INFO)!.attr('node')!;
      c.send(`<iq type='result' id='${q.attr('id')}' to='${q.attr('from')}'><query xmlns='${INFO}' node='${node}'><identity category='client' type='pc' name='Test'/>${features.map((f) => `<feature var='${f}'/>`).join('')}</query></iq>`);
    }
  }, 25);
  return () => clearInterval(t);
}

describe('PEP across servers', () => {
  let A: TestServer, B: TestServer;
  before(async () => {
    A = await startFederated('a.localhost');
    B = await startFederated('b.localhost');
    route(A, B); route(B, A);
    await A.addUser('alice', 'pw'); await B.addUser('bob', 'pw');
  });
  after(async () => { await A?.stop(); await B?.stop(); });

  it('a remote contact with +notify gets the last item on presence and then new items', async () => {
    const a = 'alice@a.localhost', b = 'bob@b.localhost';
    const alice = await loginAt(A, 'alice', 'r1');
    const bob = await loginAt(B, 'bob', 'setup');
    const stop: (() => void)[] = [];
    try {
      // Mutual subscription over s2s (RFC 6121 §3), as in the federation scenarios; requests
      // reach available resources.
      // (Roster pushes go to resources that requested the roster.)
      alice.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
      bob.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
      await take(alice, (e) => e.attr('id') === 'r0'); await take(bob, (e) => e.attr('id') === 'r0');
      alice.send(`<presence/>`); bob.send(`<presence/>`);
      await take(alice, isPresence(undefined, `${a}/r1`)); await take(bob, isPresence(undefined, `${b}/setup`));
      alice.send(`<presence to='${b}' type='subscribe'/>`);
      await take(bob, isPresence('subscribe', a), 'subscribe from alice', T);
      bob.send(`<presence to='${a}' type='subscribed'/>`);
      await push(alice, b, T);
      bob.send(`<presence to='${a}' type='subscribe'/>`);
      await take(alice, isPresence('subscribe', b), 'subscribe from bob', T);
      alice.send(`<presence to='${b}' type='subscribed'/>`);
      let sub: string | undefined;
      for (let i = 0; i < 4 && sub !== 'both'; i++) sub = (await push(bob, a, T)).subscription;
      assert.equal(sub, 'both');

      const r = await publish(alice, MOOD, `<mood xmlns='${MOOD}'><happy/></mood>`, 'm1');
      assert.equal(r.attr('type'), 'result', r.toString());

      // Bob's client comes online with caps naming mood+notify.
      const features = [INFO, CAPS, `${MOOD}+notify`];
      const bob2 = await loginAt(B, 'bob', 'phone');
      stop.push(answerDisco(bob2, features), () => bob2.destroy());
      bob2.send(`<presence><c xmlns='${CAPS}' hash='sha-1' node='https://magpie.test/client' ver='${capsVer(features)}'/></presence>`);
      const last = await takeEvent(bob2, MOOD, 'items', a, T);
      assert.equal(last.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attr('id'), 'm1');
      const asked = bob2.elements.find((e) => e.name === 'iq' && e.attr('from') === a && e.getChild('query', INFO));
      assert.ok(asked, 'alice\'s PEP service verified the caps itself');

      await publish(alice, MOOD, `<mood xmlns='${MOOD}'><sleepy/></mood>`, 'm2');
      const next = await takeEvent(bob2, MOOD, 'items', a, T);
      assert.equal(next.getChild('event', EVENT)!.getChild('items')!.getChild('item')!.attr('id'), 'm2');
    } finally { for (const f of stop) f(); alice.destroy(); bob.destroy(); }
  });
});
