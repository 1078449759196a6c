import { it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle } from './auth-throttle.js';
import { validateConfig } from '../config/load.js';

it('delays after a threshold, locks out, forgets after the window', () => {
  let now = 0;
  const limits = validateConfig({ limits: { authFailuresBeforeDelay: 2, authLockoutFailures: 5, authFailureWindow: 60, authMaxDelayMs: 1000 } }).limits;
  const t = new AuthThrottle(limits, () => now);
  assert.equal(t.failure('1.2.3.4', 'a@x'), 0);
  assert.equal(t.failure('1.2.3.4', 'a@x'), 0);
  assert.equal(t.failure('1.2.3.4', 'a@x'), 250);
  assert.equal(t.failure('1.2.3.4', 'a@x'), 500);
  assert.equal(t.lockedOut('1.2.3.4'), false);
  assert.equal(t.failure('5.6.7.8', 'a@x'), 1000, 'the account counts across addresses');
  assert.equal(t.lockedOut('9.9.9.9', 'a@x'), true, 'the account is locked from any address');
  assert.equal(t.lockedOut('9.9.9.9', 'b@x'), false);
  now = 61_000;
  assert.equal(t.lockedOut('9.9.9.9', 'a@x'), false, 'failures expire with the window');
});

it('a success clears the account but not the address', () => {
  const limits = validateConfig({ limits: { authLockoutFailures: 2 } }).limits;
  const t = new AuthThrottle(limits);
  t.failure('1.1.1.1', 'a@x'); t.failure('1.1.1.1', 'a@x');
  t.success('a@x');
  assert.equal(t.lockedOut('2.2.2.2', 'a@x'), false);
  assert.equal(t.lockedOut('1.1.1.1'), true);
});
