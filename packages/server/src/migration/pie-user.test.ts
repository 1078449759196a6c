// Reading one XEP-0227 <user/> (pure, no storage): the quirks of real exporters, seen in the
// files of ejabberd 23.01 and Prosody 0.12 (test/cli/xep0227.test.ts runs those when installed),
// and what is an error versus a warning.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { defaultNodeConfig } from '../modules/pubsub/node-config.js';
import { readUser } from './pie-user.js';

const O = { pepDefaults: defaultNodeConfig({ defaultMaxItems: 1, defaultAccessModel: 'presence' }, true), bookmarksToPep: true };
const user = (body: string, attrs = "name='alice'") => readUser('pie.test', parseFragment(`<user xmlns='urn:xmpp:pie:0' ${attrs}>${body}</user>`), O);
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

test('SCRAM keys base64-encoded twice (ejabberd 23.01) are decoded once more, with a warning', () => {
  const key = Buffer.alloc(20, 7);
  const salt = Buffer.from('0123456789abcdef');
  const twice = user(`<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>4096</iter-count>
    <salt>${b64(b64(salt))}</salt><server-key>${b64(b64(key))}</server-key><stored-key>${b64(b64(key))}</stored-key></scram-credentials>`);
  assert.deepEqual(twice.errors, []);
  assert.equal(twice.credentials.scram['SHA-1']?.salt, b64(salt));
  assert.equal(twice.credentials.scram['SHA-1']?.serverKey, b64(key));
  assert.match(twice.warnings.join(), /base64-encoded twice/);
  const once = user(`<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-1'><iter-count>4096</iter-count>
    <salt>${b64(b64(salt))}</salt><server-key>${b64(key)}</server-key><stored-key>${b64(key)}</stored-key></scram-credentials>`);
  assert.equal(once.credentials.scram['SHA-1']?.salt, b64(b64(salt)), 'a correct file is taken as it is, even with an ASCII salt');
});

test('malformed credentials are errors; other mechanisms are warnings; no credentials is a warning', () => {
  const bad = user(`<scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA-256'><iter-count>01</iter-count><salt>c2FsdA==</salt>
    <server-key>${b64(Buffer.alloc(32))}</server-key><stored-key>${b64(Buffer.alloc(32))}</stored-key></scram-credentials>
    <scram-credentials xmlns='urn:xmpp:pie:0#scram' mechanism='SCRAM-SHA3-512'/>`);
  assert.match(bad.errors.join(), /iter-count '01'/);
  assert.match(bad.warnings.join(), /SCRAM-SHA3-512 ignored/);
  assert.match(bad.warnings.join(), /no credentials/);
});

test('Prosody 0.12: subscription requests without jabber:client, PEP subscriptions with subscribed=', () => {
  const p = user(`<presence type='subscribe' from='Carol@Elsewhere.Example'/>
    <pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><configure node='n'/><subscriptions node='n'><subscription jid='bob@pie.test' subscribed='subscribed'/></subscriptions></pubsub>`);
  assert.deepEqual(p.errors, []);
  assert.equal(p.pending[0]?.[0], 'carol@elsewhere.example', 'the JID in canonical form');
  assert.match(p.pending[0]![1], /^<presence xmlns="jabber:client" type="subscribe" from="carol@elsewhere.example" to="alice@pie.test"\/>$/);
  assert.ok(p.pep[0]?.rec.subscriptions['bob@pie.test']);
});

test('ejabberd: <default/> without a name means no default privacy list', () => {
  const p = user(`<query xmlns='jabber:iq:privacy'><default/><list name='b'><item type='jid' value='eve@x.example' action='deny' order='1'/></list></query>`);
  assert.deepEqual(p.errors, []);
  assert.deepEqual(p.privacy.map(([k]) => k), ['list:b']);
});

test('private XEP-0048 bookmarks become XEP-0402 items; their <url/> entries are kept apart', () => {
  const p = user(`<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='room@conf.example' autojoin='1'><nick>al</nick></conference><url url='https://x.example/'/></storage></query>`);
  assert.equal(p.private.length, 0);
  assert.equal(p.pep[0]?.node, 'urn:xmpp:bookmarks:1');
  assert.equal(p.pep[0]?.rec.config.access_model, 'whitelist');
  assert.equal(p.pep[0]?.items[0]?.id, 'room@conf.example');
  assert.match(p.bookmarksLegacy?.[0] ?? '', /<url /);
});

test('a bad user name throws; a bad password is an error that never repeats the password', () => {
  assert.throws(() => user('', "name='a b'"), /not a valid localpart/);
  const p = user('', "name='x' password='bad\u0085pw'");
  assert.match(p.errors.join(), /not a valid password/);
  assert.ok(!p.errors.join().includes('bad'));
});
