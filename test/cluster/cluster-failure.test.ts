// Cluster membership and failure (issue #8): a node killed with SIGKILL in the middle of a
// conversation. A message sent to its user right after the kill is stored (PUBLISH reaches no
// subscriber, the sending node re-routes it here), the contacts receive unavailable presence on
// the dead node's behalf within deadAfterSeconds (plus a margin for a loaded machine), a later
// message goes to offline storage too, and everything is delivered at the user's next login on
// another node. A node restarted under the same name joins cleanly, and one restarted before
// the others noticed its death first clears (and announces) what its previous run left.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { IM_MODULES, login, take, none, rosterGet, presenceSync, befriend, chat, byId, sleep } from '../im/roster-helpers.js';
import { clusterEnv, nodeConfig, startChildNode, type ChildNode, onlineAt } from './cluster-helpers.js';

const presenceFrom = (jid: string, type?: string) => (e: Element): boolean => e.name === 'presence' && e.attr('from') === jid && e.attr('type') === type;

describe('cluster: a node dies', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => { for (const f of cleanups.reverse()) await f().catch(() => {}); });

  it('kill -9 mid-conversation: contacts see unavailable, messages are stored, the node rejoins cleanly', async (t) => {
    const env = await clusterEnv();
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    cleanups.push(() => env.cleanup());
    const deadAfter = 2;
    const n1: TestServer = await startTestServer(nodeConfig(env, 'survivor', { deadAfterSeconds: deadAfter }), { modules: IM_MODULES });
    cleanups.push(() => n1.stop());
    await n1.addUser('alice', 'pw');
    await n1.addUser('bob', 'pw');
    await befriend(n1, 'alice', 'bob');
    let victim: ChildNode = await startChildNode(env, 'victim', { deadAfterSeconds: deadAfter });
    cleanups.push(() => victim.kill());

    const a = await login(n1, 'alice', 'desk');
    cleanups.push(async () => a.destroy());
    await rosterGet(a);
    await presenceSync(a, '<presence/>');
    const b = await onlineAt(victim.port, 'bob', 'phone');
    await take(a, presenceFrom('bob@localhost/phone'));
    a.send(chat('bob@localhost/phone', 'before-kill'));
    await take(b, byId('before-kill'));

    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    // Right away, before the heartbeat timeout: the stanza reaches no subscriber on the dead
    // node's channel and is re-routed on the sending node: offline storage, no error.
    a.send(chat('bob@localhost/phone', 'after-kill-1'));
    await take(a, presenceFrom('bob@localhost/phone', 'unavailable'), 'unavailable on behalf of the dead node', (deadAfter + 8) * 1000);
    const took = (Date.now() - killedAt) / 1000;
    assert.ok(took <= deadAfter + 6, `unavailable after ${took}s (deadAfterSeconds ${deadAfter})`);
    a.send(chat('bob@localhost', 'after-kill-2'));
    await none(a, (e) => e.name === 'message' && e.attr('type') === 'error', 'an error for a stored message', 300);
    // The shared registry no longer lists the dead node or its sessions.
    const cmd = n1.server.cluster!.cmd;
    assert.deepEqual(await cmd.hgetall(`${env.prefix}:sess:bob@localhost`), {});
    assert.deepEqual(await cmd.hkeys(`${env.prefix}:nodes`), ['survivor']);

    const b2 = await login(n1, 'bob', 'laptop');
    cleanups.push(async () => b2.destroy());
    b2.send('<presence/>');
    await take(b2, byId('after-kill-1'));
    await take(b2, byId('after-kill-2'));
    b2.destroy();

    // The node comes back under the same name: it joins cleanly and its users are reachable.
    victim = await startChildNode(env, 'victim', { deadAfterSeconds: deadAfter });
    cleanups.push(() => victim.kill());
    assert.deepEqual((await cmd.hkeys(`${env.prefix}:nodes`)).sort(), ['survivor', 'victim']);
    const b3 = await onlineAt(victim.port, 'bob', 'again');
    cleanups.push(async () => b3.destroy());
    await take(a, presenceFrom('bob@localhost/again'));
    a.send(chat('bob@localhost/again', 'after-rejoin'));
    await take(b3, byId('after-rejoin'));
    b3.destroy(); a.destroy();
    await victim.kill('SIGTERM');
  });

  it('a node restarted under its name before anyone noticed clears and announces its stale sessions', async (t) => {
    const env = await clusterEnv();
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    cleanups.push(() => env.cleanup());
    // A long deadAfterSeconds: the survivor would not notice the death during this test.
    const cfg = { heartbeatSeconds: 1, deadAfterSeconds: 60 };
    const n1 = await startTestServer(nodeConfig(env, 'survivor', cfg), { modules: IM_MODULES });
    cleanups.push(() => n1.stop());
    await n1.addUser('alice', 'pw');
    await n1.addUser('bob', 'pw');
    await befriend(n1, 'alice', 'bob');
    let victim = await startChildNode(env, 'phoenix', cfg);
    cleanups.push(() => victim.kill());
    const a = await onlineAt(n1.port, 'alice', 'desk');
    cleanups.push(async () => a.destroy());
    await onlineAt(victim.port, 'bob', 'phone');
    await take(a, presenceFrom('bob@localhost/phone'));
    await victim.kill('SIGKILL');
    victim = await startChildNode(env, 'phoenix', cfg);
    cleanups.push(() => victim.kill());
    await take(a, presenceFrom('bob@localhost/phone', 'unavailable'), 'unavailable for the previous run\'s session', 10_000);
    const cmd = n1.server.cluster!.cmd;
    assert.deepEqual(await cmd.hgetall(`${env.prefix}:sess:bob@localhost`), {});
    await sleep(100);
    assert.equal(n1.server.sessions.resources('bob@localhost').length, 0);
    a.destroy();
    await victim.kill('SIGTERM');
  });
});
