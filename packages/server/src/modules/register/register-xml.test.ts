// Reading jabber:iq:register submissions (register-xml.ts) and the username/password rules
// (credentials-policy.ts).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { StanzaError } from '@magpie/core/protocol/errors';
import { readSubmission, registrationForm } from './register-xml.js';
import { acceptablePassword, acceptableUsername } from './credentials-policy.js';
import { RegisterOptionsSchema } from './options.js';

const q = (inner: string) => parseFragment(`<query xmlns='jabber:iq:register'>${inner}</query>`);
const condition = (f: () => unknown): string => { try { f(); return 'none'; } catch (e) { assert.ok(e instanceof StanzaError); return e.condition; } };
const o = RegisterOptionsSchema.parse({ minPasswordLength: 4, maxPasswordLength: 10, maxUsernameLength: 5 });

it('reads legacy fields, a submitted form, and <remove/> alone', () => {
  assert.deepEqual(readSubmission(q('<username>bill</username><password>Calliope</password>')), { kind: 'credentials', username: 'bill', password: 'Calliope' });
  const form = `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>
    <field var='username'><value>bill</value></field><field var='password'><value>pw</value></field></x>`;
  assert.deepEqual(readSubmission(q(form)), { kind: 'credentials', username: 'bill', password: 'pw', oldPassword: undefined });
  assert.deepEqual(readSubmission(q('<remove/>')), { kind: 'remove' });
  assert.equal(condition(() => readSubmission(q('<remove/><username>bill</username>'))), 'bad-request');
  assert.equal(condition(() => readSubmission(q('<username>a</username><username>b</username>'))), 'bad-request');
  assert.equal(condition(() => readSubmission(q(`<x xmlns='jabber:x:data' type='form'/>`))), 'bad-request');
  assert.equal(condition(() => readSubmission(q(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x>`))), 'bad-request');
});

it('offers both the legacy fields and a form', () => {
  const f = registrationForm('hello');
  assert.equal(f.getChildText('instructions', 'jabber:iq:register'), 'hello');
  assert.ok(f.getChild('username', 'jabber:iq:register') && f.getChild('password', 'jabber:iq:register'));
  assert.deepEqual(f.getChild('x', 'jabber:x:data')!.getChildren('field', 'jabber:x:data').map((x) => x.attrs.var), ['FORM_TYPE', 'username', 'password']);
});

it('prepares usernames (PRECIS) and enforces the length and password rules', () => {
  assert.equal(acceptableUsername('Bill', o), 'bill');
  assert.equal(condition(() => acceptableUsername('toolong', o)), 'not-acceptable');
  assert.equal(condition(() => acceptableUsername('a b', o)), 'not-acceptable');
  assert.equal(condition(() => acceptableUsername('', o)), 'not-acceptable');
  assert.equal(condition(() => acceptableUsername(undefined, o)), 'not-acceptable');
  assert.equal(acceptablePassword('four', o), 'four');
  assert.equal(condition(() => acceptablePassword('', o)), 'not-acceptable');
  assert.equal(condition(() => acceptablePassword('abc', o)), 'not-acceptable');
  assert.equal(condition(() => acceptablePassword('abcdefghijk', o)), 'not-acceptable');
  assert.equal(condition(() => acceptablePassword('ab\u0007cd', o)), 'not-acceptable');
});

it('refuses a maximum password length below the minimum', () => {
  assert.equal(RegisterOptionsSchema.safeParse({ minPasswordLength: 20, maxPasswordLength: 10 }).success, false);
  assert.equal(RegisterOptionsSchema.safeParse({ allowFrom: ['10.0.0.0/33'] }).success, false);
  assert.equal(RegisterOptionsSchema.safeParse({ allowFrom: ['10.0.0.0/8', '2001:db8::/32'] }).success, true);
});
