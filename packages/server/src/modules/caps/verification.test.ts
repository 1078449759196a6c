// XEP-0115 §5.2 and §5.3 test vectors, and the ill-formed cases of §5.4 step 3.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { octetCompare, verificationInput, verificationString } from './verification.js';

const simple = `<query xmlns='http://jabber.org/protocol/disco#info'>
  <identity category='client' type='pc' name='Exodus 0.9.1'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <feature var='http://jabber.org/protocol/caps'/>
</query>`;

const complex = `<query xmlns='http://jabber.org/protocol/disco#info' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <identity xml:lang='el' category='client' name='&#936; 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <x xmlns='jabber:x:data' type='result'>
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
    <field var='ip_version' type='text-multi'><value>ipv6</value><value>ipv4</value></field>
    <field var='os'><value>Mac</value></field>
    <field var='software_version'><value>0.11</value></field>
    <field var='os_version'><value>10.5.1</value></field>
    <field var='software'><value>Psi</value></field>
  </x>
</query>`;

it('the simple generation example of §5.2', () => {
  const q = parseFragment(simple);
  assert.equal(verificationInput(q), 'client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<');
  assert.equal(verificationString(q), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
});

it('the complex generation example of §5.3 (languages, a form, unsorted fields and values)', () => {
  assert.equal(verificationString(parseFragment(complex)), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
});

it('other hashes, and unknown hashes give no string', () => {
  assert.match(verificationString(parseFragment(simple), 'sha-256')!, /^[A-Za-z0-9+/]{43}=$/);
  assert.equal(verificationString(parseFragment(simple), 'md5'), undefined);
});

it('ill-formed answers (§5.4 3.3-3.5) give no string; forms without a hidden FORM_TYPE are ignored (3.6)', () => {
  const q = (body: string) => parseFragment(`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='client' type='pc'/>${body}</query>`);
  assert.equal(verificationInput(q(`<identity category='client' type='pc'/>`)), undefined);
  assert.equal(verificationInput(q(`<feature var='a'/><feature var='a'/>`)), undefined);
  const form = (t: string, extra = '') => `<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'><value>${t}</value>${extra}</field></x>`;
  assert.equal(verificationInput(q(form('urn:a') + form('urn:a'))), undefined);
  assert.equal(verificationInput(q(form('urn:a', '<value>urn:b</value>'))), undefined);
  assert.equal(verificationInput(q(form('urn:a', '<value>urn:a</value>'))), 'client/pc//<urn:a<');
  assert.equal(verificationInput(q(`<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'><value>urn:a</value></field></x>`)), 'client/pc//<');
  assert.equal(verificationInput(q(`<x xmlns='jabber:x:data' type='result'><field var='x'><value>1</value></field></x>`)), 'client/pc//<');
});

it('sorts by UTF-8 octets (i;octet), not UTF-16 code units', () => {
  // U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80) in UTF-8, after it in UTF-16.
  assert.ok(octetCompare('\uFF5E', '\u{1F600}') < 0);
  assert.ok('\uFF5E' > '\u{1F600}');
  const s = verificationInput(parseFragment(`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='c' type='t'/><feature var='\u{1F600}'/><feature var='\uFF5E'/></query>`));
  assert.equal(s, 'c/t//<\uFF5E<\u{1F600}<');
});

it('identities sort field by field: category "a" before "a-b" although "a/" > "a-" as strings', () => {
  const s = verificationInput(parseFragment(`<query xmlns='http://jabber.org/protocol/disco#info'><identity category='a-b' type='x'/><identity category='a' type='y'/></query>`));
  assert.equal(s, 'a/y//<a-b/x//<');
});
