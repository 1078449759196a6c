import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyTracker } from './reply-tracker.js';

it('recognises an error answering a remembered exchange, within its age and size bounds', () => {
  let now = 0;
  const t = new ReplyTracker(2, 1000, () => now);
  t.remember('a@x', 'b@y/r', 'm1');
  assert.equal(t.answers('a@x', 'b@y/r', 'm1'), true);
  assert.equal(t.answers('a@x', 'b@y', 'm1'), false, 'the exact address the message went to');
  assert.equal(t.answers('a@x', 'b@y/r', 'm2'), false);
  assert.equal(t.answers('a@x', 'b@y/r', undefined), false);
  t.remember('a@x', 'c@y', 'm2'); t.remember('a@x', 'd@y', 'm3');
  assert.equal(t.size, 2);
  assert.equal(t.answers('a@x', 'b@y/r', 'm1'), false, 'oldest evicted');
  now = 2000;
  assert.equal(t.answers('a@x', 'd@y', 'm3'), false, 'expired');
  t.remember('a@x', 'd@y', undefined);
  assert.equal(t.size, 1, 'no id, nothing to remember');
});
