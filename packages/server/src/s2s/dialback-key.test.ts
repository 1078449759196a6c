import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DialbackKeys } from './dialback-key.js';

describe('dialback keys (XEP-0185)', () => {
  it('matches the XEP-0185 §3 example computation', () => {
    // The XEP's worked example: secret 's3cr3tf0rd14lb4ck', receiving xmpp.example.com,
    // originating example.org, stream id D60000229F.
    const k = new DialbackKeys('s3cr3tf0rd14lb4ck').generate('xmpp.example.com', 'example.org', 'D60000229F');
    assert.equal(k, '37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643');
  });

  it('verifies only the same domains, stream id and secret', () => {
    const a = new DialbackKeys('one secret that is long');
    const k = a.generate('b.example', 'a.example', 'id1');
    assert.ok(a.verify('b.example', 'a.example', 'id1', k));
    assert.ok(a.verify('b.example', 'a.example', 'id1', k.toUpperCase()));
    assert.ok(!a.verify('b.example', 'a.example', 'id2', k));
    assert.ok(!a.verify('a.example', 'b.example', 'id1', k));
    assert.ok(!a.verify('b.example', 'a.example', 'id1', k.slice(1)));
    assert.ok(!new DialbackKeys('another secret, long').verify('b.example', 'a.example', 'id1', k));
    assert.ok(!a.verify('b.example', 'a.example', 'id1', ''));
  });
});
