import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, loadConfigFile, ConfigError } from './load.js';

it('fills safe defaults for an empty configuration', () => {
  const c = validateConfig({});
  assert.deepEqual(c.hosts.map((h) => h.domain), ['localhost']);
  assert.deepEqual(c.listeners.map((l) => [l.type, l.port]), [['c2s', 5222], ['c2s-tls', 5223], ['http', 5280], ['https', 5443]]);
  assert.equal(c.http.websocketPath, '/xmpp-websocket');
  assert.equal(c.storage.type, 'sqlite');
  assert.equal(c.limits.maxStanzaBytes, 262144);
  assert.equal(c.tls.requireForClients, true);
  assert.equal(c.hosts[0]!.auth.digestMd5, false);
  assert.equal(c.hosts[0]!.auth.anonymous, false);
});

const problems = (raw: unknown): string => { try { validateConfig(raw); return ''; } catch (e) { assert.ok(e instanceof ConfigError); return e.message; } };

it('names the key of an unknown option or a bad value', () => {
  assert.match(problems({ limits: { maxStanzaByte: 5 } }), /limits: unknown key\(s\) 'maxStanzaByte'/);
  assert.match(problems({ limits: { maxStanzaBytes: 'big' } }), /limits\.maxStanzaBytes: .*number/);
  assert.match(problems({ listeners: [{ type: 'c2s', port: 70000 }] }), /listeners\.0\.port/);
  assert.match(problems({ storage: { type: 'mysql' } }), /storage/);
  assert.match(problems({ hosts: [{ domain: 'a b' }] }), /hosts\.0\.domain: not a valid domain/);
  assert.match(problems({ hosts: [{ domain: 'Example.COM' }, { domain: 'example.com' }] }), /duplicate host/);
  assert.match(problems({ bogus: 1 }), /unknown key\(s\) 'bogus'/);
  assert.match(problems({ resourceConflict: 'maybe' }), /resourceConflict/);
});

it('canonicalises host domains', () => {
  assert.equal(validateConfig({ hosts: [{ domain: 'Example.COM' }] }).hosts[0]!.domain, 'example.com');
});

it('reports YAML syntax errors and missing files with the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'magpie-cfg-'));
  const f = join(dir, 'bad.yaml');
  writeFileSync(f, 'hosts: [\n');
  assert.throws(() => loadConfigFile(f), /YAML syntax error/);
  assert.throws(() => loadConfigFile(join(dir, 'missing.yaml')), /cannot read/);
  writeFileSync(f, 'hosts:\n  - domain: chat.example\nlimits:\n  maxDepth: 32\n');
  const c = loadConfigFile(f);
  assert.equal(c.hosts[0]!.domain, 'chat.example');
  assert.equal(c.limits.maxDepth, 32);
});
