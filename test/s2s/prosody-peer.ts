// A real Prosody (Debian's /usr/bin/prosody) run by a test: its own config, data and plugin
// directory in a temp dir, loopback ports picked free beforehand, a static-route plugin instead
// of DNS (prosody/mod_test_static_routes.lua), users made with prosodyctl, stopped with SIGTERM.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawClient } from '../support/raw-client.js';

export const PROSODY = '/usr/bin/prosody';
export const PROSODYCTL = '/usr/bin/prosodyctl';
export const prosodyInstalled = (): boolean => existsSync(PROSODY) && existsSync(PROSODYCTL);

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

export interface ProsodyOptions {
  domain: string;
  cert: string; key: string;
  /** CA file Prosody trusts for peer certificates. */
  cafile?: string;
  /** s2s_secure_auth: only certificates authenticate peers (no dialback fallback). */
  secureAuth: boolean;
  routes: Record<string, [string, number]>;
  /** More Prosody modules to load (e.g. s2s_bidi). */
  modules?: string[];
  /** A fixed s2s port (when the peer must know it before this Prosody starts). */
  s2sPort?: number;
  /** Lua appended to the config (e.g. a MUC Component for the client tests). */
  extraConfig?: string;
}

export interface ProsodyPeer { dir: string; c2sPort: number; s2sPort: number; domain: string; log(): string; register(user: string, pw: string): void; stop(): Promise<void> }

const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string literal here

export async function startProsody(o: ProsodyOptions): Promise<ProsodyPeer> {
  const dir = mkdtempSync(join(tmpdir(), 'magpie-prosody-'));
  mkdirSync(join(dir, 'data')); mkdirSync(join(dir, 'plugins'));
  copyFileSync(join(dirname(fileURLToPath(import.meta.url)), 'prosody', 'mod_test_static_routes.lua'), join(dir, 'plugins', 'mod_test_static_routes.lua'));
  const [c2sPort, s2sPort] = [await freePort(), o.s2sPort ?? await freePort()];
  const ssl = `{ certificate = ${lua(o.cert)}; key = ${lua(o.key)}; ${o.cafile ? `cafile = ${lua(o.cafile)};` : ''} }`;
  const routes = Object.entries(o.routes).map(([d, [h, p]]) => `[${lua(d)}] = { ${lua(h)}, ${p} }`).join(', ');
  const cfg = join(dir, 'prosody.cfg.lua');
  writeFileSync(cfg, `-- written by test/s2s/prosody-peer.ts
run_as_root = true
daemonize = false
pidfile = ${lua(join(dir, 'prosody.pid'))}
data_path = ${lua(join(dir, 'data'))}
plugin_paths = { ${lua(join(dir, 'plugins'))} }
log = { debug = ${lua(join(dir, 'prosody.log'))} }
interfaces = { "127.0.0.1" }
c2s_ports = { ${c2sPort} }
s2s_ports = { ${s2sPort} }
modules_enabled = { "roster", "saslauth", "tls", "dialback", "disco", "ping", "presence", "test_static_routes"${(o.modules ?? []).map((m) => `, ${lua(m)}`).join('')} }
modules_disabled = { "admin_socket" }
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
s2s_require_encryption = true
s2s_secure_auth = ${o.secureAuth}
authentication = "internal_hashed"
certificates = ${lua(join(dir, 'certs'))}
ssl = ${ssl}
test_static_routes = { ${routes} }
VirtualHost ${lua(o.domain)}
  ssl = ${ssl}
${o.extraConfig ?? ''}`);
  const proc: ChildProcess = spawn(PROSODY, ['-F', '--config', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => { out += d; }); proc.stderr!.on('data', (d) => { out += d; });
  const peer: ProsodyPeer = {
    dir, c2sPort, s2sPort, domain: o.domain,
    log: () => { try { return readFileSync(join(dir, 'prosody.log'), 'utf8'); } catch { return out; } },
    register: (user, pw) => { execFileSync(PROSODYCTL, ['--config', cfg, 'register', user, o.domain, pw], { stdio: 'pipe' }); },
    stop: async () => {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`prosody exited (${proc.exitCode}): ${out}\n${peer.log().slice(-3000)}`);
    const ok = await new Promise<boolean>((r) => { const s = net.connect(c2sPort, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (ok) break;
    if (Date.now() > deadline) { await peer.stop(); throw new Error('prosody did not start listening'); }
    await new Promise((r) => setTimeout(r, 200));
  }
  return peer;
}

/** A Prosody user logged in over plain c2s on loopback (SCRAM-SHA-1). */
export async function loginProsody(p: ProsodyPeer, user: string, resource: string, pw = 'pw'): Promise<RawClient> {
  const c = await RawClient.connect(p.c2sPort);
  c.open(p.domain);
  await c.next((e) => e.name === 'features');
  const r = await c.auth('SCRAM-SHA-1', user, pw);
  if (r.name !== 'success') throw new Error(`prosody login failed: ${r.toString()}`);
  c.restartParser();
  c.open(p.domain);
  await c.next((e) => e.name === 'features');
  c.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
  await c.next((e) => e.name === 'iq' && e.attr('id') === 'bind1' && e.attr('type') === 'result');
  c.send(`<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`);
  await c.next((e) => e.name === 'iq' && e.attr('id') === 'sess1');
  return c;
}

/** A self-signed certificate (no CA the peer trusts): the dialback path. */
export function selfSigned(dir: string, domain: string): { cert: string; key: string } {
  const cert = join(dir, `${domain}.self.crt`), key = join(dir, `${domain}.self.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${domain}`, '-addext', `subjectAltName=DNS:${domain}`], { stdio: 'pipe' });
  return { cert, key };
}
