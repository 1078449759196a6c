// XEP-0106 JID escaping: the examples of §5.1 (JID examples table), §4.3 (exceptions) and the
// IMPS / IRC / e-mail examples of §5.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jidEscape, jidUnescape } from './escaping.js';
import { JID, JIDError } from './jid.js';

// [user input (localpart only), escaped localpart] from XEP-0106 §5.1, table "JID Examples".
const TABLE: [string, string][] = [
  ['space cadet', 'space\\20cadet'],
  ['call me "ishmael"', 'call\\20me\\20\\22ishmael\\22'],
  ['at&t guy', 'at\\26t\\20guy'],
  ["d'artagnan", 'd\\27artagnan'],
  ['/.fanboy', '\\2f.fanboy'],
  ['::foo::', '\\3a\\3afoo\\3a\\3a'],
  ['<foo>', '\\3cfoo\\3e'],
  ['user@host', 'user\\40host'],
  ['c:\\net', 'c\\3a\\net'],
  ['c:\\\\net', 'c\\3a\\\\net'],
  ['c:\\cool stuff', 'c\\3a\\cool\\20stuff'],
  ['c:\\5commas', 'c\\3a\\5c5commas'],
];

test('XEP-0106 §5.1 table: escape and unescape', () => {
  for (const [input, escaped] of TABLE) {
    assert.equal(jidEscape(input), escaped, input);
    assert.equal(jidUnescape(escaped), input, escaped);
  }
});

test('escaped localparts are valid JIDs that display unescaped', () => {
  for (const [input, escaped] of TABLE) {
    const jid = JID.parse(`${escaped}@example.com`);
    assert.equal(jid.local, escaped.toLowerCase());
    assert.equal(jidUnescape(jid.local), input.toLowerCase());
  }
});

test('XEP-0106 §4.3: partial and unknown sequences are left alone', () => {
  for (const s of ['\\2plus\\2is\\4', 'foo\\bar', 'foob\\41r']) {
    assert.equal(jidEscape(s), s);
    assert.equal(jidUnescape(s), s);
  }
  // Case is significant (§3.1): "\2F" and "\5C" are not escapes.
  assert.equal(jidUnescape('a\\2Fb\\5Cc'), 'a\\2Fb\\5Cc');
  assert.equal(jidEscape('a\\2Fb'), 'a\\2Fb');
  // A sequence at the very end, and a lone trailing backslash.
  assert.equal(jidUnescape('x\\40'), 'x@');
  assert.equal(jidUnescape('x\\4'), 'x\\4');
  assert.equal(jidEscape('x\\'), 'x\\');
});

test('XEP-0106 §5 IMPS, IRC and e-mail examples', () => {
  assert.equal(jidEscape('\\3and\\2is\\5cool'), '\\5c3and\\2is\\5c5cool');
  assert.equal(jidUnescape('\\5c3and\\2is\\5c5cool'), '\\3and\\2is\\5cool');
  assert.equal(jidEscape('somenick!user"&\'/:<>\\3address'),
    'somenick!user\\22\\26\\27\\2f\\3a\\3c\\3e\\5c3address');
  assert.equal(jidEscape("here's_a_wild_&_/cr%zy/_address"),
    'here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address');
  assert.equal(jidEscape('here\'s_a_wild_&_/cr%zy/_address_for:<wv>("IMPS")'),
    'here\\27s_a_wild_\\26_\\2fcr%zy\\2f_address_for\\3a\\3cwv\\3e(\\22IMPS\\22)');
  assert.equal(jidUnescape('tr\u00e9ville\\40musketeers.lit'), 'tr\u00e9ville@musketeers.lit');
});

test('escape / unescape round-trip on every escapable character', () => {
  const all = 'a "&\'/:<>@\\20\\5c b';
  assert.equal(jidUnescape(jidEscape(all)), all);
  assert.ok(JID.tryParse(jidEscape(all) + '@example.com'));
});

test('\\20 may not begin or end an escaped localpart (XEP-0106 §3.2)', () => {
  assert.throws(() => jidEscape(' cadet'), JIDError);
  assert.throws(() => jidEscape('cadet '), JIDError);
  assert.equal(jidEscape(''), '');
});
