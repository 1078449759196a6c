// Configuration of external components (XEP-0114): what the schema and checkComponents refuse,
// and the component listener default.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, ConfigError } from './load.js';

const problems = (raw: unknown): string => { try { validateConfig(raw); return ''; } catch (e) { assert.ok(e instanceof ConfigError); return e.message; } };

it('refuses a component without exactly one of secret and secretFile', () => {
  assert.match(problems({ components: [{ domain: 'c.example' }] }), /components\.0: give exactly one of secret and secretFile/);
  assert.match(problems({ components: [{ domain: 'c.example', secret: 'a', secretFile: '/x' }] }), /exactly one/);
  assert.match(problems({ components: [{ domain: 'c.example', secret: 'a', port: 1 }] }), /unknown key\(s\) 'port'/);
});

it('refuses a hosted domain, a duplicate and an invalid domain; canonicalises the domain', () => {
  assert.match(problems({ hosts: [{ domain: 'example.org' }], components: [{ domain: 'Example.ORG', secret: 's' }] }), /components\.0\.domain: 'example\.org' is a hosted domain/);
  assert.match(problems({ components: [{ domain: 'c.example', secret: 's' }, { domain: 'C.example', secret: 't' }] }), /components\.1\.domain: duplicate component/);
  assert.match(problems({ components: [{ domain: 'a b', secret: 's' }] }), /components\.0\.domain: not a valid domain/);
  assert.match(problems({ components: [{ domain: 'u@c.example', secret: 's' }] }), /expected a bare domain/);
  assert.equal(validateConfig({ components: [{ domain: 'Mail.Example', secret: 's' }] }).components[0]!.domain, 'mail.example');
});

it('opens a loopback component listener on 5347 only when components are configured and none is listed', () => {
  assert.ok(!validateConfig({}).listeners.some((l) => l.type === 'component'));
  const c = validateConfig({ components: [{ domain: 'c.example', secret: 's' }] });
  assert.deepEqual(c.listeners.filter((l) => l.type === 'component'), [{ type: 'component', address: '127.0.0.1', port: 5347 }]);
  const own = validateConfig({ listeners: [{ type: 'component', port: 6000 }], components: [{ domain: 'c.example', secret: 's' }] });
  assert.deepEqual(own.listeners, [{ type: 'component', address: '127.0.0.1', port: 6000 }], 'a listed component listener defaults to loopback');
  assert.equal(validateConfig({ listeners: [{ type: 'c2s', port: 5222 }] }).listeners[0]!.address, '::');
});
