import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { offlineDecision, withDelay } from './offline-policy.js';

const d = (x: string) => offlineDecision(parseFragment(x)).store;

it('stores chat/normal messages with content, never groupchat/headline/error (XEP-0160 §3)', () => {
  assert.equal(d(`<message xmlns='jabber:client'><body>hi</body></message>`), true);
  assert.equal(d(`<message xmlns='jabber:client' type='chat'><body>hi</body></message>`), true);
  assert.equal(d(`<message xmlns='jabber:client' type='weird'><body>hi</body></message>`), true, 'unknown type = normal');
  for (const t of ['groupchat', 'headline', 'error']) assert.equal(d(`<message xmlns='jabber:client' type='${t}'><body>hi</body></message>`), false);
  assert.equal(d(`<message xmlns='jabber:client' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/><thread>t</thread></message>`), false);
  assert.equal(d(`<message xmlns='jabber:client' type='chat'><body>  </body></message>`), false, 'blank body');
  assert.equal(d(`<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts' id='x'/></message>`), true);
  assert.equal(d(`<message xmlns='jabber:client'><request xmlns='urn:xmpp:receipts'/></message>`), false);
  assert.equal(d(`<message xmlns='jabber:client'><body>x</body><no-store xmlns='urn:xmpp:hints'/></message>`), false);
  assert.equal(d(`<message xmlns='jabber:client'><store xmlns='urn:xmpp:hints'/></message>`), true);
  assert.equal(d(`<message xmlns='jabber:client' type='error'><store xmlns='urn:xmpp:hints'/></message>`), false, 'hints in errors are ignored');
});

it('XEP-0334: <store/> keeps a headline, not a groupchat; no-permanent-store still allows offline storage', () => {
  assert.equal(d(`<message xmlns='jabber:client' type='headline'><body>news</body><store xmlns='urn:xmpp:hints'/></message>`), true);
  assert.equal(d(`<message xmlns='jabber:client' type='headline'><body>news</body><store xmlns='urn:xmpp:hints'/><no-store xmlns='urn:xmpp:hints'/></message>`), false, 'no-store wins');
  assert.equal(d(`<message xmlns='jabber:client' type='groupchat'><body>x</body><store xmlns='urn:xmpp:hints'/></message>`), false);
  assert.equal(d(`<message xmlns='jabber:client' type='chat'><body>otr</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`), true);
});

it('adds one delay from the server, replacing a forged one', () => {
  const m = withDelay(parseFragment(`<message xmlns='jabber:client'><body>x</body><delay xmlns='urn:xmpp:delay' from='example.org' stamp='2000-01-01T00:00:00Z'/><delay xmlns='urn:xmpp:delay' from='localhost' stamp='1999-01-01T00:00:00Z'/></message>`), 'localhost', Date.UTC(2024, 0, 2, 3, 4, 5, 6));
  const delays = m.getChildren('delay', 'urn:xmpp:delay');
  assert.deepEqual(delays.map((x) => [x.attr('from'), x.attr('stamp')]), [['example.org', '2000-01-01T00:00:00Z'], ['localhost', '2024-01-02T03:04:05.006Z']]);
});
