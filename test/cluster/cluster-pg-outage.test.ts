// A short PostgreSQL outage under a running cluster (issue #8): the nodes reach PostgreSQL through
// a TCP relay on loopback that the test cuts (every open connection reset, new ones refused) and
// then restores. While it is down: no node crashes, chat between nodes goes on (routing needs
// Redis, not storage), requests that need storage get a stanza error (internal-server-error)
// or a SASL failure rather than hanging, and the log says what failed. Afterwards everything
// works again without a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { IM_MODULES, login, take, rosterGet, presenceSync, befriend, iq, sleep } from '../im/roster-helpers.js';
import { clusterEnv, nodeConfig } from './cluster-helpers.js';

/** A TCP relay to PostgreSQL that can be cut and restored. */
async function relay(target: URL): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  let down = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((c) => {
    if (down) { c.destroy(); return; }
    const up = net.connect(Number(target.port || 5432), target.hostname);
    open.add(c); open.add(up);
    const drop = (): void => { c.destroy(); up.destroy(); open.delete(c); open.delete(up); };
    c.on('error', drop); up.on('error', drop); c.on('close', drop); up.on('close', drop);
    c.pipe(up); up.pipe(c);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => { down = true; for (const s of open) s.resetAndDestroy(); open.clear(); },
    restore: () => { down = false; },
    close: () => new Promise((r) => { for (const s of open) s.destroy(); server.close(() => r()); }),
  };
}

const stanzaError = (e: Element): string | undefined => e.getChild('error')?.children.find((c) => typeof c !== 'string' && c.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas')?.toString().match(/^<([a-z-]+)/)?.[1];

test('cluster: a PostgreSQL outage gives errors, not crashes, and the cluster recovers by itself', async (t) => {
  const env = await clusterEnv();
  if (!env) { skipOrFail(t, 'PostgreSQL or Redis is not available'); return; }
  const pgUrl = new URL(env.pgUrl);
  const r = await relay(pgUrl);
  const viaRelay = new URL(env.pgUrl); viaRelay.host = `127.0.0.1:${r.port}`;
  const nodes: TestServer[] = [];
  const clients: RawClient[] = [];
  try {
    for (let i = 1; i <= 2; i++) {
      const cfg = nodeConfig({ ...env, pgUrl: viaRelay.toString() }, `pg-node${i}`);
      nodes.push(await startTestServer(cfg, { modules: IM_MODULES }));
    }
    for (const u of ['alice', 'bob', 'carol']) await nodes[0]!.addUser(u, 'pw');
    await befriend(nodes[0]!, 'alice', 'bob');
    const alice = await login(nodes[0]!, 'alice', 'a'); clients.push(alice);
    const bob = await login(nodes[1]!, 'bob', 'b'); clients.push(bob);
    for (const c of [alice, bob]) { await rosterGet(c); await presenceSync(c, '<presence/>'); }
    await take(alice, (e) => e.name === 'presence' && e.attr('from') === 'bob@localhost/b', 'bob online at alice', 10_000);

    r.cut();
    // Chat between nodes continues.
    alice.send("<message to='bob@localhost/b' type='chat' id='during'><body>db is down</body></message>");
    assert.equal((await take(bob, (e) => e.attr('id') === 'during', 'message during the outage', 10_000)).getChildText('body'), 'db is down');
    // A roster change needs storage: an error answer, in bounded time.
    const set = await iq(alice, 'set', "<query xmlns='jabber:iq:roster'><item jid='dave@localhost' name='Dave'/></query>");
    assert.equal(set.attr('type'), 'error', set.toString());
    assert.equal(stanzaError(set), 'internal-server-error', set.toString());
    // A login needs storage: a SASL failure (temporary-auth-failure), not a hang.
    const c = await RawClient.connect(nodes[1]!.port); clients.push(c);
    c.open();
    await c.next((e) => e.name === 'features');
    const fail = await c.auth('SCRAM-SHA-256', 'carol', 'pw');
    assert.equal(fail.name, 'failure', fail.toString());
    assert.ok(fail.getChild('temporary-auth-failure'), fail.toString());
    await sleep(1000);

    r.restore();
    // The same operations succeed again on both nodes, with no restart.
    let ok: Element | undefined;
    for (let i = 0; i < 50 && ok?.attr('type') !== 'result'; i++) {
      ok = await iq(alice, 'set', "<query xmlns='jabber:iq:roster'><item jid='dave@localhost' name='Dave'/></query>");
      if (ok.attr('type') !== 'result') await sleep(200);
    }
    assert.equal(ok?.attr('type'), 'result', ok?.toString());
    const carol = await login(nodes[1]!, 'carol', 'c'); clients.push(carol);
    await rosterGet(carol);
    alice.send("<message to='bob@localhost/b' type='chat' id='after'><body>db is back</body></message>");
    await take(bob, (e) => e.attr('id') === 'after', 'message after the outage', 10_000);
    // Both nodes are still members of the cluster (no node reaped the other).
    assert.equal(nodes[0]!.server.sessions.resources('bob@localhost').length, 1);
    assert.equal(nodes[1]!.server.sessions.resources('alice@localhost').length, 1);
  } finally {
    for (const c of clients) c.destroy();
    for (const n of nodes) await n.stop();
    await r.close();
    await env.cleanup();
  }
});
