// The `magpie` command end to end: configuration checks, account management (passwords as
// arguments and on standard input), then `start`, a login with the new password, and SIGTERM.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { RawClient } from '../support/raw-client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'packages/server/src/cli/main.ts');
const ARGS = ['--conditions=magpie-src', '--import', import.meta.resolve('tsx'), MAIN];

function magpie(dir: string, args: string[], input?: string) {
  const r = spawnSync(process.execPath, [...ARGS, ...args], { cwd: dir, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function freePort(): Promise<number> {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); }); });
}

describe('magpie CLI', () => {
  let dir: string; let port: number;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'magpie-cli-'));
    port = await freePort();
    writeFileSync(join(dir, 'magpie.yaml'), `hosts:\n  - domain: chat.test\nlisteners:\n  - { type: c2s, address: 127.0.0.1, port: ${port} }\ndataDir: ${dir}/data\nlog: { level: info }\n`);
  });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('check validates the configuration and names a bad key', () => {
    const ok = magpie(dir, ['check']);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /configuration OK: hosts chat\.test/);
    writeFileSync(join(dir, 'bad.yaml'), 'limits:\n  maxStanzaBytes: lots\nfoo: 1\n');
    const bad = magpie(dir, ['check', '--config', 'bad.yaml']);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /limits\.maxStanzaBytes/);
    assert.match(bad.err, /unknown key\(s\) 'foo'/);
  });

  it('adduser, users, passwd, deluser', () => {
    assert.equal(magpie(dir, ['adduser', 'Alice@chat.test', 'first pw']).code, 0);
    const again = magpie(dir, ['adduser', 'alice@chat.test', 'x']);
    assert.equal(again.code, 1); assert.match(again.err, /already exists/);
    assert.equal(magpie(dir, ['adduser', 'bob@chat.test'], 'piped secret\n').code, 0, 'password from standard input');
    assert.equal(magpie(dir, ['users']).out, 'alice@chat.test\nbob@chat.test\n');
    assert.equal(magpie(dir, ['passwd', 'alice@chat.test'], 'second pw\n').code, 0);
    assert.equal(magpie(dir, ['deluser', 'bob@chat.test']).code, 0);
    assert.equal(magpie(dir, ['deluser', 'bob@chat.test']).code, 1);
    assert.equal(magpie(dir, ['users', 'chat.test']).out, 'alice@chat.test\n');
    const wrongHost = magpie(dir, ['adduser', 'eve@elsewhere.test', 'pw']);
    assert.equal(wrongHost.code, 2); assert.match(wrongHost.err, /not a host of this server/);
    assert.equal(magpie(dir, ['frobnicate']).code, 2);
  });

  it('passwords are stored only as salted SCRAM keys', () => {
    const db = readFileSync(join(dir, 'data', 'magpie.sqlite'));
    assert.ok(!db.includes('second pw') && !db.includes('first pw') && !db.includes('piped secret'));
  });

  it('start serves clients, logs no secrets, and stops on SIGTERM with system-shutdown', async () => {
    const proc = spawn(process.execPath, [...ARGS, 'start'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    proc.stdout.on('data', (d) => { log += d; });
    proc.stderr.on('data', (d) => { log += d; });
    const end = Date.now() + 30_000;
    while (!log.includes('Magpie started')) { if (Date.now() > end || proc.exitCode !== null) throw new Error('did not start: ' + log); await new Promise((r) => setTimeout(r, 50)); }
    const c = await RawClient.connect(port);
    c.open('chat.test');
    await c.next((e) => e.name === 'features');
    const r = await c.auth('PLAIN', 'alice', 'second pw');
    assert.equal(r.name, 'success');
    const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
    proc.kill('SIGTERM');
    await c.waitText(/system-shutdown/);
    assert.equal(await exited, 0);
    assert.match(log, /"msg":"authenticated"/);
    assert.ok(!log.includes('second pw'), 'the password is not in the log');
    assert.ok(!log.includes(Buffer.from('\0alice\0second pw').toString('base64')), 'nor the SASL payload');
  });
});
