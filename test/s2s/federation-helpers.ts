// Helpers for the federation scenarios: a test CA made with openssl (per-domain certificates
// for DNS-less names such as a.localhost), Magpie servers with an s2s listener on an ephemeral
// loopback port, static routes between them (set after start, since the ports are only known
// then), and clients logged in to a named domain.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Element } from '@magpie/core/xml/element';
import type { FederationManager } from '@magpie/server/s2s/manager';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';

export interface TestCa { dir: string; caFile: string; cert(domain: string): { cert: string; key: string } }

/** A CA and, per domain, a key and a certificate it signed (SAN dNSName, server+client use). */
export function makeTestCa(domains: string[], name = 'Magpie Test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'magpie-ca-'));
  const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const d of domains) {
    o('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${d}.key`, '-out', `${d}.csr`, '-subj', `/CN=${d}`);
    writeFileSync(join(dir, `${d}.ext`), `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:${d}\n`);
    o('x509', '-req', '-in', `${d}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${d}.crt`, '-days', '2', '-extfile', `${d}.ext`);
  }
  return { dir, caFile: join(dir, 'ca.crt'), cert: (d) => ({ cert: join(dir, `${d}.crt`), key: join(dir, `${d}.key`) }) };
}

export function hasOpenssl(): boolean {
  try { execFileSync('openssl', ['version'], { stdio: 'pipe' }); return true; } catch { return false; }
}

export interface FedOptions { ca?: TestCa; useCaCert?: boolean; s2s?: Record<string, unknown>; s2sPort?: number; dir?: string; directTls?: boolean }

/** A Magpie server for `domain` with c2s and s2s listeners on loopback. */
export async function startFederated(domain: string, o: FedOptions = {}): Promise<TestServer> {
  const host: Record<string, unknown> = { domain };
  if (o.ca && o.useCaCert !== false) host.tls = o.ca.cert(domain);
  return startTestServer({
    hosts: [host as never],
    listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }, { type: o.directTls ? 's2s-tls' : 's2s', address: '127.0.0.1', port: o.s2sPort ?? 0 }] as never,
    s2s: { enabled: true, systemCas: false, ...(o.ca ? { caFile: o.ca.caFile } : {}), authTimeout: 20, ...(o.s2s ?? {}) } as never,
  }, o.dir ? { dir: o.dir } : {});
}

export function s2sPort(ts: TestServer): number {
  return ts.server.config.listeners.some((l) => l.type === 's2s-tls') ? ts.server.port('s2s-tls') : ts.server.port('s2s');
}

/** Point `from`'s route for `to`'s domain at `to`'s s2s listener. */
export function route(from: TestServer, to: TestServer, directTls = false): void {
  from.server.config.s2s.routes[to.domain] = directTls ? { host: '127.0.0.1', port: s2sPort(to), directTls: true } : `127.0.0.1:${s2sPort(to)}`;
}

export function federation(ts: TestServer): FederationManager {
  // The module offers its manager as a service; tests read it to see how a stream authenticated.
  const services = (ts.server.modules as unknown as { services: Map<string, object> }).services;
  const m = services.get('federation');
  assert.ok(m, 'the federation module is loaded');
  return m as FederationManager;
}

/** A client logged in to `ts` (whose domain is not 'localhost'). */
export async function loginAt(ts: TestServer, user: string, resource: string, password = 'pw'): Promise<RawClient> {
  const c = await RawClient.connect(ts.port);
  const open = () => c.open(ts.domain);
  open();
  await c.next((e) => e.name === 'features');
  const r = await c.auth('SCRAM-SHA-256', user, password);
  assert.equal(r.name, 'success', `login of ${user}@${ts.domain}: ${r.toString()}`);
  c.restartParser();
  open();
  await c.next((e) => e.name === 'features');
  c.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
  await c.next((e) => e.name === 'iq' && e.attr('id') === 'bind1' && e.attr('type') === 'result');
  return c;
}

export function condition(e: Element): string | undefined {
  return e.getChild('error')?.elements().find((x) => x.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && x.name !== 'text')?.name;
}

export const readText = (p: string): string => readFileSync(p, 'utf8');
