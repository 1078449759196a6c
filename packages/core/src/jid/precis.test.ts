// Localpart (UsernameCaseMapped, RFC 8265 §3.3) and resourcepart (OpaqueString, RFC 8265 §4.2):
// the class rules of RFC 8264, the context rules of RFC 5892 Appendix A, the Bidi Rule, and the
// ASCII fast paths compared with the full algorithm.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enforceLocalpart, enforceResourcepart, prepareLocal, prepareResource } from './precis.js';
import { isVirama, precisProperty } from './codepoints.js';
import { JIDError } from './errors.js';

const outcome = (f: (s: string) => string, s: string): string => {
  try { return 'ok:' + f(s); } catch (e) {
    assert.ok(e instanceof JIDError);
    return 'error:' + e.message;
  }
};

test('localpart mapping: width, case (with final sigma), NFC', () => {
  assert.equal(prepareLocal('ＲＯＭＥＯ'), 'romeo');
  assert.equal(prepareLocal('ﾛﾐｵ'), 'ロミオ');                 // halfwidth katakana widened
  assert.equal(prepareLocal('ΟΔΥΣΣΕΥΣ'), 'οδυσσευς');          // Unicode toLowerCase: final ς
  assert.equal(prepareLocal('A\u030a'), '\u00e5');             // NFC composes Å, then lowercase
  assert.equal(prepareLocal('\u212b'), '\u00e5');              // ANGSTROM SIGN: NFC singleton
  assert.equal(prepareLocal('İ'), 'i\u0307');                  // full lowercase mapping
});

test('localpart class: IdentifierClass rejections', () => {
  const bad: [string, RegExp][] = [
    ['a\u00a0b', /U\+00A0/],            // NO-BREAK SPACE: HasCompat
    ['\u2163', /U\+2173/],              // ROMAN NUMERAL FOUR, lowercased to U+2173
    ['\ufb01x', /U\+FB01/],             // LATIN SMALL LIGATURE FI: HasCompat
    ['a\u00adb', /U\+00AD/],            // SOFT HYPHEN: default-ignorable
    ['a\u200bb', /U\+200B/],            // ZERO WIDTH SPACE: default-ignorable
    ['a\u0007', /U\+0007/],             // control
    ['\ue000', /U\+E000/],              // private use
    ['a\u2028', /U\+2028/],             // LINE SEPARATOR
    ['a€', /U\+20AC/],                  // symbol outside ASCII
    ['«a»', /U\+00AB/],                 // punctuation outside ASCII
    ['a\u1100', /U\+1100/],            // conjoining jamo (not composed by NFC here)
    ['\u0378', /unassigned code point U\+0378/],
    ['a\uffff', /U\+FFFF/],             // noncharacter
    ['\ud800', /U\+D800/],              // lone surrogate
    ['ǅ', /U\+01C6|U\+01C5/],           // titlecase DŽ lowercases to ǆ, which is HasCompat
    ['a\u0640b', /U\+0640/],            // ARABIC TATWEEL: exception DISALLOWED
  ];
  for (const [s, re] of bad) {
    assert.throws(() => prepareLocal(s), (e: unknown) => e instanceof JIDError && re.test(e.message), s);
  }
});

test('localpart: ASCII punctuation is allowed except RFC 7622 §3.3.1 " & \' / : < > @', () => {
  assert.equal(prepareLocal('!#$%()*+,-.;=?[\\]^_`{|}~'), '!#$%()*+,-.;=?[\\]^_`{|}~');
  for (const c of '"&\'/:<>@') assert.throws(() => prepareLocal(`a${c}b`), /RFC 7622 §3\.3\.1/);
  assert.throws(() => prepareLocal('＠'), /'@'/);      // fullwidth @ maps to @ and is refused
});

test('localpart: letters and marks of many scripts are PVALID', () => {
  for (const s of ['josé', 'ñandú', 'москва', 'ελληνικά', '例え', 'テスト', '한국어', 'ภาษาไทย', 'हिन्दी']) {
    assert.equal(prepareLocal(s), s.normalize('NFC').toLowerCase(), s);
  }
});

test('context rules (RFC 5892 Appendix A)', () => {
  assert.equal(prepareLocal('l\u00b7l'), 'l\u00b7l');                        // A.3 middle dot
  assert.throws(() => prepareLocal('a\u00b7b'), /U\+00B7/);
  assert.equal(prepareLocal('\u0375\u03b1'), '\u0375\u03b1');                // A.4 keraia + Greek
  assert.throws(() => prepareLocal('\u0375a'), /U\+0375/);
  assert.equal(prepareLocal('\u05d0\u05f3'), '\u05d0\u05f3');                // A.5 geresh
  assert.throws(() => prepareLocal('a\u05f3'), /U\+05F3/);
  assert.equal(prepareLocal('\u30ab\u30fb\u30ab'), '\u30ab\u30fb\u30ab');    // A.7 katakana dot
  assert.throws(() => prepareLocal('a\u30fbb'), /U\+30FB/);
  assert.equal(prepareLocal('\u0915\u094d\u200d\u0937'), '\u0915\u094d\u200d\u0937');  // A.2
  assert.throws(() => prepareLocal('a\u200db'), /U\+200D/);
  assert.equal(prepareLocal('\u0915\u094d\u200c\u0937'), '\u0915\u094d\u200c\u0937');  // A.1 virama
  assert.equal(prepareLocal('\u0645\u06cc\u200c\u062e\u0648\u0627\u0645'),           // A.1 joining
    '\u0645\u06cc\u200c\u062e\u0648\u0627\u0645');
  assert.throws(() => prepareLocal('a\u200cb'), /U\+200C/);
  assert.equal(prepareLocal('\u0628\u0661\u0662'), '\u0628\u0661\u0662');    // A.8
  assert.throws(() => prepareLocal('\u0628\u0661\u06f2'), /U\+0661|U\+06F2|bidi/);  // A.8/A.9 mixed
});

test('isVirama recognises canonical combining class 9 only', () => {
  for (const v of ['\u094d', '\u09cd', '\u0e3a', '\u17d2', '\u{11046}']) assert.ok(isVirama(v), v);
  for (const n of ['\u093c', '\u05b0', '\u3099', '\u0301', 'a', '\u0915']) assert.ok(!isVirama(n), n);
});

test('Bidi Rule for localparts with right-to-left characters (RFC 5893)', () => {
  assert.equal(prepareLocal('\u05e2\u05d1\u05e8\u05d9\u05ea'), '\u05e2\u05d1\u05e8\u05d9\u05ea');
  assert.equal(prepareLocal('\u0627\u0644\u0639\u0631\u0628\u064a\u0629'), '\u0627\u0644\u0639\u0631\u0628\u064a\u0629');
  assert.equal(prepareLocal('\u05d0\u05d1123'), '\u05d0\u05d1123');          // may end in EN
  assert.throws(() => prepareLocal('abc\u05d0'), /bidi rule 2/);              // L inside RTL
  assert.throws(() => prepareLocal('1\u05d0'), /bidi rule 1/);                // starts with EN
  assert.throws(() => prepareLocal('\u05d0-'), /bidi rule 3/);                // ends with ES
  assert.equal(prepareLocal('1abc'), '1abc');                                  // no RTL: no rule
});

test('resourcepart: OpaqueString keeps case and width, maps spaces, NFC', () => {
  assert.equal(prepareResource('Balcony'), 'Balcony');
  assert.equal(prepareResource('a\u00a0b\u3000c'), 'a b c');
  assert.equal(prepareResource('A\u030a'), '\u00c5');
  assert.equal(prepareResource('♚ «x» € \u2163 ﬁ Ａ'), '♚ «x» € \u2163 ﬁ Ａ');   // FREE_PVAL
  assert.equal(prepareResource(' '), ' ');
  for (const s of ['a\u0000', 'a\tb', 'a\u200bb', '\ue000', 'a\u2028', '\u0378', '\ud800', 'a\u0640']) {
    assert.throws(() => prepareResource(s), JIDError, JSON.stringify(s));
  }
});

test('derived properties of a few code points (RFC 8264 §8)', () => {
  assert.equal(precisProperty(0x00df, false), 'PVALID');       // ß exception
  assert.equal(precisProperty(0x0041, false), 'PVALID');       // ASCII7 before case
  assert.equal(precisProperty(0x0020, false), 'DISALLOWED');
  assert.equal(precisProperty(0x0020, true), 'PVALID');
  assert.equal(precisProperty(0x200c, false), 'CONTEXTJ');
  assert.equal(precisProperty(0x00b7, true), 'CONTEXTO');
  assert.equal(precisProperty(0x0378, true), 'UNASSIGNED');
});

// A deterministic corpus of ASCII strings: the cases that matter by hand, plus pseudo-random
// strings over printable ASCII, controls and DEL, of lengths around the 1023 limit too.
function asciiCorpus(): string[] {
  const out = ['a', 'A', 'juliet', 'JuLiEt', 'foo\\20bar', 'a b', ' ', '"', '@', 'x/y', '~!#',
    '\u007f', '\u0000', '\t', 'a'.repeat(1023), 'A'.repeat(1023), 'a'.repeat(1024), ''];
  let seed = 0x9e3779b9;
  const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  for (let i = 0; i < 3000; i++) {
    const len = i % 100 === 0 ? 1020 + rand(8) : 1 + rand(12);
    let s = '';
    for (let j = 0; j < len; j++) {
      const r = rand(20);
      s += String.fromCharCode(r === 0 ? rand(0x21) : r === 1 ? 0x7f : 0x21 + rand(0x5e));
    }
    out.push(s);
  }
  return out;
}

test('ASCII fast paths give the same results as the full algorithm', () => {
  for (const s of asciiCorpus()) {
    assert.equal(outcome(prepareLocal, s), outcome(enforceLocalpart, s), JSON.stringify(s));
    assert.equal(outcome(prepareResource, s), outcome(enforceResourcepart, s), JSON.stringify(s));
  }
});

test('preparation is idempotent', () => {
  for (const s of ['ΟΔΥΣΣΕΥΣ', 'ＲＯＭＥＯ', 'İ', 'A\u030a', 'ﾛﾐｵ', '\u212b']) {
    const once = prepareLocal(s);
    assert.equal(prepareLocal(once), once, s);
  }
});
