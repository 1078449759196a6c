import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { turnCredentials } from './turn-credentials.js';

test('TURN REST credentials: expiry-prefixed username, HMAC-SHA1 password over it', () => {
  const now = Date.UTC(2026, 0, 1);
  const c = turnCredentials('s3cret', 'alice@example.org', 3600, now);
  assert.equal(c.username, `${now / 1000 + 3600}:alice@example.org`);
  assert.equal(c.password, createHmac('sha1', 's3cret').update(c.username).digest('base64'));
  assert.equal(c.expires.getTime(), now + 3_600_000);
  assert.notEqual(turnCredentials('other', 'alice@example.org', 3600, now).password, c.password);
});
