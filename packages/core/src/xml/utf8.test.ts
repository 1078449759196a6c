import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { utf8ByteLength, utf8ByteLengthJs } from './utf8.js';

describe('utf8ByteLength (browser-safe parser accounting)', () => {
  it('the pure JS count equals Buffer.byteLength, unpaired surrogates included', () => {
    const samples = ['', 'abc', 'é', '€', '😀', 'a😀b', '\uD800', '\uDC00x', 'x\uD800', '\uD800\uD800\uDC00', 'ß'.repeat(100) + '中文'];
    for (const s of samples) {
      assert.equal(utf8ByteLengthJs(s), Buffer.byteLength(s, 'utf8'), JSON.stringify(s));
      assert.equal(utf8ByteLength(s), Buffer.byteLength(s, 'utf8'));
    }
  });
});
