import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RidWindow } from './rid-window.js';

describe('BOSH rid window (XEP-0124 §14)', () => {
  it('classifies next, ahead within the window, repeats of recent rids, and the rest', () => {
    const w = new RidWindow(100, 2);
    assert.equal(w.classify(101), 'next');
    assert.equal(w.classify(102), 'ahead');
    assert.equal(w.classify(103), 'outside');
    assert.equal(w.classify(100), 'repeat');
    assert.equal(w.classify(99), 'repeat');
    assert.equal(w.classify(98), 'outside');
    assert.equal(w.advance(), 101);
    assert.equal(w.classify(103), 'ahead');
    assert.equal(w.classify(99), 'outside');
  });

  it('keeps only the newest responses for resending', () => {
    const w = new RidWindow(10, 2);
    for (let rid = 11; rid <= 14; rid++) { w.advance(); w.remember(rid, { status: 200, body: `<b${rid}/>` }); }
    assert.equal(w.cached(14)?.body, '<b14/>');
    assert.equal(w.cached(13)?.body, '<b13/>');
    assert.equal(w.cached(12), undefined);
    assert.equal(w.cached(11), undefined);
  });
});
