import { it } from 'node:test';
import assert from 'node:assert/strict';
import { formatDateTime, parseDateTime } from './datetime.js';

it('parses XEP-0082 DateTime with zone offsets and fractions', () => {
  assert.equal(parseDateTime('2010-06-07T00:00:00Z'), Date.UTC(2010, 5, 7));
  assert.equal(parseDateTime('2010-06-07T02:30:00+02:30'), Date.UTC(2010, 5, 7));
  assert.equal(parseDateTime('2010-06-06T20:00:00-04:00'), Date.UTC(2010, 5, 7));
  assert.equal(parseDateTime('2010-06-07T00:00:00.1234Z'), Date.UTC(2010, 5, 7) + 123);
  assert.equal(parseDateTime('2010-06-07T00:00:00.5Z'), Date.UTC(2010, 5, 7) + 500);
  assert.equal(parseDateTime('2024-02-29T12:00:00Z'), Date.UTC(2024, 1, 29, 12));
  assert.equal(parseDateTime(formatDateTime(1_700_000_000_123)), 1_700_000_000_123);
});

it('refuses anything else', () => {
  for (const bad of ['', 'yesterday', '2010-06-07', '2010-06-07T00:00:00', '2010-13-01T00:00:00Z', '2023-02-29T00:00:00Z',
    '2010-06-07T24:00:00Z', '2010-06-07 00:00:00Z', '2010-06-07T00:00:00+0200', '2010-06-07T00:00:00+25:00', '1e3', '2010-06-07T00:60:00Z']) {
    assert.equal(parseDateTime(bad), undefined, bad);
  }
});
