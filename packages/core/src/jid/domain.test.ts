// Domainparts (RFC 7622 §3.2): IDNA2008 labels with A-label/U-label equivalence, the trailing
// dot, IP literals, LDH and length rules, the Punycode vectors of RFC 3492 §7.1, and the ASCII
// fast path compared with the full algorithm.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { enforceDomain, prepareDomain } from './domain.js';
import { punycodeDecode, punycodeEncode } from './punycode.js';
import { JID, JIDError } from './jid.js';

const rejects = (s: string, re: RegExp) =>
  assert.throws(() => prepareDomain(s), (e: unknown) => e instanceof JIDError && re.test(e.message), s);

test('A-label and U-label forms are one domain; the canonical form is Unicode', () => {
  assert.equal(prepareDomain('xn--bcher-kva.example'), 'bücher.example');
  assert.equal(prepareDomain('XN--BCHER-KVA.EXAMPLE'), 'bücher.example');
  assert.equal(prepareDomain('Bücher.Example'), 'bücher.example');
  assert.equal(prepareDomain('bu\u0308cher.example'), 'bücher.example');           // NFC
  assert.equal(prepareDomain('xn--r8jz45g.xn--zckzah'), '例え.テスト');
  assert.equal(prepareDomain('xn--fa-hia.de'), 'faß.de');                           // ß kept
  assert.ok(JID.parse('juliet@xn--bcher-kva.example').equals(JID.parse('Juliet@BÜCHER.example')));
});

test('UTS #46-style mapping of user input', () => {
  assert.equal(prepareDomain('ｅｘａｍｐｌｅ．ｃｏｍ'), 'example.com');             // fullwidth
  assert.equal(prepareDomain('例え。テスト'), '例え.テスト');                        // U+3002
  assert.equal(prepareDomain('例え｡テスト'), '例え.テスト');                        // U+FF61
  assert.equal(prepareDomain('ΑΣ.example'), 'ασ.example');                         // no final sigma
  assert.equal(prepareDomain('ex\u00adample.com'), 'example.com');                  // soft hyphen
  rejects('a\u2024b.com', /U\+2024/);                                               // dot leader
});

test('one trailing dot is stripped (RFC 7622 §3.2)', () => {
  assert.equal(prepareDomain('example.com.'), 'example.com');
  assert.equal(prepareDomain('例え.テスト。'), '例え.テスト');
  assert.ok(JID.parse('juliet@example.com./r').equals(JID.parse('juliet@example.com/r')));
  rejects('example.com..', /empty label/);
  rejects('.', /empty/);
});

test('IP literals', () => {
  assert.equal(prepareDomain('[::1]'), '[::1]');
  assert.equal(prepareDomain('[0:0:0:0:0:0:0:1]'), '[::1]');
  assert.equal(prepareDomain('[2001:DB8:0:0:1:0:0:1]'), '[2001:db8::1:0:0:1]');     // RFC 5952 §4.2.3
  assert.equal(prepareDomain('[2001:db8:0:1:1:1:1:1]'), '[2001:db8:0:1:1:1:1:1]');  // no lone ::
  assert.equal(prepareDomain('[::FFFF:192.0.2.1]'), '[::ffff:192.0.2.1]');
  assert.equal(JID.parse('juliet@[::1]/r').domain, '[::1]');
  assert.equal(prepareDomain('192.0.2.1'), '192.0.2.1');
  assert.equal(prepareDomain('192.0.2.1.'), '192.0.2.1');
  for (const bad of ['[::1', '[1:2:3:4:5:6:7:8:9]', '[1::2::3]', '[::g]', '[12345::]', '[1:2:3:4:5:6:7::8]']) {
    rejects(bad, /IPv6/);
  }
  for (const bad of ['1.2.3.256', '1.2.3', '01.2.3.4', '1.2.3.4.5']) rejects(bad, /IPv4/);
});

test('LDH and label rules', () => {
  rejects('a..example', /empty label/);
  rejects('.example', /empty label/);
  rejects('-a.example', /hyphen/);
  rejects('a-.example', /hyphen/);
  rejects('exa_mple.com', /'_'/);
  rejects('exa mple.com', /U\+0020|' '/);
  rejects('a@b', /'@'/);
  rejects('a\u0000b', /U\+0000|'\u0000'/);
  rejects('üü--x.example', /positions 3-4/);
  rejects('\u0301a.example', /combining mark/);
  rejects('a☃.example', /U\+2603/);                        // symbols are not IDNA2008 PVALID
  assert.equal(prepareDomain('r3---sn-abc.example'), 'r3---sn-abc.example');  // R-LDH allowed
  assert.equal(prepareDomain('a'.repeat(63) + '.example'), 'a'.repeat(63) + '.example');
  rejects('a'.repeat(64) + '.example', /longer than 63/);
  // 60 × 'ü' is 60 characters but 'xn--' + 66 octets as an A-label.
  rejects('ü'.repeat(60) + '.example', /longer than 63 octets as an A-label/);
});

test('invalid A-labels are rejected', () => {
  rejects('xn--abc-.example', /decodes to ASCII/);
  rejects('xn--a.example', /U\+0080/);
  rejects('xn--99999999999.example', /invalid A-label|U\+/);
  rejects('xn--.example', /decodes to ASCII|invalid A-label/);
  rejects(`xn--${punycodeEncode('\u00dc')}.example`, /U\+00DC/);       // uppercase: Unstable
  rejects(`xn--${punycodeEncode('u\u0308x')}.example`, /not in NFC/);
  rejects(`xn--${punycodeEncode('ab--\u00fc')}.example`, /positions 3-4/);
  rejects('xn--ls8h.example', /U\+1F4A9/);                                // 💩: not PVALID
});

test('Bidi Rule across the labels of a domain name with RTL (RFC 5893)', () => {
  assert.equal(prepareDomain('\u05d0\u05d1.example'), '\u05d0\u05d1.example');
  rejects('\u05d0\u05d1.1example', /bidi rule 1/);       // the LTR label now obeys rules 5-6
  rejects('a\u05d0.example', /bidi rule 2/);
  assert.equal(prepareDomain('1example.com'), '1example.com');   // no RTL anywhere: no rule
});

test('Punycode: RFC 3492 §7.1 sample strings round-trip', () => {
  const samples: [string, string][] = [
    ['\u0644\u064a\u0647\u0645\u0627\u0628\u062a\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064a\u061f', 'egbpdaj6bu4bxfgehfvwxn'],
    ['\u4ed6\u4eec\u4e3a\u4ec0\u4e48\u4e0d\u8bf4\u4e2d\u6587', 'ihqwcrb4cv8a8dqg056pqjye'],
    ['Pro\u010dprost\u011bnemluv\u00ed\u010desky', 'Proprostnemluvesky-uyb24dma41a'],
    ['\u3072\u3068\u3064\u5c4b\u6839\u306e\u4e0b2', '2-u9tlzr9756bt3uc0v'],
    ['-> $1.00 <-', '-> $1.00 <--'],
  ];
  for (const [u, p] of samples) {
    assert.equal(punycodeEncode(u), p, u);
    assert.equal(punycodeDecode(p), u, p);
  }
  assert.equal(punycodeDecode('BCHER-KVA'), 'BCHER'.slice(0, 1) + '\u00fc' + 'CHER');  // any case
  assert.throws(() => punycodeDecode('abc!'));
  assert.throws(() => punycodeDecode('9'));                                      // truncated
});

// Deterministic ASCII domain-ish strings: label-shaped pieces of mixed case, digits, hyphens,
// '_', xn--, lengths 62-64, empty labels, trailing dots, IP-shaped and bracketed inputs.
function asciiDomains(): string[] {
  const out = ['example.com', 'EXAMPLE.COM.', '127.0.0.1', '1.2.3', '[::1]', 'a..b', '.', '',
    'xn--bcher-kva.example', 'a_b.c', 'a b', 'a@b', '-a', 'a-', '1a', 'a1', '9', 'ab--cd'];
  let seed = 12345;
  const rand = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
  const pieces = 'abmxzABMZ0189-';
  for (let i = 0; i < 4000; i++) {
    const labels: string[] = [];
    const count = 1 + rand(4);
    for (let j = 0; j < count; j++) {
      const r = rand(10);
      let len = r === 0 ? 62 + rand(3) : r === 1 ? 0 : 1 + rand(6);
      let l = r === 2 ? 'xn--' : '';
      if (r === 3) { l = String(rand(300)); len = 0; }
      while (len-- > 0) l += rand(40) === 0 ? '_' : rand(60) === 0 ? '.' : pieces[rand(pieces.length)];
      labels.push(l);
    }
    out.push(labels.join('.') + (rand(5) === 0 ? '.' : ''));
  }
  return out;
}

test('ASCII fast path gives the same results as the full algorithm', () => {
  const outcome = (f: (s: string) => string, s: string) => {
    try { return 'ok:' + f(s); } catch (e) { return 'error:' + (e as Error).message; }
  };
  let ok = 0;
  for (const s of asciiDomains()) {
    const fast = outcome(prepareDomain, s);
    assert.equal(fast, outcome(enforceDomain, s), JSON.stringify(s));
    if (fast.startsWith('ok:')) ok++;
  }
  assert.ok(ok > 500, `corpus should contain many valid names, had ${ok}`);
});
