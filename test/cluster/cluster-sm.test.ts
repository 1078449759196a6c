// XEP-0198 §5 resumption on another cluster node (issue #8): behind a TCP load balancer a client
// whose connection dropped reconnects to any node. Node A holds the hibernated session; the
// client resumes on node B, which fetches it from A through Redis: <resumed h=''/> with A's
// count, the unacknowledged messages retransmitted, messages sent during the handover delivered,
// no unavailable presence seen by a contact on node C, the full JID reachable on B afterwards,
// and per-module state (carbons, offline) carried. Negative cases: another account's SM-ID is
// item-not-found (and leaves the session alone); after A was killed, item-not-found at once and
// what was sent meanwhile is in offline storage for the next login.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { IM_MODULES, iq, take, rosterGet, presenceSync, befriend, chat, byId, sleep } from '../im/roster-helpers.js';
import { SM, isSm, bind, serverH, stanzaCount, waitFor, streamErrorCondition } from '../sm/sm-helpers.js';
import { clusterEnv, startNodes, startChildNode, nodeConfig, type ClusterEnv, onlineAt } from './cluster-helpers.js';
import { startTestServer } from '../support/server.js';

const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const presenceFrom = (jid: string, type?: string) => (e: Element): boolean => e.name === 'presence' && e.attr('from') === jid && e.attr('type') === type;
const unavailableFrom = (jid: string) => presenceFrom(jid, 'unavailable');
const isMessage = (id: string) => (e: Element): boolean => e.name === 'message' && e.attr('id') === id;

/** Authenticate on `port` without binding (to resume). */
async function authAt(port: number, user: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.open();
  await c.next((e) => e.name === 'features');
  const r = await c.auth('SCRAM-SHA-256', user, 'pw');
  assert.equal(r.name, 'success');
  c.restartParser();
  c.open();
  await c.next((e) => e.name === 'features');
  return c;
}

/** Log in on `port`, bind, enable resumable SM, fetch the roster and go available. */
async function smOnline(port: number, user: string, resource: string): Promise<{ c: RawClient; jid: string; previd: string }> {
  const c = await authAt(port, user);
  const jid = await bind(c, resource);
  c.send(`<enable xmlns='${SM}' resume='true'/>`);
  const enabled = await take(c, (e) => e.xmlns === SM && (e.name === 'enabled' || e.name === 'failed'), 'enabled');
  assert.equal(enabled.name, 'enabled', enabled.toString());
  await rosterGet(c);
  await presenceSync(c, '<presence/>');
  return { c, jid, previd: enabled.attr('id')! };
}

/** The stanzas `c` received since it enabled SM that it handled (what it reports as h). */
const handled = (c: RawClient, base: number): number => stanzaCount(c) - base;

describe('cluster: XEP-0198 resumption on another node', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => { for (const f of cleanups.reverse()) await f().catch(() => {}); });

  async function cluster(t: { skip(m: string): void }, n: number): Promise<{ env: ClusterEnv; nodes: TestServer[] } | undefined> {
    const env = await clusterEnv();
    if (!env) { skipOrFail(t, 'Redis or PostgreSQL not available'); return undefined; }
    cleanups.push(() => env.cleanup());
    const nodes = await startNodes(env, n);
    for (const s of nodes) cleanups.push(() => s.stop());
    return { env, nodes };
  }

  it('resumes on B what A holds: h, retransmission, messages during the handover, no unavailable, state carried', async (t) => {
    const cl = await cluster(t, 3);
    if (!cl) return;
    const [A, B, C] = cl.nodes as [TestServer, TestServer, TestServer];
    await A.addUser('alice', 'pw');
    await A.addUser('carol', 'pw');
    await befriend(A, 'alice', 'carol');

    const carol = await onlineAt(C.port, 'carol', 'desk');
    cleanups.push(async () => carol.destroy());
    const { c: a1, jid, previd } = await smOnline(A.port, 'alice', 'phone');
    cleanups.push(async () => a1.destroy());
    assert.equal(jid, 'alice@localhost/phone');
    assert.match(previd, /\.node1$/, 'the SM-ID names the node holding the session');
    await take(carol, presenceFrom(jid), 'alice available at carol');
    const carbons = await iq(a1, 'set', `<enable xmlns='urn:xmpp:carbons:2'/>`);
    assert.equal(carbons.attr('type'), 'result');
    // Everything up to here is handled; the messages from now on are left unacknowledged.
    const enabledAt = a1.elements.findIndex(isSm('enabled'));
    const base = a1.elements.slice(0, enabledAt + 1).filter((e) => e.name === 'message' || e.name === 'presence' || e.name === 'iq').length;
    await sleep(200);
    const h = handled(a1, base);
    for (const id of ['m1', 'm2', 'm3']) carol.send(chat(jid, id));
    for (const id of ['m1', 'm2', 'm3']) await take(a1, isMessage(id));
    const inbound = await serverH(a1); // what A counted of alice's stanzas
    a1.destroy();
    await waitFor(() => A.server.sessions.get(jid)?.suspended === true, 'hibernation on A');

    // Sent while the session hibernates on A: queued there, must be retransmitted from B.
    carol.send(chat(jid, 'queued'));
    await sleep(300);
    const a2 = await authAt(B.port, 'alice');
    cleanups.push(async () => a2.destroy());
    // Sent while the handover is in flight: whichever node it reaches, it must arrive.
    const during = ['d1', 'd2', 'd3', 'd4', 'd5'];
    const asked = Date.now();
    a2.send(`<resume xmlns='${SM}' previd='${previd}' h='${h}'/>`);
    for (const id of during) { carol.send(chat(jid, id)); await sleep(5); }
    const resumed = await take(a2, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'resumed', 15_000);
    t.diagnostic(`<resume/> to <resumed/> across nodes: ${Date.now() - asked} ms`);
    assert.equal(resumed.name, 'resumed', resumed.toString());
    assert.equal(resumed.attr('h'), String(inbound), "B answers with A's count of the client's stanzas");
    assert.equal(resumed.attr('previd'), previd);
    // Retransmitted in order: the three unacknowledged messages, then the one queued on A.
    const got = a2.elements.filter((e) => e.name === 'message').map((e) => e.attr('id'));
    for (const id of ['m1', 'm2', 'm3', 'queued', ...during]) await take(a2, isMessage(id), id, 15_000);
    const order = a2.elements.filter((e) => e.name === 'message').map((e) => e.attr('id'));
    assert.deepEqual(order.slice(0, 4), ['m1', 'm2', 'm3', 'queued'], `retransmission order (first seen: ${got.join(',')})`);
    for (const id of during) assert.equal(order.filter((x) => x === id).length, 1, `${id} delivered once: ${order.join(',')}`);

    // B owns the full JID now, on every node; A holds nothing for it.
    await waitFor(() => (C.server.sessions.get(jid) as { node?: string } | undefined)?.node === 'node2', 'C routes to node2');
    await waitFor(() => (A.server.sessions.get(jid) as { node?: string } | undefined)?.node === 'node2', 'A routes to node2');
    const local = B.server.sessions.get(jid);
    assert.ok(local && !(local as { remote?: boolean }).remote && !local.suspended, 'a live local session on B');
    assert.equal(local.shared.get('carbons'), 'urn:xmpp:carbons:2', 'carbons stay enabled');
    assert.ok(local.presence, 'still available with its presence');
    const cmd = A.server.cluster!.cmd;
    const entry = JSON.parse((await cmd.hget(`${cl.env.prefix}:sess:alice@localhost`, jid))!) as { node: string };
    assert.equal(entry.node, 'node2', 'the shared registry lists B as the owner');
    assert.equal(await cmd.get(`${cl.env.prefix}:smid:${previd}`), 'node2', 'B recorded that it holds the SM-ID now');

    // After the resumption, a message to the full JID from C reaches alice on B.
    carol.send(chat(jid, 'after'));
    await take(a2, isMessage('after'), 'after', 10_000);
    // The client's h continues: an ack for everything is accepted, a stanza it sends is counted.
    a2.send(`<a xmlns='${SM}' h='${h + stanzaCount(a2)}'/>`);
    assert.equal(await serverH(a2), inbound, 'nothing new from the client yet');
    await presenceSync(a2, `<presence><status>back</status></presence>`);
    assert.equal(await serverH(a2), inbound + 2, 'the presence and the ping counted');
    await take(carol, (e) => e.name === 'presence' && e.attr('from') === jid && e.getChildText('status') === 'back', 'new presence from B', 10_000);
    // The contact never saw alice go offline.
    assert.equal(carol.elements.find(unavailableFrom(jid)), undefined, 'no unavailable presence at the contact');
    assert.equal(a2.elements.find((e) => e.name === 'error' && e.xmlns === 'http://etherx.jabber.org/streams'), undefined);

    // The session can move again, back to A (the SM-ID now points at B).
    a2.destroy();
    await waitFor(() => B.server.sessions.get(jid)?.suspended === true, 'hibernation on B');
    carol.send(chat(jid, 'again'));
    await sleep(300);
    const a3 = await authAt(A.port, 'alice');
    cleanups.push(async () => a3.destroy());
    a3.send(`<resume xmlns='${SM}' previd='${previd}' h='${h + stanzaCount(a2)}'/>`);
    const back = await take(a3, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'resumed on A', 15_000);
    assert.equal(back.name, 'resumed', back.toString());
    await take(a3, isMessage('again'), 'again', 10_000);
    assert.equal(carol.elements.find(unavailableFrom(jid)), undefined, 'still no unavailable presence');
    a3.destroy(); carol.destroy();
  });

  it("another account's SM-ID is item-not-found on another node, and the session stays resumable", async (t) => {
    const cl = await cluster(t, 2);
    if (!cl) return;
    const [A, B] = cl.nodes as [TestServer, TestServer];
    await A.addUser('alice', 'pw');
    await A.addUser('mallory', 'pw');
    const { c: a1, jid, previd } = await smOnline(A.port, 'alice', 'phone');
    cleanups.push(async () => a1.destroy());
    a1.destroy();
    await waitFor(() => A.server.sessions.get(jid)?.suspended === true, 'hibernation on A');

    const m = await authAt(B.port, 'mallory');
    cleanups.push(async () => m.destroy());
    m.send(`<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
    const f = await take(m, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'answer', 15_000);
    assert.equal(f.name, 'failed');
    assert.ok(f.getChild('item-not-found', STANZAS), f.toString());
    assert.equal(f.attr('h'), undefined, 'nothing about the session is revealed');
    assert.equal(A.server.sessions.get(jid)?.suspended, true, 'the session is still hibernating on A');
    // The stream may bind anew (XEP-0198 §5).
    assert.equal(await bind(m, 'x'), 'mallory@localhost/x');

    // A made-up id naming a node is just as unknown.
    const m2 = await authAt(B.port, 'alice');
    cleanups.push(async () => m2.destroy());
    m2.send(`<resume xmlns='${SM}' previd='nosuchid.node1' h='0'/>`);
    const f2 = await take(m2, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'answer', 15_000);
    assert.equal(f2.name, 'failed');
    assert.ok(f2.getChild('item-not-found', STANZAS));

    // The owner still resumes it.
    const a2 = await authAt(B.port, 'alice');
    cleanups.push(async () => a2.destroy());
    a2.send(`<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
    const ok = await take(a2, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'answer', 15_000);
    assert.equal(ok.name, 'resumed', ok.toString());
    m.destroy(); m2.destroy(); a2.destroy();
  });

  it('a stale connection on A loses the session with <conflict/> when the client resumes on B; contacts see no unavailable', async (t) => {
    const cl = await cluster(t, 2);
    if (!cl) return;
    const [A, B] = cl.nodes as [TestServer, TestServer];
    await A.addUser('alice', 'pw');
    await A.addUser('carol', 'pw');
    await befriend(A, 'alice', 'carol');
    const carol = await onlineAt(A.port, 'carol', 'desk');
    cleanups.push(async () => carol.destroy());
    const { c: stale, jid, previd } = await smOnline(A.port, 'alice', 'phone');
    cleanups.push(async () => stale.destroy());
    await take(carol, presenceFrom(jid), 'alice available');
    carol.send(chat(jid, 'unacked'));
    await take(stale, isMessage('unacked'));
    // The old connection is still open (the client lost it without the server noticing).
    const a2 = await authAt(B.port, 'alice');
    cleanups.push(async () => a2.destroy());
    a2.send(`<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
    const r = await take(a2, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'answer', 15_000);
    assert.equal(r.name, 'resumed', r.toString());
    await take(a2, isMessage('unacked'), 'retransmitted', 10_000);
    await stale.waitClosed(10_000);
    assert.equal(streamErrorCondition(stale), 'conflict');
    carol.send(chat(jid, 'after'));
    await take(a2, isMessage('after'), 'after', 10_000);
    await sleep(300);
    assert.equal(carol.elements.find(unavailableFrom(jid)), undefined, 'no unavailable presence at the contact');
    a2.destroy(); carol.destroy();
  });

  it('A stalled: B gives up after handoverTimeoutMs; the late answer leaves the session hibernated on A', async (t) => {
    const env = await clusterEnv();
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    cleanups.push(() => env.cleanup());
    // A long dead-node period: A is frozen (SIGSTOP) for a while but must not be reaped.
    const cfg = { deadAfterSeconds: 20 };
    const timeoutMs = 1000;
    const B = await startTestServer({ ...nodeConfig(env, 'b', cfg), modules: { options: { 'stream-management': { handoverTimeoutMs: timeoutMs } } } }, { modules: IM_MODULES });
    cleanups.push(() => B.stop());
    await B.addUser('alice', 'pw');
    const A = await startChildNode(env, 'frozen', cfg);
    cleanups.push(async () => { A.proc.kill('SIGCONT'); await A.kill(); });
    const { c: a1, jid, previd } = await smOnline(A.port, 'alice', 'phone');
    cleanups.push(async () => a1.destroy());
    a1.destroy();
    await sleep(500); // A notices the connection is gone and hibernates the session
    A.proc.kill('SIGSTOP');
    const a2 = await authAt(B.port, 'alice');
    cleanups.push(async () => a2.destroy());
    const asked = Date.now();
    a2.send(`<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
    const f = await take(a2, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'answer', 15_000);
    const took = Date.now() - asked;
    A.proc.kill('SIGCONT');
    assert.equal(f.name, 'failed', f.toString());
    assert.ok(f.getChild('item-not-found', STANZAS));
    assert.ok(took >= timeoutMs - 50 && took < timeoutMs + 4000, `answered after the handover timeout (${took} ms)`);
    // A answers late; B tells it the session was not taken; it stays resumable on A.
    await sleep(1500);
    assert.equal(B.server.sessions.get(jid)?.suspended, false, 'A still owns it (a remote proxy here)');
    assert.equal((B.server.sessions.get(jid) as { node?: string } | undefined)?.node, 'frozen');
    const a3 = await authAt(B.port, 'alice');
    cleanups.push(async () => a3.destroy());
    a3.send(`<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
    const ok = await take(a3, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'answer', 15_000);
    assert.equal(ok.name, 'resumed', ok.toString());
    a2.destroy(); a3.destroy();
  });

  it('resume after A was killed: item-not-found at once, messages sent meanwhile wait in offline storage', async (t) => {
    const env = await clusterEnv();
    if (!env) return skipOrFail(t, 'Redis or PostgreSQL not available');
    cleanups.push(() => env.cleanup());
    const B = await startTestServer(nodeConfig(env, 'survivor'), { modules: IM_MODULES });
    cleanups.push(() => B.stop());
    await B.addUser('alice', 'pw');
    await B.addUser('carol', 'pw');
    await befriend(B, 'alice', 'carol');
    const A = await startChildNode(env, 'victim');
    cleanups.push(() => A.kill());

    const carol = await onlineAt(B.port, 'carol', 'desk');
    cleanups.push(async () => carol.destroy());
    const { c: a1, jid, previd } = await smOnline(A.port, 'alice', 'phone');
    cleanups.push(async () => a1.destroy());
    assert.match(previd, /\.victim$/);
    await take(carol, presenceFrom(jid), 'alice available');
    carol.send(chat(jid, 'before'));
    await take(a1, isMessage('before'));
    a1.destroy();
    await A.kill('SIGKILL');
    carol.send(chat(jid, 'meanwhile'));
    await sleep(200);

    const a2 = await authAt(B.port, 'alice');
    cleanups.push(async () => a2.destroy());
    const asked = Date.now();
    a2.send(`<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
    const f = await take(a2, (e) => e.xmlns === SM && (e.name === 'resumed' || e.name === 'failed'), 'answer', 15_000);
    assert.equal(f.name, 'failed', f.toString());
    assert.ok(f.getChild('item-not-found', STANZAS));
    assert.ok(Date.now() - asked < 2000, `refused at once (${Date.now() - asked} ms), not after the handover timeout`);
    // The client binds anew; its available presence brings what was stored.
    await bind(a2, 'phone');
    a2.send('<presence/>');
    await take(a2, isMessage('meanwhile'), 'the stored message', 10_000);
    a2.destroy(); carol.destroy();
  });
});
