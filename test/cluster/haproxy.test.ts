// Three cluster nodes behind a real TCP load balancer (Debian's HAProxy, `send-proxy-v2`), as
// docs/deployment.md describes: clients connect to one address, land on different nodes, each
// node sees the client's own address (PROXY protocol) rather than the balancer's, and users on
// different nodes chat and see each other's presence through the cluster.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { IM_MODULES, take, rosterGet, presenceSync, sleep } from '../im/roster-helpers.js';
import { clusterEnv, nodeConfig, type ClusterEnv } from './cluster-helpers.js';

const haveHaproxy = spawnSync('haproxy', ['-v']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); });
  });
}

/** Connect through the balancer from a chosen loopback source address. */
function connectFrom(port: number, localAddress: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ port, host: '127.0.0.1', localAddress }, () => resolve(RawClient.fromSocket(sock)));
    sock.once('error', reject);
  });
}

describe('cluster behind HAProxy (PROXY protocol v2)', () => {
  let env: (ClusterEnv & { cleanup(): Promise<void> }) | undefined;
  const nodes: TestServer[] = [];
  let haproxy: ChildProcess | undefined;
  let lbPort = 0;
  let dir = '';
  const clients: RawClient[] = [];

  before(async () => {
    if (!haveHaproxy) return;
    env = await clusterEnv();
    if (!env) return;
    for (let i = 1; i <= 3; i++) {
      nodes.push(await startTestServer({
        ...nodeConfig(env, `lb-node${i}`),
        listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0, proxyProtocol: { trusted: ['127.0.0.1'] } }],
      }, { modules: IM_MODULES }));
    }
    for (const u of ['alice', 'bob', 'carol']) await nodes[0]!.addUser(u, 'pw');
    lbPort = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'magpie-haproxy-'));
    // Round robin over the three nodes, without health checks: on a loaded machine a check that
    // times out takes a node out of the rotation for a while and the spread below is no longer
    // one session per node (docs/deployment.md's configuration has `check`; a bare TCP check is
    // dropped by a PROXY listener without a log line).
    writeFileSync(join(dir, 'haproxy.cfg'), [
      'global', '  maxconn 1000',
      'defaults', '  mode tcp', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
      'frontend xmpp', `  bind 127.0.0.1:${lbPort}`, '  default_backend magpie',
      'backend magpie', '  balance roundrobin',
      ...nodes.map((n, i) => `  server node${i + 1} 127.0.0.1:${n.port} send-proxy-v2`),
      '',
    ].join('\n'));
    haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    haproxy.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    for (let i = 0; ; i++) {
      const ok = await new Promise<boolean>((r) => { const s = net.connect(lbPort, '127.0.0.1', () => { s.destroy(); r(true); }); s.once('error', () => r(false)); });
      if (ok) break;
      if (i > 100 || haproxy.exitCode !== null) throw new Error('HAProxy did not start: ' + err);
      await sleep(50);
    }
  });

  after(async () => {
    for (const c of clients) c.destroy();
    haproxy?.kill('SIGTERM');
    for (const n of nodes) await n.stop();
    await env?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('spreads clients over the nodes, each node sees the client address, and users chat across nodes', async (t) => {
    if (!haveHaproxy) { skipOrFail(t, 'haproxy is not installed (apt-get install haproxy)'); return; }
    if (!env) { skipOrFail(t, 'PostgreSQL or Redis is not available'); return; }
    const who = [['alice', '127.0.0.21'], ['bob', '127.0.0.22'], ['carol', '127.0.0.23']] as const;
    const byUser = new Map<string, RawClient>();
    for (const [user, src] of who) {
      const c = await connectFrom(lbPort, src);
      clients.push(c);
      await c.login(user, 'pw', { resource: 'lb' });
      await rosterGet(c);
      await presenceSync(c, '<presence/>');
      byUser.set(user, c);
    }
    // Round robin: one session per node, each with its client's own source address.
    const placed = nodes.map((n) => [...n.server.sessions.all()].map((s) => [s.jid.local, s.remoteAddress]));
    assert.deepEqual(placed.map((p) => p.length), [1, 1, 1], `one session per node: ${JSON.stringify(placed)}`);
    const addrs = new Map(placed.flat() as [string, string][]);
    for (const [user, src] of who) assert.equal(addrs.get(user), src, `${user} is seen from ${src}`);
    const nodeOf = (user: string) => placed.findIndex((p) => p.some(([u]) => u === user));
    assert.notEqual(nodeOf('alice'), nodeOf('bob'));

    // alice and bob (different nodes): a mutual subscription, presence and a message both ways.
    const alice = byUser.get('alice')!;
    const bob = byUser.get('bob')!;
    const pres = (from: string, type?: string) => (e: Element): boolean => e.name === 'presence' && e.attr('from')?.startsWith(from) === true && e.attr('type') === type;
    alice.send("<presence to='bob@localhost' type='subscribe'/>");
    await take(bob, pres('alice@localhost', 'subscribe'), 'subscription request at bob', 10_000);
    bob.send("<presence to='alice@localhost' type='subscribed'/>");
    await take(alice, pres('bob@localhost/lb'), 'bob presence at alice after approval', 10_000);
    bob.send("<presence to='alice@localhost' type='subscribe'/>");
    await take(alice, pres('bob@localhost', 'subscribe'), 'subscription request at alice', 10_000);
    alice.send("<presence to='bob@localhost' type='subscribed'/>");
    await take(bob, pres('alice@localhost/lb'), 'alice presence at bob after approval', 10_000);
    alice.send("<presence><show>away</show></presence>");
    assert.equal((await take(bob, pres('alice@localhost/lb'), 'alice away at bob', 10_000)).getChildText('show'), 'away');
    alice.send("<message to='bob@localhost' type='chat' id='m1'><body>through the balancer</body></message>");
    const m = await take(bob, (e: Element) => e.name === 'message' && e.attr('id') === 'm1', 'message at bob', 10_000);
    assert.equal(m.attr('from'), 'alice@localhost/lb');
    bob.send("<message to='alice@localhost/lb' type='chat' id='m2'><body>and back</body></message>");
    assert.equal((await take(alice, (e: Element) => e.name === 'message' && e.attr('id') === 'm2', 'reply at alice', 10_000)).getChildText('body'), 'and back');
  });
});
