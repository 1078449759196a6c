// Address allow-list, IPv6 prefix keys and the sliding-window registration quota (address-limits.ts).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { RegistrationQuota, addressKey, addressMatcher } from './address-limits.js';

it('matches addresses and CIDR blocks, IPv4-mapped IPv6 as IPv4', () => {
  const m = addressMatcher(['192.0.2.0/24', '2001:db8::/32', '198.51.100.7']);
  assert.equal(m('192.0.2.200'), true);
  assert.equal(m('::ffff:192.0.2.1'), true);
  assert.equal(m('198.51.100.7'), true);
  assert.equal(m('198.51.100.8'), false);
  assert.equal(m('2001:db8:1::5'), true);
  assert.equal(m('2001:db9::1'), false);
  assert.equal(m('not an address'), false);
});

it('counts IPv4 per address and IPv6 per prefix block', () => {
  assert.equal(addressKey('203.0.113.5', 64), '203.0.113.5');
  assert.equal(addressKey('::ffff:203.0.113.5', 64), '203.0.113.5');
  assert.equal(addressKey('2001:db8:1:2:aaaa::1', 64), '2001:db8:1:2:0:0:0:0/64');
  assert.equal(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee', 64), addressKey('2001:db8:1:2::9', 64));
  assert.notEqual(addressKey('2001:db8:1:3::1', 64), addressKey('2001:db8:1:2::1', 64));
  assert.equal(addressKey('2001:db8:1:2:3:4:5:6', 56), '2001:db8:1:0:0:0:0:0/56');
  assert.equal(addressKey('2001:db8:1:2:3:4:5:6', 128), '2001:db8:1:2:3:4:5:6/128');
  assert.equal(addressKey('::1', 64), '0:0:0:0:0:0:0:0/64');
  assert.equal(addressKey('64:ff9b::192.0.2.1', 96), '64:ff9b:0:0:0:0:0:0/96');
});

it('allows max registrations per window, frees a slot when released or when it ages out', () => {
  let now = 1_000_000;
  const q = new RegistrationQuota(2, 60_000, () => now);
  assert.equal(q.take('a'), true);
  assert.equal(q.take('a'), true);
  assert.equal(q.take('a'), false, 'third in the window is refused');
  assert.equal(q.take('b'), true, 'another address has its own quota');
  q.release('a');
  assert.equal(q.take('a'), true, 'a released reservation frees its slot');
  assert.equal(q.take('a'), false);
  now += 60_000;
  assert.equal(q.take('a'), true, 'slots free up as the window slides');
});
