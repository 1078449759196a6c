import { it } from 'node:test';
import assert from 'node:assert/strict';
import { emailForLocal, emailForUser, escapeLocal, jidForEmail, unescapeLocal, userForRecipient, type AddressBook } from './addresses.js';

const book: AddressBook = { componentDomain: 'mail.example.org', mailDomain: 'mail.example.org', xmppDomains: ['example.org'], fixed: [{ email: 'support@mail.example.org', jid: 'team@example.org' }] };

it('escapes and unescapes localparts as XEP-0106 §4 says', () => {
  assert.equal(escapeLocal(`d'artagnan & co@x/y:z <>"`), 'd\\27artagnan\\20\\26\\20co\\40x\\2fy\\3az\\20\\3c\\3e\\22');
  assert.equal(escapeLocal('c:\\net'), 'c\\3a\\net', 'a backslash that starts no escape sequence stays');
  assert.equal(escapeLocal('c:\\5c'), 'c\\3a\\5c5c');
  for (const s of [`o'neil%example.org`, 'a b"c', 'x\\20y', 'plain']) assert.equal(unescapeLocal(escapeLocal(s)), s);
  assert.equal(unescapeLocal('\\2g\\5C'), '\\2g\\', 'unknown sequences stay; hex is case-insensitive');
});

it('XMPP → mail: the e-mail address a JID at the component stands for', () => {
  assert.equal(emailForLocal('bob%Example.ORG'), 'bob@example.org');
  assert.equal(emailForLocal('o\\27neil%example.org'), "o'neil@example.org");
  assert.equal(emailForLocal('bob\\40example.org'), 'bob@example.org', 'an escaped @ is a separator too');
  assert.equal(emailForLocal('a%b%example.org'), 'a%b@example.org', 'the last % separates');
  for (const bad of ['bob', '%example.org', 'bob%', 'bob%exa mple.org', 'b\\20b%example.org']) assert.equal(emailForLocal(bad), undefined, bad);
});

it('mail → XMPP: the sender JID at the component, and the recipient user', () => {
  assert.equal(jidForEmail('alice@Example.Com', book), 'alice%example.com@mail.example.org');
  assert.equal(jidForEmail("o'neil@example.com", book), 'o\\27neil%example.com@mail.example.org');
  assert.equal(jidForEmail('not an address', book), undefined);
  assert.equal(userForRecipient('alice%example.org@mail.example.org', book), 'alice@example.org');
  assert.equal(userForRecipient('Alice%EXAMPLE.org@MAIL.example.org', book), 'alice@example.org');
  assert.equal(userForRecipient('support@mail.example.org', book), 'team@example.org', 'a fixed address');
  for (const bad of ['alice%example.org@elsewhere.org', 'alice%other.org@mail.example.org', 'alice@mail.example.org', "o'neil%example.org@mail.example.org"]) {
    assert.equal(userForRecipient(bad, book), undefined, bad);
  }
});

it('XMPP → mail: the From address of a user, only for served domains', () => {
  assert.equal(emailForUser('alice@example.org', book), 'alice%example.org@mail.example.org');
  assert.equal(emailForUser('team@example.org', book), 'support@mail.example.org');
  assert.equal(emailForUser('mallory@evil.example', book), undefined);
});
