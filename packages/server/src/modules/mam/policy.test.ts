import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { addStanzaId, archivable, NS_SID, storedCopy, stripForgedStanzaIds } from './policy.js';

const m = (x: string) => parseFragment(x);

it('archives chat/normal messages with a body, honouring XEP-0334 hints', () => {
  assert.equal(archivable(m(`<message xmlns='jabber:client'><body>x</body></message>`)), true);
  assert.equal(archivable(m(`<message xmlns='jabber:client' type='chat'><body>x</body></message>`)), true);
  assert.equal(archivable(m(`<message xmlns='jabber:client' type='odd'><body>x</body></message>`)), true, 'unknown type = normal');
  for (const t of ['groupchat', 'headline', 'error']) assert.equal(archivable(m(`<message xmlns='jabber:client' type='${t}'><body>x</body></message>`)), false, t);
  assert.equal(archivable(m(`<message xmlns='jabber:client' type='chat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)), false);
  for (const h of ['no-store', 'no-permanent-store']) assert.equal(archivable(m(`<message xmlns='jabber:client'><body>x</body><${h} xmlns='urn:xmpp:hints'/></message>`)), false, h);
  assert.equal(archivable(m(`<message xmlns='jabber:client'><received xmlns='urn:xmpp:receipts'/><store xmlns='urn:xmpp:hints'/></message>`)), true);
  assert.equal(archivable(m(`<message xmlns='jabber:client' type='error'><store xmlns='urn:xmpp:hints'/></message>`)), false);
  assert.equal(archivable(m(`<presence xmlns='jabber:client'/>`)), false);
});

it('removes only stanza-ids claiming our archive, then stamps ours', () => {
  const s = m(`<message xmlns='jabber:client'><body>x</body><stanza-id xmlns='${NS_SID}' by='a@b' id='f1'/><stanza-id xmlns='${NS_SID}' by='room@c' id='k'/><origin-id xmlns='${NS_SID}' id='o'/><stanza-id xmlns='${NS_SID}' by='a@b' id='f2'/></message>`);
  stripForgedStanzaIds(s, 'a@b');
  addStanzaId(s, 'real', 'a@b');
  assert.deepEqual(s.getChildren('stanza-id', NS_SID).map((e) => [e.attr('by'), e.attr('id')]), [['room@c', 'k'], ['a@b', 'real']]);
  assert.equal(s.getChild('origin-id', NS_SID)?.attr('id'), 'o');
});

it('stores jabber:server stanzas as jabber:client, other namespaces untouched', () => {
  const s = m(`<message xmlns='jabber:server' from='x@remote'><body>hi</body><x xmlns='urn:e'><body>inner</body></x></message>`);
  const c = storedCopy(s);
  assert.equal(c.toString(), `<message xmlns="jabber:client" from="x@remote"><body>hi</body><x xmlns="urn:e"><body>inner</body></x></message>`);
  assert.equal(s.xmlns, 'jabber:server', 'the routed stanza is not changed');
});
