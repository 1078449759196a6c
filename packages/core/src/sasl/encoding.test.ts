// Strict base64 (RFC 4648 §4, canonical per §3.5), UTF-8, hex, and OpaqueString password
// preparation (RFC 8265 §4.2) used by every SASL mechanism.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  concatBytes, fromBase64, fromHex, fromUtf8, prepareOpaqueString, PrepError, toBase64, toHex, tryPrepareOpaqueString, utf8,
} from './encoding.js';

test('base64 round-trips every length and matches RFC 4648 §10 vectors', () => {
  const vectors: [string, string][] = [['', ''], ['f', 'Zg=='], ['fo', 'Zm8='], ['foo', 'Zm9v'], ['foob', 'Zm9vYg=='], ['fooba', 'Zm9vYmE='], ['foobar', 'Zm9vYmFy']];
  for (const [plain, b64] of vectors) {
    assert.equal(toBase64(utf8(plain)), b64);
    assert.deepEqual(fromBase64(b64), utf8(plain));
  }
  for (let n = 0; n < 70; n++) {
    const bytes = new Uint8Array(n).map((_, i) => (i * 37 + n) & 255);
    assert.deepEqual(fromBase64(toBase64(bytes)), bytes);
  }
  assert.deepEqual(fromBase64('+/+/'), new Uint8Array([0xfb, 0xff, 0xbf]));
});

test('base64 decoding is strict', () => {
  for (const bad of ['Zg', 'Zg=', 'Z===', '====', 'Zm9v\n', 'Zm 9v', 'Zm9-', 'Zm9_', 'Zg==Zg==', 'Z=g=', 'Zh==', 'Zm9=', 'é===']) {
    assert.equal(fromBase64(bad), undefined, bad);
  }
});

test('utf8 decoding rejects ill-formed sequences instead of substituting', () => {
  assert.equal(fromUtf8(utf8('héllo ✓ 𝄞')), 'héllo ✓ 𝄞');
  assert.equal(fromUtf8(new Uint8Array([0xff])), undefined);
  assert.equal(fromUtf8(new Uint8Array([0xc3])), undefined);
  assert.equal(fromUtf8(new Uint8Array([0xed, 0xa0, 0x80])), undefined); // encoded surrogate
});

test('hex and concat helpers', () => {
  assert.equal(toHex(new Uint8Array([0, 15, 255])), '000fff');
  assert.deepEqual(fromHex('000FfF'), new Uint8Array([0, 15, 255]));
  assert.equal(fromHex('abc'), undefined);
  assert.equal(fromHex('zz'), undefined);
  assert.deepEqual(concatBytes(utf8('a'), new Uint8Array(0), utf8('bc')), utf8('abc'));
});

test('OpaqueString: NFC, non-ASCII spaces mapped, controls rejected', () => {
  assert.equal(prepareOpaqueString('pencil'), 'pencil');
  assert.equal(prepareOpaqueString('e\u0301'), '\u00e9');                  // NFC composes
  assert.equal(prepareOpaqueString('a\u00a0b\u3000c\u2009d'), 'a b c d'); // Zs -> U+0020
  assert.equal(prepareOpaqueString('  spaced  '), '  spaced  ');          // ASCII spaces kept
  assert.equal(prepareOpaqueString('Correct Horse'), 'Correct Horse');    // case preserved
  assert.equal(prepareOpaqueString('\u2163'), '\u2163');                   // no compatibility mapping
  assert.throws(() => prepareOpaqueString(''), PrepError);
  assert.throws(() => prepareOpaqueString('a\u0007b'), PrepError);
  assert.throws(() => prepareOpaqueString('tab\there'), PrepError);
  assert.throws(() => prepareOpaqueString('x\ud800'), PrepError);
  assert.equal(tryPrepareOpaqueString('\u0000'), undefined);
  const once = prepareOpaqueString('A\u0308\u00a0x');
  assert.equal(prepareOpaqueString(once), once); // idempotent, so client and server may both apply it
});
