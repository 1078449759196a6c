import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { bare, inlineImages, isImageUrl, looksLikeJid, splitLinks } from './text.js';

describe('message text helpers', () => {
  it('splits http(s) links out of a body, leaving sentence punctuation outside', () => {
    assert.deepEqual(splitLinks('see https://a.example/x.png. ok'), [{ text: 'see ' }, { url: 'https://a.example/x.png' }, { text: '. ok' }]);
    assert.deepEqual(splitLinks('(http://b.example/)'), [{ text: '(' }, { url: 'http://b.example/' }, { text: ')' }]);
    assert.deepEqual(splitLinks('javascript:alert(1) and ftp://x'), [{ text: 'javascript:alert(1) and ftp://x' }]);
    assert.deepEqual(splitLinks(''), []);
  });
  it('shows only https image URLs inline, once each', () => {
    assert.equal(isImageUrl('https://u.example/slot/cat%20photo.JPG'), true);
    assert.equal(isImageUrl('http://u.example/cat.png'), false, 'plain http is mixed content and outside the CSP');
    assert.equal(isImageUrl('https://u.example/cat.png.exe'), false);
    assert.equal(isImageUrl('not a url'), false);
    assert.deepEqual(inlineImages('https://u.example/a.png', 'https://u.example/a.png'), ['https://u.example/a.png']);
    assert.deepEqual(inlineImages('look https://u.example/b.gif and https://u.example/doc.pdf'), ['https://u.example/b.gif']);
    assert.deepEqual(inlineImages('file', 'https://u.example/c.webp'), ['https://u.example/c.webp']);
  });
  it('JID helpers', () => {
    assert.equal(bare('a@b/c/d'), 'a@b');
    assert.equal(bare('a@b'), 'a@b');
    assert.equal(looksLikeJid('alice@localhost'), true);
    assert.equal(looksLikeJid(' alice@example.org '), true);
    assert.equal(looksLikeJid('alice'), false);
    assert.equal(looksLikeJid('a@b@c'), false);
    assert.equal(looksLikeJid('a b@c'), false);
  });
});
