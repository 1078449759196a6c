import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { importance } from './importance.js';

const imp = (x: string, holdChatStates = true) => importance(parseFragment(x), { holdChatStates });
const CS = `<composing xmlns='http://jabber.org/protocol/chatstates'/>`;

it('presence updates collapse; subscriptions, errors, iq and messages with a body are urgent', () => {
  assert.equal(imp(`<presence xmlns='jabber:client' from='a@b/c'/>`), 'collapse');
  assert.equal(imp(`<presence xmlns='jabber:client' type='unavailable'/>`), 'collapse');
  for (const t of ['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'error']) assert.equal(imp(`<presence xmlns='jabber:client' type='${t}'/>`), 'urgent', t);
  assert.equal(imp(`<iq xmlns='jabber:client' type='get' id='1'/>`), 'urgent');
  assert.equal(imp(`<message xmlns='jabber:client' type='chat'><body>hi</body>${CS}</message>`), 'urgent');
});

it('chat-state-only messages are held (unless configured not to); unknown payloads are urgent', () => {
  assert.equal(imp(`<message xmlns='jabber:client' type='chat'>${CS}<thread>t</thread><origin-id xmlns='urn:xmpp:sid:0' id='x'/></message>`), 'hold');
  assert.equal(imp(`<message xmlns='jabber:client' type='chat'>${CS}</message>`, false), 'urgent');
  assert.equal(imp(`<message xmlns='jabber:client' type='chat'>${CS}<received xmlns='urn:xmpp:receipts' id='1'/></message>`), 'urgent');
  assert.equal(imp(`<message xmlns='jabber:client' type='chat'/>`), 'urgent', 'empty: nothing known to be unimportant');
  assert.equal(imp(`<message xmlns='jabber:client' type='error'>${CS}<error/></message>`), 'urgent');
});

it('a carbon is judged by the message it forwards', () => {
  const carbon = (inner: string) => `<message xmlns='jabber:client'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' type='chat'>${inner}</message></forwarded></sent></message>`;
  assert.equal(imp(carbon(CS)), 'hold');
  assert.equal(imp(carbon('<body>hi</body>')), 'urgent');
});
