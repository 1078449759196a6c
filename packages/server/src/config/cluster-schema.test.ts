// The `cluster` key: defaults, cluster mode refused on SQLite (load.ts), timing constraints,
// federation from a cluster refused without a shared dialback secret (XEP-0220 §2.1.2).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, ConfigError } from './load.js';

const problems = (raw: unknown): string => { try { validateConfig(raw); return ''; } catch (e) { assert.ok(e instanceof ConfigError); return e.message; } };
const pgStorage = { type: 'postgres', url: 'postgres://127.0.0.1/test' };

it('is off by default, with safe defaults', () => {
  const c = validateConfig({}).cluster;
  assert.equal(c.enabled, false);
  assert.equal(c.redisUrl, 'redis://127.0.0.1:6379');
  assert.equal(c.nodeName, undefined);
  assert.equal(c.keyPrefix, 'magpie');
  assert.ok(c.deadAfterSeconds >= 2 * c.heartbeatSeconds);
});

it('refuses cluster mode on SQLite with a message naming the fix', () => {
  assert.match(problems({ cluster: { enabled: true } }), /cluster\.enabled: cluster mode needs storage\.type 'postgres'.*'sqlite'/);
  assert.match(problems({ cluster: { enabled: true }, storage: { type: 'sqlite', path: '/tmp/x.sqlite' } }), /needs storage\.type 'postgres'/);
  assert.equal(validateConfig({ cluster: { enabled: true }, storage: pgStorage }).cluster.enabled, true);
});

it('refuses a dead-node timeout shorter than two heartbeats, bad names, URLs and unknown keys', () => {
  assert.match(problems({ cluster: { heartbeatSeconds: 5, deadAfterSeconds: 6 }, storage: pgStorage }), /cluster\.deadAfterSeconds: deadAfterSeconds must be at least twice heartbeatSeconds/);
  assert.match(problems({ cluster: { nodeName: 'a b' } }), /cluster\.nodeName/);
  assert.match(problems({ cluster: { redisUrl: 'http://x' } }), /cluster\.redisUrl: expected a redis:\/\//);
  assert.match(problems({ cluster: { peers: [] } }), /unknown key\(s\) 'peers'/);
  assert.equal(validateConfig({ cluster: { heartbeatSeconds: 0.5, deadAfterSeconds: 1 } }).cluster.heartbeatSeconds, 0.5);
});

it('refuses a federating cluster without a shared s2s.dialbackSecret', () => {
  assert.match(problems({ cluster: { enabled: true }, storage: pgStorage, s2s: { enabled: true } }), /s2s\.dialbackSecret: a cluster that federates needs the same dialback secret on every node/);
  assert.equal(validateConfig({ cluster: { enabled: true }, storage: pgStorage, s2s: { enabled: true, dialbackSecret: 'x'.repeat(16) } }).s2s.enabled, true);
  // A cluster without federation, and a single federating node, need none.
  assert.equal(validateConfig({ cluster: { enabled: true }, storage: pgStorage }).s2s.dialbackSecret, undefined);
  assert.equal(validateConfig({ s2s: { enabled: true } }).s2s.dialbackSecret, undefined);
});
