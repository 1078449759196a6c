// XEP-0280 §6.1 / §9 eligibility rules and the §7/§8 copy format.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { carbonCopy, eligibility, stripForged, NS_CARBONS, NS_FORWARD, type Direction } from './eligibility.js';

const m = (inner: string, attrs = '') => parseFragment(`<message xmlns='jabber:client'${attrs}>${inner}</message>`);
const copies = (x: string, direction: Direction = 'received', peerIsFullJid = true, answers = false) =>
  eligibility(m(x.replace(/^\[(.*?)\]/, ''), x.match(/^\[(.*?)\]/)?.[1] ?? ''), { direction, peerIsFullJid, answersEligible: () => answers }).copy;

it('copies chat, normal with a body or IM payload; not groupchat, headline, bare normal', () => {
  assert.equal(copies(`[ type='chat']`), true, 'chat even without a body');
  assert.equal(copies(`<body>hi</body>`), true, 'normal (no type) with body');
  assert.equal(copies(`[ type='normal']<body>hi</body>`), true);
  assert.equal(copies(`[ type='weird']<body>hi</body>`), true, 'unknown type = normal');
  assert.equal(copies(`[ type='normal']<subject>s</subject>`), false);
  assert.equal(copies(`<received xmlns='urn:xmpp:receipts' id='1'/>`), true, 'XEP-0184');
  assert.equal(copies(`<displayed xmlns='urn:xmpp:chat-markers:0' id='1'/>`), true, 'XEP-0333');
  assert.equal(copies(`<active xmlns='http://jabber.org/protocol/chatstates'/>`), true, 'XEP-0085');
  assert.equal(copies(`[ type='groupchat']<body>hi</body>`), false);
  assert.equal(copies(`[ type='headline']<body>hi</body>`), false);
  assert.equal(copies(`<event xmlns='http://jabber.org/protocol/pubsub#event'/>`), false);
});

it('private and no-copy are never copied; hints inside errors are ignored', () => {
  assert.equal(copies(`[ type='chat']<body>x</body><private xmlns='urn:xmpp:carbons:2'/>`, 'sent'), false);
  assert.equal(copies(`[ type='chat']<body>x</body><no-copy xmlns='urn:xmpp:hints'/>`), false);
  assert.equal(copies(`[ type='error']<body>x</body><no-copy xmlns='urn:xmpp:hints'/>`, 'received', true, true), true);
});

it('errors are copied only when they answer a copied message', () => {
  assert.equal(copies(`[ type='error']<error type='cancel'/>`, 'received', true, false), false);
  assert.equal(copies(`[ type='error']<error type='cancel'/>`, 'received', true, true), true);
});

it('MUC rules: no groupchat, invitations copied, private messages only when sent by us', () => {
  const pm = `[ type='chat']<body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/>`;
  assert.equal(copies(pm, 'sent', true), true, 'a PM a local user sends to an occupant');
  assert.equal(copies(pm, 'received', true), false, 'a PM from an occupant (the room copies it already)');
  assert.equal(copies(`<x xmlns='http://jabber.org/protocol/muc#user'><invite from='a@b'/></x>`, 'received', false), true, 'mediated invitation');
  assert.equal(copies(`<x xmlns='jabber:x:conference' jid='room@muc'/>`, 'received', true), true, 'direct invitation');
});

it('a message already carrying a carbon is not copied again; forged ones are stripped', () => {
  const forged = m(`<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'/></received><body>x</body>`, ` type='chat'`);
  assert.equal(eligibility(forged, { direction: 'received', peerIsFullJid: true }).copy, false);
  assert.equal(stripForged(forged), 1);
  assert.equal(forged.getChild('received', NS_CARBONS), undefined);
  assert.equal(forged.getChildText('body'), 'x');
  assert.equal(eligibility(forged, { direction: 'received', peerIsFullJid: true }).copy, true);
});

it('a copy is from the bare JID, keeps the type, and forwards the original in jabber:client', () => {
  const orig = parseFragment(`<message xmlns='jabber:server' from='juliet@capulet.example/balcony' to='romeo@localhost/garden' type='chat' id='m1'><body>hi</body></message>`);
  const c = carbonCopy('received', orig, 'romeo@localhost', 'romeo@localhost/home');
  assert.deepEqual([c.attr('from'), c.attr('to'), c.attr('type')], ['romeo@localhost', 'romeo@localhost/home', 'chat']);
  const inner = c.getChild('received', NS_CARBONS)!.getChild('forwarded', NS_FORWARD)!.getChild('message', 'jabber:client')!;
  assert.equal(inner.attr('from'), 'juliet@capulet.example/balcony');
  assert.equal(inner.getChildText('body', 'jabber:client'), 'hi');
  assert.notEqual(inner, orig, 'a copy, not the original tree');
  assert.match(c.toString('jabber:client'), /<forwarded xmlns="urn:xmpp:forward:0"><message xmlns="jabber:client" from="juliet@capulet.example\/balcony"/);
});
