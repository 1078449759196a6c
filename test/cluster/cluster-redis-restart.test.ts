// Redis restarted under traffic (issue #8): two nodes in this process exchange messages; their
// Redis is shut down (`redis-cli shutdown nosave`) and started again on the same port. While it
// is away a stanza for the other node gets an error (remote-server-timeout), local traffic goes
// on, nothing crashes; once it is back both nodes re-register their sessions (Redis starts empty:
// no persistence) and cross-node chat and presence state work again. The Redis restarted here is
// a private redis-server on a free loopback port, started by this test: restarting the machine's
// shared Redis would break every other test using it at the same time.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { skipOrFail, type TestServer } from '../support/server.js';
import { login, take, rosterGet, presenceSync, befriend, chat, byId, iq, errorCondition, sleep } from '../im/roster-helpers.js';
import { clusterEnv, redisAvailable, startNodes } from './cluster-helpers.js';

const REDIS_SERVER = '/usr/bin/redis-server';

/** A private Redis (no persistence) on `port`; resolves once it answers. */
async function startRedis(port: number): Promise<ChildProcess> {
  const proc = spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (await redisAvailable(`redis://127.0.0.1:${port}`)) return proc;
    await sleep(100);
  }
  proc.kill('SIGKILL');
  throw new Error('the private redis-server did not start');
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) throw new Error(`timed out: ${what}`); await sleep(50); }
}

describe('cluster: Redis restart under traffic', () => {
  let nodes: TestServer[] = [];
  let cleanup: (() => Promise<void>) | undefined;
  let redis: ChildProcess | undefined;
  after(async () => {
    for (const n of nodes) await n.stop();
    await cleanup?.();
    redis?.kill('SIGKILL');
  });

  it('errors while Redis is away, no crash, automatic recovery', async (t) => {
    if (!existsSync(REDIS_SERVER)) return skipOrFail(t, 'redis-server is not installed');
    const port = await freePort();
    redis = await startRedis(port);
    const env = await clusterEnv(`redis://127.0.0.1:${port}`);
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
        execFileSync('redis-cli', ['-p', String(port), 'shutdown', 'nosave'], { stdio: 'ignore' });
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
        redis = await startRedis(port);
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
      // Nothing silently lost: every message sent while Redis went away either reached bob or
      // came back to alice as an error (the sender knows it was not delivered).
      const sent = i;
      assert.ok(sent > 5, `traffic ran (${sent} messages)`);
      const ids = (c: typeof a, error: boolean) => new Set(c.elements.filter((e) => e.name === 'message' && (e.attr('type') === 'error') === error).map((e) => e.attr('id')));
      const missing = (): string[] => {
        const got = ids(b, false), bounced = ids(a, true);
        return Array.from({ length: sent }, (_, k) => `t-${k}`).filter((id) => !got.has(id) && !bounced.has(id));
      };
      await until(() => missing().length === 0, 10_000, 'every message delivered or bounced').catch(() => {});
      assert.deepEqual(missing(), [], 'messages neither delivered nor bounced');
    } finally {
      a.destroy(); b.destroy(); a2.destroy();
    }
  });
});
