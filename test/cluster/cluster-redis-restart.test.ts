// Redis restarted under traffic (issue #8): two nodes in this process exchange messages; Redis
// is shut down (`redis-cli shutdown nosave`) and started again with the CI start command. While
// it is away a stanza for the other node gets an error (remote-server-timeout), local traffic
// goes on, nothing crashes; once it is back both nodes re-register their sessions (Redis starts
// empty: no persistence) and cross-node chat and presence state work again. Other test runs use
// this Redis too: the outage is kept short, and Redis is started again even when the test fails.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { skipOrFail, type TestServer } from '../support/server.js';
import { login, take, rosterGet, presenceSync, befriend, chat, byId, iq, errorCondition, sleep } from '../im/roster-helpers.js';
import { clusterEnv, redisAvailable, startNodes } from './cluster-helpers.js';

const START = ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', '6379', '--save', '', '--appendonly', 'no',
  '--dir', '/var/lib/redis', '--logfile', '/var/log/redis/ci.log'];

async function ensureRedis(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (await redisAvailable()) return;
    if (i % 10 === 0) { try { execFileSync('redis-server', START, { stdio: 'ignore' }); } catch { /* already starting */ } }
    await sleep(200);
  }
  throw new Error('Redis did not come back');
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error(`timed out: ${what}`); await sleep(50); }
}

describe('cluster: Redis restart under traffic', () => {
  let nodes: TestServer[] = [];
  let cleanup: (() => Promise<void>) | undefined;
  after(async () => {
    await ensureRedis();
    for (const n of nodes) await n.stop();
    await cleanup?.();
  });

  it('errors while Redis is away, no crash, automatic recovery', async (t) => {
    const env = await clusterEnv();
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    cleanup = env.cleanup;
    nodes = await startNodes(env, 2);
    const [n1, n2] = nodes as [TestServer, TestServer];
    await n1.addUser('alice', 'pw');
    await n1.addUser('bob', 'pw');
    await befriend(n1, 'alice', 'bob');
    const a = await login(n1, 'alice', 'desk');
    const b = await login(n2, 'bob', 'phone');
    const a2 = await login(n1, 'alice', 'desk2');
    try {
      for (const c of [a, b, a2]) { await rosterGet(c); await presenceSync(c, '<presence/>'); }
      await until(() => n1.server.sessions.get('bob@localhost/phone')?.presence !== undefined, 5000, 'bob known on node1');
      // Traffic running when Redis goes away.
      let i = 0;
      const traffic = setInterval(() => { a.send(chat('bob@localhost/phone', `t-${i++}`)); }, 20);
      await sleep(200);
      try {
        execFileSync('redis-cli', ['-p', '6379', 'shutdown', 'nosave'], { stdio: 'ignore' });
      } catch { /* redis-cli reports the closed connection */ }
      try {
        await until(() => !n1.server.cluster!.link.up, 5000, 'node1 noticed the outage');
        clearInterval(traffic);
        // A stanza for the other node cannot be carried: the sender is told.
        a.send(chat('bob@localhost/phone', 'during-outage'));
        const err = await take(a, (e) => e.attr('id') === 'during-outage' && e.attr('type') === 'error', 'error for the stanza', 5000);
        assert.ok(['remote-server-timeout', 'internal-server-error'].includes(errorCondition(err)!), err.toString());
        // Local traffic is not affected, the servers answer.
        a.send(chat('alice@localhost/desk2', 'local-during-outage'));
        await take(a2, byId('local-during-outage'));
        assert.equal((await iq(b, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost')).attr('type'), 'result');
      } finally {
        clearInterval(traffic);
        await ensureRedis();
      }
      // Both nodes re-register; Redis restarted empty, and fills again.
      await until(() => n1.server.cluster!.link.up && n2.server.cluster!.link.up, 15_000, 'both nodes reconnected');
      const cmd = n1.server.cluster!.cmd;
      const end = Date.now() + 10_000;
      while (Object.keys(await cmd.hgetall(`${env.prefix}:sess:bob@localhost`)).length === 0 && Date.now() < end) await sleep(100);
      assert.deepEqual(Object.keys(await cmd.hgetall(`${env.prefix}:sess:bob@localhost`)), ['bob@localhost/phone']);
      assert.deepEqual((await cmd.hkeys(`${env.prefix}:nodes`)).sort(), ['node1', 'node2']);
      await until(() => n1.server.sessions.get('bob@localhost/phone')?.presence !== undefined && n2.server.sessions.resources('alice@localhost').length === 2, 10_000, 'registries in step');
      a.send(chat('bob@localhost/phone', 'after-recovery'));
      await take(b, byId('after-recovery'), 'message after recovery', 5000);
      b.send(chat('alice@localhost', 'back'));
      await take(a, byId('back'));
    } finally {
      a.destroy(); b.destroy(); a2.destroy();
    }
  });
});
