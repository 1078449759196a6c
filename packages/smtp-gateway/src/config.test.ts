import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGatewayConfig, validateGatewayConfig, GatewayConfigError } from './config.js';

const problems = (raw: unknown): string => { try { validateGatewayConfig(raw); return ''; } catch (e) { assert.ok(e instanceof GatewayConfigError); return e.message; } };

it('fills safe defaults and derives the mail domain and the served XMPP domain', () => {
  const c = validateGatewayConfig({ domain: 'Mail.Example.org', server: { secret: 's' } });
  assert.equal(c.domain, 'mail.example.org');
  assert.equal(c.mailDomain, 'mail.example.org');
  assert.deepEqual(c.xmppDomains, ['example.org']);
  assert.equal(c.server.port, 5347);
  assert.equal(c.listener.address, '127.0.0.1');
  assert.equal(c.listener.maxMessageBytes, 1024 * 1024);
  assert.equal(c.relay.rejectUnauthorized, true);
  assert.equal(c.messageType, 'normal');
});

it('names the key of a bad or unknown option', () => {
  assert.match(problems({}), /domain/);
  assert.match(problems({ domain: 'mail.x', server: {} }), /server: give exactly one of secret and secretFile/);
  assert.match(problems({ domain: 'mail.x', server: { secret: 's' }, relay: { port: 'x' } }), /relay\.port/);
  assert.match(problems({ domain: 'mail.x', server: { secret: 's' }, listener: { maxMessageBytes: 10 } }), /listener\.maxMessageBytes/);
  assert.match(problems({ domain: 'mail.x', server: { secret: 's' }, addresses: [{ email: 'nope', jid: 'a@b' }] }), /addresses\.0\.email/);
  assert.match(problems({ domain: 'mail.x', server: { secret: 's' }, extra: 1 }), /unknown key\(s\) extra/);
});

it('reads secrets from files and YAML from disk', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
  writeFileSync(join(dir, 'secret'), 'file secret\n');
  writeFileSync(join(dir, 'gw.yaml'), `domain: mail.example.org\nserver: { secretFile: ${join(dir, 'secret')} }\n`);
  assert.equal(loadGatewayConfig(join(dir, 'gw.yaml')).secret, 'file secret');
  assert.match(problems({ domain: 'mail.x', server: { secretFile: join(dir, 'missing') } }), /server\.secretFile: cannot read/);
});
