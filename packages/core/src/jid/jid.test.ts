// JID parsing as a whole: the RFC 7622 §3.5 examples (valid and invalid), the §3.1 split, case
// handling per part, the 1023-octet limit of every part (§3.2-§3.4) and the public API.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JID, JIDError } from './jid.js';

function rejects(s: string, pattern?: RegExp): void {
  assert.throws(() => JID.parse(s), (e: unknown) => {
    assert.ok(e instanceof JIDError, `expected JIDError for ${JSON.stringify(s)}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  });
}

test('RFC 7622 §3.5.1 valid examples', () => {
  const valid: [string, string][] = [
    ['juliet@example.com', 'juliet@example.com'],
    ['juliet@example.com/foo', 'juliet@example.com/foo'],
    ['juliet@example.com/foo bar', 'juliet@example.com/foo bar'],
    ['juliet@example.com/foo@bar', 'juliet@example.com/foo@bar'],
    ['foo\\20bar@example.com', 'foo\\20bar@example.com'],
    ['fussball@example.com', 'fussball@example.com'],
    ['fußball@example.com', 'fußball@example.com'],
    ['π@example.com', 'π@example.com'],
    ['Σ@example.com/foo', 'σ@example.com/foo'],
    ['σ@example.com/foo', 'σ@example.com/foo'],
    ['ς@example.com/foo', 'ς@example.com/foo'],
    ['king@example.com/♚', 'king@example.com/♚'],
    ['example.com', 'example.com'],
    ['example.com/foobar', 'example.com/foobar'],
    ['a.example.com/b@example.net', 'a.example.com/b@example.net'],
  ];
  for (const [input, canonical] of valid) assert.equal(JID.parse(input).toString(), canonical, input);
  // ß and ς are distinct characters, not folded (RFC 7622 §3.5 notes them as valid and distinct).
  assert.ok(!JID.parse('fußball@example.com').equals(JID.parse('fussball@example.com')));
  assert.ok(!JID.parse('ς@example.com').equals(JID.parse('σ@example.com')));
});

test('RFC 7622 §3.5.2 invalid examples', () => {
  rejects('"juliet"@example.com', /localpart.*'"'/);
  rejects('foo bar@example.com', /localpart.*U\+0020/);
  rejects('henry\u2163@example.com', /localpart.*disallowed/);     // ROMAN NUMERAL FOUR: HasCompat
  rejects('♚@example.com', /localpart.*U\+265A/);                  // symbol: not IdentifierClass
  rejects('juliet@', /domainpart/);
  rejects('/foobar', /domainpart/);
  rejects('node@/server', /domainpart/);
  rejects('@example.com/', /empty localpart/);
});

test('§3.1 split: first "/" starts the resource, then the first "@" before it', () => {
  const j = JID.parse('a@b.example/c@d/e');
  assert.equal(j.local, 'a');
  assert.equal(j.domain, 'b.example');
  assert.equal(j.resource, 'c@d/e');
  const d = JID.parse('b.example/x@y');
  assert.equal(d.local, '');
  assert.equal(d.resource, 'x@y');
  rejects('@example.com', /empty localpart/);
  rejects('example.com/', /empty resourcepart/);
  rejects('', /domainpart/);
  rejects('a@b@example.com', /localpart|domainpart/);
});

test('case: localpart and domainpart folded, resourcepart preserved', () => {
  assert.equal(JID.parse('JULIET@EXAMPLE.COM/Balcony').toString(), 'juliet@example.com/Balcony');
  assert.ok(JID.parse('Juliet@Example.com/x').equals(JID.parse('juliet@example.com/x')));
  assert.ok(!JID.parse('juliet@example.com/X').equals(JID.parse('juliet@example.com/x')));
});

test('fullwidth localpart maps to ASCII (RFC 8265 §3.3.2 width mapping)', () => {
  assert.equal(JID.parse('ＪＵＬＩＥＴ@example.com').local, 'juliet');
  // ...but not in the resourcepart, whose OpaqueString profile preserves width.
  assert.equal(JID.parse('juliet@example.com/ＲＯＭＥＯ').resource, 'ＲＯＭＥＯ');
});

test('1023 octets per part are accepted, 1024 rejected', () => {
  const l1023 = 'a'.repeat(1023);
  assert.equal(JID.parse(`${l1023}@example.com`).local, l1023);
  rejects(`${'a'.repeat(1024)}@example.com`, /localpart is 1024 octets/);
  // Counted in UTF-8 octets, not characters: 511 × 'é' (2 octets) + 'a' = 1023.
  assert.ok(JID.tryParse(`${'é'.repeat(511)}a@example.com`));
  rejects(`${'é'.repeat(512)}@example.com`, /localpart is 1024 octets/);

  const r1023 = 'r'.repeat(1023);
  assert.equal(JID.parse(`example.com/${r1023}`).resource, r1023);
  rejects(`example.com/${'r'.repeat(1024)}`, /resourcepart is 1024 octets/);
  rejects(`example.com/${'€'.repeat(342)}`, /resourcepart is 1026 octets/);

  // Domain: 16 labels of 63 and 15 dots = 1023; one more octet (with labels still ≤ 63) is out.
  const label = 'x'.repeat(63);
  const d1023 = Array(16).fill(label).join('.');
  assert.equal(d1023.length, 1023);
  assert.equal(JID.parse(d1023).domain, d1023);
  const d1024 = Array(15).fill(label).join('.') + '.' + 'y'.repeat(31) + '.' + 'z'.repeat(32);
  assert.equal(d1024.length, 1024);
  rejects(d1024, /domainpart is 1024 octets/);
});

test('API: of, bare, isBare, isDomain, withResource, equals, bareString, toJSON', () => {
  const full = JID.of('Romeo', 'Example.COM', 'Orchard');
  assert.equal(full.toString(), 'romeo@example.com/Orchard');
  assert.equal(full.bareString(), 'romeo@example.com');
  assert.equal(full.bare.toString(), 'romeo@example.com');
  assert.ok(full.bare.isBare && !full.isBare);
  assert.ok(JID.parse('example.com').isDomain && !full.bare.isDomain);
  const bare = full.bare;
  assert.equal(bare.bare, bare);
  assert.equal(full.withResource('Balcony').toString(), 'romeo@example.com/Balcony');
  assert.ok(full.equals(JID.parse('romeo@example.com/Orchard')));
  assert.ok(!full.equals(undefined));
  assert.equal(JSON.stringify({ to: full }), '{"to":"romeo@example.com/Orchard"}');
  assert.throws(() => full.withResource('\u0000'), JIDError);
});

test('tryParse returns undefined instead of throwing', () => {
  assert.equal(JID.tryParse(undefined), undefined);
  assert.equal(JID.tryParse('@example.com'), undefined);
  assert.equal(JID.tryParse('juliet@example.com')?.local, 'juliet');
});

test('parsing a canonical JID again yields the same JID (idempotence)', () => {
  for (const s of ['Σ@example.com/foo', 'ＪＵＬＩＥＴ@Bücher.example/Ｒ', 'xn--bcher-kva.example',
    'İstanbul@example.com', 'A\u030a@example.com/\u00a0x', '[0:0::1]/r', 'ΟΔΥΣΣΕΥΣ@example.com']) {
    const once = JID.parse(s).toString();
    assert.equal(JID.parse(once).toString(), once, s);
  }
});
