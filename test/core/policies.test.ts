// Policies and limits over real sockets: SASL EXTERNAL with a CA-signed client certificate
// (XEP-0178), SNI with two virtual hosts, the resource conflict policies, the per-account
// resource limit, the per-address connection limit, dead-connection detection by ping, and a
// server running on PostgreSQL storage.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { startTestServer, skipOrFail } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { pgTestUrl } from '../support/postgres.js';

const haveOpenssl = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

function makeClientCert(dir: string, xmppAddr: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Magpie Test CA');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', `/CN=${xmppAddr}`);
  writeFileSync(join(dir, 'ext.cnf'), `subjectAltName=otherName:1.3.6.1.5.5.7.8.5;UTF8:${xmppAddr}\nextendedKeyUsage=clientAuth\n`);
  run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '2', '-extfile', 'ext.cnf');
  return { ca: join(dir, 'ca.pem'), cert: readFileSync(join(dir, 'client.pem'), 'utf8'), key: readFileSync(join(dir, 'client.key'), 'utf8') };
}

describe('policies', () => {
  it('SASL EXTERNAL with a client certificate naming the account (XEP-0178)', async (t) => {
    if (!haveOpenssl) return skipOrFail(t, 'the openssl command is not installed');
    const dir = mkdtempSync(join(tmpdir(), 'magpie-ext-'));
    const { ca, cert, key } = makeClientCert(dir, 'alice@localhost');
    const ts = await startTestServer({ tls: { clientCa: ca } });
    try {
      await ts.addUser('alice', 'pw');
      const sock = tls.connect({ port: ts.tlsPort, host: '127.0.0.1', servername: 'localhost', cert, key, rejectUnauthorized: false });
      await new Promise((r) => sock.once('secureConnect', r));
      const c = RawClient.fromSocket(sock);
      c.open();
      const f = await c.next((e) => e.name === 'features');
      const mechs = f.getChild('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl')!.getChildren('mechanism').map((m) => m.text());
      assert.ok(mechs.includes('EXTERNAL'), 'EXTERNAL is offered to a client with a certificate');
      c.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>`);
      assert.equal((await c.next((e) => e.xmlns === 'urn:ietf:params:xml:ns:xmpp-sasl')).name, 'success');
      c.destroy();
      // A certificate for another account cannot claim alice.
      c.destroy();
      const other = makeClientCert(mkdtempSync(join(tmpdir(), 'magpie-ext2-')), 'mallory@localhost');
      const sock2 = tls.connect({ port: ts.tlsPort, host: '127.0.0.1', servername: 'localhost', cert: other.cert, key: other.key, rejectUnauthorized: false });
      await new Promise((r) => sock2.once('secureConnect', r));
      const c2 = RawClient.fromSocket(sock2);
      c2.open();
      await c2.next((e) => e.name === 'features');
      c2.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>${Buffer.from('alice@localhost').toString('base64')}</auth>`);
      assert.equal((await c2.next((e) => e.xmlns === 'urn:ietf:params:xml:ns:xmpp-sasl')).name, 'failure', 'untrusted CA or another identity is refused');
      c2.destroy();
    } finally { await ts.stop(); }
  });

  it('serves each virtual host its own certificate by SNI, and checks the stream to', async () => {
    const ts = await startTestServer({ hosts: [{ domain: 'one.test' }, { domain: 'two.test' }] });
    try {
      for (const host of ['one.test', 'two.test']) {
        const sock = tls.connect({ port: ts.tlsPort, host: '127.0.0.1', servername: host, rejectUnauthorized: false });
        await new Promise((r) => sock.once('secureConnect', r));
        const x = new X509Certificate(sock.getPeerCertificate().raw);
        assert.ok(x.checkHost(host), `certificate for ${host}`);
        const c = RawClient.fromSocket(sock);
        c.open(host);
        await c.next((e) => e.name === 'features');
        assert.equal(c.header?.from, host);
        c.destroy();
      }
    } finally { await ts.stop(); }
  });

  it('resourceConflict: reject-new refuses the bind; rename gives a new resource', async () => {
    for (const policy of ['reject-new', 'rename'] as const) {
      const ts = await startTestServer({ resourceConflict: policy });
      try {
        await ts.addUser('alice', 'pw');
        const a = await RawClient.connect(ts.port); await a.login('alice', 'pw', { resource: 'same' });
        const b = await RawClient.connect(ts.port);
        if (policy === 'reject-new') {
          await assert.rejects(b.login('alice', 'pw', { resource: 'same' }), /bind failed.*conflict/s);
        } else {
          const jid = await b.login('alice', 'pw', { resource: 'same' });
          assert.match(jid, /^alice@localhost\/same-.+/);
        }
        a.send(`<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
        assert.equal((await a.next((e) => e.attr('id') === 'p')).attr('type'), 'result', 'the first session is untouched');
        a.destroy(); b.destroy();
      } finally { await ts.stop(); }
    }
  });

  it('limits resources per account (resource-constraint) and connections per address', async () => {
    const ts = await startTestServer({ limits: { maxResourcesPerAccount: 2, maxConnectionsPerAddress: 4 } });
    try {
      await ts.addUser('alice', 'pw');
      const cs = [await RawClient.connect(ts.port), await RawClient.connect(ts.port), await RawClient.connect(ts.port)];
      await cs[0]!.login('alice', 'pw', { resource: 'r1' });
      await cs[1]!.login('alice', 'pw', { resource: 'r2' });
      await assert.rejects(cs[2]!.login('alice', 'pw', { resource: 'r3' }), /resource-constraint/);
      const d = await RawClient.connect(ts.port); // 4th: allowed
      const e = await RawClient.connect(ts.port); // 5th: refused
      await e.waitText(/policy-violation/);
      await e.waitClosed();
      for (const c of [...cs, d]) c.destroy();
    } finally { await ts.stop(); }
  });

  it('a client that stops answering is pinged and then disconnected (connection-timeout)', async () => {
    const ts = await startTestServer({ limits: { idleTimeout: 1, pingTimeout: 1, closeTimeout: 1 } });
    try {
      await ts.addUser('alice', 'pw');
      const c = await RawClient.connect(ts.port);
      await c.login('alice', 'pw');
      const ping = await c.next((e) => e.name === 'iq' && !!e.getChild('ping', 'urn:xmpp:ping'), 5000);
      assert.equal(ping.attr('type'), 'get');
      // Say nothing: the server must give up.
      await c.waitText(/connection-timeout/, 5000);
      await c.waitClosed();
      assert.equal(ts.server.sessions.size, 0);
      // A client that answers stays connected.
      const d = await RawClient.connect(ts.port);
      await d.login('alice', 'pw');
      const p = await d.next((e) => e.name === 'iq' && !!e.getChild('ping', 'urn:xmpp:ping'), 5000);
      d.send(`<iq type='result' id='${p.attr('id')}' to='localhost'/>`);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(d.closed, false);
      d.destroy();
    } finally { await ts.stop(); }
  });

  it('runs on PostgreSQL storage: accounts created there log in and exchange messages', async (t) => {
    const url = await pgTestUrl();
    if (!url) return skipOrFail(t, 'PostgreSQL is not reachable on 127.0.0.1:5432');
    const schema = 'magpie_e2e_' + Math.random().toString(36).slice(2, 10);
    const ts = await startTestServer({ storage: { type: 'postgres', url, schema } });
    try {
      assert.equal(ts.server.storage.kind, 'postgres');
      await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
      const a = await RawClient.connect(ts.port); await a.login('alice', 'pw', { resource: 'a' });
      const b = await RawClient.connect(ts.port); await b.login('bob', 'pw', { resource: 'b' });
      a.send(`<message to='bob@localhost/b' type='chat'><body>stored in postgres</body></message>`);
      assert.equal((await b.next((e) => e.name === 'message')).getChildText('body'), 'stored in postgres');
      a.send(`<message to='carol@localhost' type='chat' id='nc'><body>x</body></message>`);
      assert.equal((await a.next((e) => e.attr('id') === 'nc')).attr('type'), 'error', 'unknown accounts are looked up in postgres');
      a.destroy(); b.destroy();
    } finally {
      await ts.stop();
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: url });
      await client.connect(); await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await client.end();
    }
  });
});
