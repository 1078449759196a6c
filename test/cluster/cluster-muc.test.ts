// MUC rooms across cluster nodes (issue #8, XEP-0045): one node owns a room at a time (a claim in
// Redis) and stanzas for it from the other nodes are carried there. Three users on three nodes
// share a room: presence, groupchat in order to everybody, subject, private messages, a kick,
// the public room list on any node. Two nodes receiving the first join of a new room at the same
// moment end up with one room. A node owning a persistent room is killed with SIGKILL: another
// node takes the room over within deadAfterSeconds (plus a margin), the occupants of the other
// nodes stay in it without rejoining, the dead node's occupant leaves (333), and the restarted
// node's user joins again. A node that stops cleanly hands its room over the same way. In both
// cases the discussion history (XEP-0045 §7.2.15, the owner's log in Redis) moves with the room:
// a user joining afterwards through another node gets the same messages, in order, with delay
// stamps (XEP-0203) from the times they were sent, then the subject; a history length set to 0
// and back before a handover leaves the earlier messages out.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { IM_MODULES, sleep } from '../im/roster-helpers.js';
import { clusterEnv, nodeConfig, startChildNode, startNodes, type ChildNode } from './cluster-helpers.js';
import {
  SERVICE, MUC_ADMIN, roomJid, join, joinXml, createRoom, configure, groupchat, isGroupchat, codes, itemOf, presenceFrom, take, none, iq, login,
} from '../muc/muc-helpers.js';

const ownerKey = (prefix: string, room: string): string => `${prefix}:own:muc:${SERVICE}:${room}`;
const subjectFrom = (room: string, text: string) => (e: Element): boolean => e.name === 'message' && e.attr('from')?.startsWith(roomJid(room)) === true && e.getChildText('subject') === text;

async function loginAt(port: number, user: string, resource: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.login(user, 'pw', { resource });
  return c;
}

/** The groupchat bodies `c` received from `room` with the given prefix, in arrival order. */
const bodies = (c: RawClient, room: string, prefix: string): string[] =>
  c.elements.filter((e) => e.name === 'message' && e.attr('type') === 'groupchat' && e.attr('from')?.startsWith(roomJid(room) + '/') && e.getChildText('body')?.startsWith(prefix))
    .map((e) => e.getChildText('body')!);

/** A groupchat message as its sender's client saw it leave and every occupant saw it arrive. */
interface Said { body: string; from: string; after: number; before: number }

/** `x` says `body` in `room`; returns once every one of `all` got it (so sends keep their order). */
async function say(x: RawClient, all: RawClient[], room: string, nick: string, body: string): Promise<Said> {
  const after = Date.now();
  x.send(groupchat(room, body));
  for (const y of all) await take(y, isGroupchat(room, body), `${body} for every occupant`, 10_000);
  return { body, from: roomJid(room, nick), after, before: Date.now() };
}

/**
 * `c` joins `room` and gets exactly the history `said` (§7.2.15: same senders and bodies, in
 * order, each with a delay from the room stamped when it was sent, XEP-0203), then the subject
 * (§7.2.16); returns the subject message.
 */
async function joinWithHistory(c: RawClient, room: string, nick: string, said: Said[]): Promise<Element> {
  const self = await join(c, room, nick);
  const subject = await take(c, (e) => e.name === 'message' && e.attr('from')?.startsWith(roomJid(room)) === true && !!e.getChild('subject'), 'the subject after the history', 10_000);
  const history = c.elements.slice(c.elements.indexOf(self) + 1, c.elements.indexOf(subject)).filter((e) => e.name === 'message');
  assert.deepEqual(history.map((m) => [m.attr('from'), m.getChildText('body')]), said.map((s) => [s.from, s.body]), 'the history, in order, before the subject');
  history.forEach((m, i) => {
    const d = m.getChild('delay', 'urn:xmpp:delay');
    assert.equal(d?.attr('from'), roomJid(room), m.toString());
    const stamp = Date.parse(d!.attr('stamp')!);
    assert.ok(stamp >= said[i]!.after && stamp <= said[i]!.before, `${said[i]!.body} stamped when it was sent: ${d!.attr('stamp')}`);
  });
  return subject;
}

async function waitFor(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(50);
  }
}

describe('cluster: MUC rooms across nodes', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => { for (const f of cleanups.reverse()) await f().catch(() => {}); });

  it('three users on three nodes: presence, groupchat in order, subject, private message, kick, room list', async (t) => {
    const env = await clusterEnv();
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    cleanups.push(() => env.cleanup());
    const nodes = await startNodes(env, 3);
    cleanups.push(async () => { for (const n of nodes) await n.stop(); });
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    for (const u of ['alice', 'bob', 'carol']) await n1.addUser(u, 'pw');
    const a = await login(n1, 'alice', 'r1');
    const b = await login(n2, 'bob', 'r1');
    const c = await login(n3, 'carol', 'r1');
    cleanups.push(async () => { a.destroy(); b.destroy(); c.destroy(); });

    // Alice creates the room on node1, which owns it; Bob and Carol join through their nodes.
    await createRoom(a, 'lobby', 'Alice', { 'muc#roomconfig_changesubject': '1' });
    assert.equal(await n1.server.cluster!.cmd.get(ownerKey(env.prefix, 'lobby')), 'node1');
    await join(b, 'lobby', 'Bob');
    await take(b, presenceFrom(roomJid('lobby', 'Alice')), 'Alice\'s presence for Bob');
    await take(a, presenceFrom(roomJid('lobby', 'Bob')), 'Bob\'s presence for Alice');
    await join(c, 'lobby', 'Carol');
    for (const x of [a, b]) await take(x, presenceFrom(roomJid('lobby', 'Carol')), 'Carol\'s presence');
    for (const nick of ['Alice', 'Bob']) await take(c, presenceFrom(roomJid('lobby', nick)), `${nick}'s presence for Carol`);

    // Groupchat from each node reaches all three, each sender's messages in order.
    const N = 30;
    const sentAt = Date.now();
    for (let i = 0; i < N; i++) { b.send(groupchat('lobby', `b-${i}`)); c.send(groupchat('lobby', `c-${i}`)); a.send(groupchat('lobby', `a-${i}`)); }
    for (const x of [a, b, c]) {
      await x.until(() => ['a', 'b', 'c'].every((p) => bodies(x, 'lobby', `${p}-`).length >= N), 15_000, 'every groupchat message');
      for (const p of ['a', 'b', 'c']) assert.deepEqual(bodies(x, 'lobby', `${p}-`), Array.from({ length: N }, (_, i) => `${p}-${i}`), `${p}'s messages in order`);
    }
    t.diagnostic(`${3 * N} groupchat messages from three nodes reached all three occupants in ${Date.now() - sentAt} ms`);
    const seenByCarol = c.elements.find(isGroupchat('lobby', 'b-0'));
    assert.equal(seenByCarol?.attr('from'), roomJid('lobby', 'Bob'));

    // Carol (node3) changes the subject: everyone gets it from the room.
    c.send(`<message to='${roomJid('lobby')}' type='groupchat' id='subj'><subject>cluster talk</subject></message>`);
    for (const x of [a, b, c]) await take(x, subjectFrom('lobby', 'cluster talk'), 'the new subject', 10_000);

    // A private message between occupants on two other nodes (§7.5).
    b.send(`<message to='${roomJid('lobby', 'Carol')}' type='chat' id='pm1'><body>psst</body></message>`);
    const pm = await take(c, (e) => e.name === 'message' && e.attr('id') === 'pm1', 'the private message', 10_000);
    assert.equal(pm.attr('from'), roomJid('lobby', 'Bob'));
    assert.equal(pm.getChildText('body'), 'psst');

    // The public room list on a node that does not own the room.
    const items = await iq(c, 'get', `<query xmlns='http://jabber.org/protocol/disco#items'/>`, SERVICE);
    const DI = 'http://jabber.org/protocol/disco#items';
    assert.ok(items.getChild('query', DI)?.getChildren('item', DI).some((i) => i.attr('jid') === roomJid('lobby')), items.toString());

    // Alice kicks Carol (§8.2): Carol gets 307 with 110, Bob sees her leave with 307.
    const res = await iq(a, 'set', `<query xmlns='${MUC_ADMIN}'><item nick='Carol' role='none'><reason>test</reason></item></query>`, roomJid('lobby'));
    assert.equal(res.attr('type'), 'result', res.toString());
    const self = await take(c, presenceFrom(roomJid('lobby', 'Carol'), 'unavailable'), 'Carol\'s kick', 10_000);
    assert.deepEqual(codes(self).sort(), [110, 307]);
    const seen = await take(b, presenceFrom(roomJid('lobby', 'Carol'), 'unavailable'), 'Carol leaving, for Bob', 10_000);
    assert.ok(codes(seen).includes(307));
    assert.equal(itemOf(seen)?.attr('role'), 'none');
    // Carol is out: her groupchat is refused by the owner node (not an occupant).
    c.send(groupchat('lobby', 'after-kick', 'ak'));
    const err = await take(c, (e) => e.name === 'message' && e.attr('id') === 'ak', 'the error for a non-occupant', 10_000);
    assert.equal(err.attr('type'), 'error');
    await none(b, isGroupchat('lobby', 'after-kick'), 'a message from a kicked occupant');

    // Bob's session ends on node2: node1 (owner) learns it and Alice sees Bob leave.
    b.destroy();
    await take(a, presenceFrom(roomJid('lobby', 'Bob'), 'unavailable'), 'Bob gone', 10_000);
    // The last occupant leaves a temporary room: it is gone and so is its claim.
    a.send(`<presence to='${roomJid('lobby', 'Alice')}' type='unavailable'/>`);
    await take(a, presenceFrom(roomJid('lobby', 'Alice'), 'unavailable'), 'Alice\'s leave');
    await waitFor(async () => (await n1.server.cluster!.cmd.exists(ownerKey(env.prefix, 'lobby'), `${env.prefix}:ownstate:muc:${SERVICE}:lobby`)) === 0, 5000, 'the claim released');
  });

  it('two nodes receiving the first join of a new room at once end up with one room', async (t) => {
    const env = await clusterEnv();
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    cleanups.push(() => env.cleanup());
    const nodes = await startNodes(env, 2);
    cleanups.push(async () => { for (const n of nodes) await n.stop(); });
    const [n1, n2] = nodes as [TestServer, TestServer];
    await n1.addUser('alice', 'pw');
    await n1.addUser('bob', 'pw');
    const a = await login(n1, 'alice', 'r1');
    const b = await login(n2, 'bob', 'r1');
    cleanups.push(async () => { a.destroy(); b.destroy(); });
    for (let i = 0; i < 5; i++) {
      const room = `race${i}`;
      // Groupchat 1.0 joins (no muc <x/>) create instant rooms, so the loser may enter at once.
      a.send(joinXml(room, 'A', { plain: true }));
      b.send(joinXml(room, 'B', { plain: true }));
      const pa = await take(a, (e) => e.name === 'presence' && e.attr('from') === roomJid(room, 'A'), `Alice's self-presence in ${room}`, 10_000);
      const pb = await take(b, (e) => e.name === 'presence' && e.attr('from') === roomJid(room, 'B'), `Bob's self-presence in ${room}`, 10_000);
      assert.equal(pa.attr('type'), undefined, pa.toString());
      assert.equal(pb.attr('type'), undefined, pb.toString());
      assert.equal([pa, pb].filter((p) => codes(p).includes(201)).length, 1, `exactly one creator of ${room}`);
      // One room: each sees the other.
      await take(a, presenceFrom(roomJid(room, 'B')), `Bob in ${room} for Alice`, 10_000);
      await take(b, presenceFrom(roomJid(room, 'A')), `Alice in ${room} for Bob`, 10_000);
      const owner = await n1.server.cluster!.cmd.get(ownerKey(env.prefix, room));
      assert.ok(owner === 'node1' || owner === 'node2', `one owner: ${owner}`);
    }
  });

  it('kill -9 of the node owning a persistent room: the room moves, occupants elsewhere stay, the node rejoins', async (t) => {
    const env = await clusterEnv();
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    cleanups.push(() => env.cleanup());
    const deadAfter = 2;
    const cfg = { deadAfterSeconds: deadAfter };
    const nb = await startTestServer(nodeConfig(env, 'nodeB', cfg), { modules: IM_MODULES });
    cleanups.push(() => nb.stop());
    const nc = await startTestServer(nodeConfig(env, 'nodeC', cfg), { modules: IM_MODULES });
    cleanups.push(() => nc.stop());
    for (const u of ['alice', 'bob', 'carol', 'dave']) await nb.addUser(u, 'pw');
    let victim: ChildNode = await startChildNode(env, 'nodeA', cfg);
    cleanups.push(() => victim.kill());
    const cmd = nb.server.cluster!.cmd;

    const a = await loginAt(victim.port, 'alice', 'r1');
    cleanups.push(async () => a.destroy());
    await createRoom(a, 'keep', 'Alice', { 'muc#roomconfig_persistentroom': '1' });
    assert.equal(await cmd.get(ownerKey(env.prefix, 'keep')), 'nodeA');
    const b = await login(nb, 'bob', 'r1');
    const c = await login(nc, 'carol', 'r1');
    cleanups.push(async () => { b.destroy(); c.destroy(); });
    await join(b, 'keep', 'Bob');
    await join(c, 'keep', 'Carol');
    await take(b, presenceFrom(roomJid('keep', 'Carol')), 'Carol for Bob');
    // Discussion history from the three nodes (the owner's occupant included), and a subject.
    const said: Said[] = [];
    for (const [x, nick, body] of [[b, 'Bob', 'before'], [a, 'Alice', 'h-1'], [c, 'Carol', 'h-2'], [b, 'Bob', 'h-3']] as const) said.push(await say(x, [a, b, c], 'keep', nick, body));
    a.send(`<message to='${roomJid('keep')}' type='groupchat' id='subj'><subject>before the crash</subject></message>`);
    for (const x of [a, b, c]) await take(x, subjectFrom('keep', 'before the crash'), 'the subject before the kill', 10_000);

    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    // The survivors take the room over and tell its occupants that Alice (on the dead node) left.
    for (const x of [b, c]) {
      const gone = await take(x, presenceFrom(roomJid('keep', 'Alice'), 'unavailable'), 'Alice leaving with the dead node', (deadAfter + 10) * 1000);
      assert.ok(codes(gone).includes(333), gone.toString());
    }
    const took = (Date.now() - killedAt) / 1000;
    assert.ok(took <= deadAfter + 8, `the room moved after ${took}s (deadAfterSeconds ${deadAfter})`);
    t.diagnostic(`room taken over and the dead node's occupant removed ${took.toFixed(2)} s after SIGKILL (deadAfterSeconds ${deadAfter}, heartbeat 0.5 s)`);
    const owner = await cmd.get(ownerKey(env.prefix, 'keep'));
    assert.ok(owner === 'nodeB' || owner === 'nodeC', `the room moved to a survivor: ${owner}`);

    // Dave joins through the survivor that does not own the room: the history sent before the
    // kill, with its original stamps, then the subject set before it.
    const d = await loginAt(owner === 'nodeB' ? nc.port : nb.port, 'dave', 'r1');
    cleanups.push(async () => d.destroy());
    const subj = await joinWithHistory(d, 'keep', 'Dave', said);
    assert.equal(subj.getChildText('subject'), 'before the crash');
    assert.equal(subj.attr('from'), roomJid('keep', 'Alice'));
    for (const x of [b, c]) await take(x, presenceFrom(roomJid('keep', 'Dave')), 'Dave\'s presence', 10_000);

    // Bob and Carol keep talking in it without rejoining; nobody tells them to leave. The new
    // owner's history goes on from the restored one.
    said.push(await say(c, [b, c, d], 'keep', 'Carol', 'after-1'));
    said.push(await say(b, [b, c, d], 'keep', 'Bob', 'after-2'));
    await none(b, (e) => e.name === 'message' && e.attr('type') === 'error', 'an error after the takeover');
    await none(c, (e) => e.name === 'presence' && e.attr('from') === roomJid('keep', 'Carol') && e.attr('type') === 'unavailable', 'Carol removed');

    // nodeA comes back; Alice rejoins the room (owned elsewhere now) through it.
    victim = await startChildNode(env, 'nodeA', cfg);
    cleanups.push(() => victim.kill());
    const a2 = await loginAt(victim.port, 'alice', 'r2');
    cleanups.push(async () => a2.destroy());
    await joinWithHistory(a2, 'keep', 'Alice', said);
    const self = a2.elements.find((e) => e.name === 'presence' && e.attr('from') === roomJid('keep', 'Alice') && codes(e).includes(110))!;
    assert.ok(!codes(self).includes(201), 'the existing room, not a new one');
    assert.equal(itemOf(self)?.attr('affiliation'), 'owner', 'affiliations survived (storage)');
    for (const x of [b, c]) await take(x, presenceFrom(roomJid('keep', 'Alice')), 'Alice back', 10_000);
    a2.send(groupchat('keep', 'back'));
    for (const x of [a2, b, c]) await take(x, isGroupchat('keep', 'back'), 'Alice\'s message', 10_000);
    assert.equal(await cmd.get(ownerKey(env.prefix, 'keep')), owner, 'the room stayed where it moved');
    a2.destroy();
    await victim.kill('SIGTERM');
  });

  it('a node that stops cleanly hands its rooms over with their occupants', async (t) => {
    const env = await clusterEnv();
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    cleanups.push(() => env.cleanup());
    const nodes = await startNodes(env, 3);
    const [n1, n2, n3] = nodes as [TestServer, TestServer, TestServer];
    cleanups.push(async () => { await n1.stop(); await n2.stop(); });
    for (const u of ['alice', 'bob', 'carol', 'dave']) await n1.addUser(u, 'pw');
    const c = await login(n3, 'carol', 'r1');
    const a = await login(n1, 'alice', 'r1');
    const b = await login(n2, 'bob', 'r1');
    cleanups.push(async () => { a.destroy(); b.destroy(); c.destroy(); });
    await createRoom(c, 'temp', 'Carol');
    await join(a, 'temp', 'Alice');
    await join(b, 'temp', 'Bob');
    await take(a, presenceFrom(roomJid('temp', 'Bob')), 'Bob for Alice');
    // History, then a history length of 0 and back (the owner's log forgets too), then more.
    await say(a, [a, b, c], 'temp', 'Alice', 'forgotten-1');
    await say(c, [a, b, c], 'temp', 'Carol', 'forgotten-2');
    for (const len of ['0', '10']) assert.equal((await configure(c, 'temp', { 'muc#roomconfig_historylength': len })).attr('type'), 'result');
    const said = [await say(c, [a, b, c], 'temp', 'Carol', 'kept-1'), await say(b, [a, b, c], 'temp', 'Bob', 'kept-2')];
    await n3.stop();
    // Carol (node3's user) leaves with 332; the room, a temporary one, lives on.
    for (const x of [a, b]) {
      const p = await take(x, presenceFrom(roomJid('temp', 'Carol'), 'unavailable'), 'Carol leaving with her node', 10_000);
      assert.ok(codes(p).includes(332), p.toString());
    }
    said.push(await say(a, [a, b], 'temp', 'Alice', 'still-here'));
    const owner = await n1.server.cluster!.cmd.get(ownerKey(env.prefix, 'temp'));
    assert.equal(owner, 'node1', 'the node of the next stanza took the room');
    // Dave joins through node2: the history handed over and continued, without the forgotten part.
    const d = await login(n2, 'dave', 'r1');
    cleanups.push(async () => d.destroy());
    await joinWithHistory(d, 'temp', 'Dave', said);
  });
});
