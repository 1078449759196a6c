import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap without jitter', () => {
    const o = { initial: 100, max: 1000, factor: 2, jitter: 0 };
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((a) => backoffDelay(a, o)), [100, 200, 400, 800, 1000, 1000]);
  });
  it('jitter keeps each delay inside [base·(1-j), base]', () => {
    const o = { initial: 1000, max: 60000, factor: 2, jitter: 0.5 };
    assert.equal(backoffDelay(2, o, () => 0), 4000);
    assert.equal(backoffDelay(2, o, () => 1), 2000);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(3, o);
      assert.ok(d >= 4000 && d <= 8000, String(d));
    }
  });
  it('spreads clients: random draws give different delays', () => {
    const ds = new Set(Array.from({ length: 50 }, () => backoffDelay(4, { jitter: 1 })));
    assert.ok(ds.size > 10);
  });
  it('clamps nonsense: negative attempt, jitter outside 0..1', () => {
    assert.equal(backoffDelay(-3, { initial: 10, jitter: 0 }), 10);
    assert.equal(backoffDelay(0, { initial: 10, jitter: 7 }, () => 1), 0);
  });
});
