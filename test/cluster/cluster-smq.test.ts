// No stanza lost when a cluster node is killed (issue #8; XEP-0198 §4 unacknowledged queue
// mirrored in Redis, cluster.mirrorUnacked). Bob is on node A (a child process) with stream
// management on and never acknowledges; alice on node B sends him five messages, which A writes
// to him (so they sit in A's unacknowledged queue and in its Redis mirror); A is killed with
// SIGKILL. The node reaping A hands the mirrored queue to the death policy: at bob's next login
// (a new session on B, no resumption) the five messages arrive from offline storage with a
// delay stamp, each once. Variants: bob acknowledged three first (only the last two come back);
// A restarted under its name before anyone noticed (the new run recovers its mirrors itself).
//
// A client without stream management acknowledges nothing, so the server cannot know what it
// lost: its session has no mirror (asserted below) and what it was written is not recovered.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { IM_MODULES, login, take, none, rosterGet, presenceSync, befriend, chat, sleep } from '../im/roster-helpers.js';
import { SM, bind, stanzaCount, authOnly } from '../sm/sm-helpers.js';
import { clusterEnv, nodeConfig, startChildNode, type ChildNode, type ClusterEnv, onlineAt } from './cluster-helpers.js';

const DELAY = 'urn:xmpp:delay';
const IDS = ['m1', 'm2', 'm3', 'm4', 'm5'];
const presenceFrom = (jid: string, type?: string) => (e: Element): boolean => e.name === 'presence' && e.attr('from') === jid && e.attr('type') === type;
const isMsg = (id: string) => (e: Element): boolean => e.name === 'message' && e.attr('id') === id;

/** Bob on `port` with resumable stream management, roster and presence; `base`: stanzas
    received before <enabled/> (not counted in h). */
async function smBob(port: number, resource: string): Promise<{ c: RawClient; base: number }> {
  const c = await RawClient.connect(port);
  c.open();
  await c.next((e) => e.name === 'features');
  assert.equal((await c.auth('SCRAM-SHA-256', 'bob', 'pw')).name, 'success');
  c.restartParser();
  c.open();
  await c.next((e) => e.name === 'features');
  await bind(c, resource);
  c.send(`<enable xmlns='${SM}' resume='true'/>`);
  const enabled = await take(c, (e) => e.xmlns === SM && (e.name === 'enabled' || e.name === 'failed'), 'enabled');
  assert.equal(enabled.name, 'enabled', enabled.toString());
  const base = stanzaCount(c);
  await rosterGet(c);
  await presenceSync(c, '<presence/>');
  return { c, base };
}

/** The ids of the messages in `node`'s mirrors, as Redis holds them now. */
async function mirrored(ts: TestServer, env: ClusterEnv, node: string): Promise<string[]> {
  const cmd = ts.server.cluster!.cmd;
  const ids: string[] = [];
  for (const smId of await cmd.hkeys(`${env.prefix}:unackedidx:${node}`)) {
    for (const item of await cmd.lrange(`${env.prefix}:unacked:${node}:${smId}`, 0, -1)) {
      const m = /^\d+ <message[^>]* id='(m\d)'/.exec(item) ?? /^\d+ <message[^>]* id="(m\d)"/.exec(item);
      if (m) ids.push(m[1]!);
    }
  }
  return ids;
}

async function until(pred: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('cluster: unacknowledged stanzas survive a killed node', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => { for (const f of cleanups.reverse()) await f().catch(() => {}); });
  const deadAfter = 2;

  async function setup(t: { skip(m: string): void }, victimCfg: Record<string, unknown> = { deadAfterSeconds: deadAfter }) {
    const env = await clusterEnv();
    if (!env) { skipOrFail(t as never, 'Redis or PostgreSQL not available'); return undefined; }
    cleanups.push(() => env.cleanup());
    const B = await startTestServer(nodeConfig(env, 'survivor', victimCfg), { modules: IM_MODULES });
    cleanups.push(() => B.stop());
    await B.addUser('alice', 'pw');
    await B.addUser('bob', 'pw');
    await befriend(B, 'alice', 'bob');
    const A: ChildNode = await startChildNode(env, 'victim', victimCfg);
    cleanups.push(() => A.kill());
    const alice = await onlineAt(B.port, 'alice', 'desk');
    cleanups.push(async () => alice.destroy());
    const { c: bob, base } = await smBob(A.port, 'phone');
    cleanups.push(async () => bob.destroy());
    await take(alice, presenceFrom('bob@localhost/phone'), 'bob available');
    for (const id of IDS) alice.send(chat('bob@localhost/phone', id));
    for (const id of IDS) await take(bob, isMsg(id), id);
    return { env, A, B, alice, bob, base };
  }

  /** Bob logs in anew on B and gets `expected` from offline storage, delay-stamped, each once. */
  async function bobGets(B: TestServer, expected: string[]): Promise<void> {
    const b2 = await login(B, 'bob', 'laptop');
    cleanups.push(async () => b2.destroy());
    b2.send('<presence/>');
    const got: Element[] = [];
    for (const id of expected) got.push(await take(b2, isMsg(id), `recovered ${id}`, 10_000));
    for (const m of got) assert.ok(m.getChild('delay', DELAY), `delay stamp on ${m.toString()}`);
    await sleep(1000); // anything else would have arrived with them
    const all = b2.elements.filter((e) => e.name === 'message' && IDS.includes(e.attr('id') ?? ''));
    assert.deepEqual(all.map((e) => e.attr('id')), expected, 'exactly the unacknowledged messages, in order, once');
    b2.destroy();
  }

  it('kill -9 with five unacknowledged messages: all five wait in offline storage for the next login', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { env, A, B, alice } = s;
    // In A's mirror before it dies (written within a turn of being sent to bob).
    await until(async () => (await mirrored(B, env, 'victim')).length === 5, 'the mirror of bob\'s queue');
    assert.deepEqual(await mirrored(B, env, 'victim'), IDS);
    // Alice has no stream management: no mirror of hers (the server cannot know what she lost).
    assert.deepEqual(await B.server.cluster!.cmd.hkeys(`${env.prefix}:unackedidx:survivor`), []);
    await A.kill('SIGKILL');
    await take(alice, presenceFrom('bob@localhost/phone', 'unavailable'), 'unavailable on behalf of the dead node', (deadAfter + 10) * 1000);
    // Recovered before the unavailable broadcast, and the mirror deleted.
    assert.deepEqual(await B.server.cluster!.cmd.hkeys(`${env.prefix}:unackedidx:victim`), []);
    await bobGets(B, IDS);
    await none(alice, (e) => e.name === 'message' && e.attr('type') === 'error', 'a bounce to the sender', 200);
  });

  it('bob acknowledged three: only the two unacknowledged come back', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { env, A, B, alice, bob, base } = s;
    // h counts every stanza since <enabled/>; the last two received are m4 and m5.
    const inbound = bob.elements.filter((e) => e.name === 'message' || e.name === 'presence' || e.name === 'iq');
    assert.deepEqual(inbound.slice(-2).map((e) => e.attr('id')), ['m4', 'm5']);
    bob.send(`<a xmlns='${SM}' h='${stanzaCount(bob) - base - 2}'/>`);
    await until(async () => (await mirrored(B, env, 'victim')).join() === 'm4,m5', 'the mirror trimmed by the ack');
    await A.kill('SIGKILL');
    await take(alice, presenceFrom('bob@localhost/phone', 'unavailable'), 'unavailable on behalf of the dead node', (deadAfter + 10) * 1000);
    await bobGets(B, ['m4', 'm5']);
  });

  it('a node restarted under its name before anyone noticed recovers its own mirrors', async (t) => {
    // The survivor would not notice the death during this test: the new run clears it.
    const cfg = { heartbeatSeconds: 1, deadAfterSeconds: 60 };
    const s = await setup(t, cfg);
    if (!s) return;
    const { env, A, B, alice } = s;
    await until(async () => (await mirrored(B, env, 'victim')).length === 5, 'the mirror of bob\'s queue');
    await A.kill('SIGKILL');
    const again = await startChildNode(env, 'victim', cfg);
    cleanups.push(() => again.kill());
    await take(alice, presenceFrom('bob@localhost/phone', 'unavailable'), 'unavailable for the previous run\'s session', 15_000);
    assert.deepEqual(await mirrored(B, env, 'victim'), []);
    await bobGets(B, IDS);
    await again.kill('SIGTERM');
  });

  it('a session handed to another node leaves no mirror behind on the old one', async (t) => {
    const s = await setup(t);
    if (!s) return;
    const { env, B, bob } = s;
    await until(async () => (await mirrored(B, env, 'victim')).length === 5, 'the mirror of bob\'s queue');
    const previd = bob.elements.find((e) => e.name === 'enabled' && e.xmlns === SM)!.attr('id')!;
    bob.destroy();
    await sleep(300);
    const { c } = await authOnly(B, 'bob');
    cleanups.push(async () => c.destroy());
    c.send(`<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
    const r = await take(c, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'resumed', 15_000);
    assert.equal(r.name, 'resumed', r.toString());
    for (const id of IDS) await take(c, isMsg(id), `retransmitted ${id}`);
    // The queue moved: A deleted its copy, B holds one of what is still unacknowledged.
    await until(async () => (await mirrored(B, env, 'victim')).length === 0 && (await mirrored(B, env, 'survivor')).length === 5, 'the mirror moved to B');
    c.send(`<a xmlns='${SM}' h='${stanzaCount(c)}'/>`);
    await until(async () => (await mirrored(B, env, 'survivor')).length === 0, 'B\'s mirror trimmed');
    c.destroy();
  });
});
