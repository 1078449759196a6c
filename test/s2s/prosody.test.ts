// Magpie federating with a real Prosody (Debian's 0.12) on loopback: a Magpie user and a Prosody
// user subscribe to each other, see each other's presence (broadcast and probes), and exchange
// messages both ways; once with certificates from a test CA (SASL EXTERNAL both ways, dialback
// forbidden on both sides) and once with certificates neither side trusts (dialback).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/server.js';
import { skipOrFail } from '../support/server.js';
import { isPresence, push, take } from '../im/roster-helpers.js';
import { federation, hasOpenssl, loginAt, makeTestCa, s2sPort, startFederated, type TestCa } from './federation-helpers.js';
import { loginProsody, prosodyInstalled, selfSigned, startProsody, type ProsodyPeer } from './prosody-peer.js';

const T = 20_000;
const available = (from: string) => (e: Parameters<ReturnType<typeof isPresence>>[0]) => e.name === 'presence' && e.attr('type') === undefined && e.attr('from') === from;

async function scenario(M: TestServer, P: ProsodyPeer): Promise<void> {
  const mia = `mia@${M.domain}`, pat = `pat@${P.domain}`;
  const cm = await loginAt(M, 'mia', 'r1');
  const cp = await loginProsody(P, 'pat', 'r1');
  const extra: { destroy(): void }[] = [];
  try {
    cm.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
    cp.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
    await take(cm, (e) => e.attr('id') === 'r0'); await take(cp, (e) => e.attr('id') === 'r0');
    cm.send(`<presence/>`); cp.send(`<presence/>`);

    // Magpie user asks, Prosody user approves.
    cm.send(`<presence to='${pat}' type='subscribe'/>`);
    assert.equal((await push(cm, pat)).ask, 'subscribe');
    await take(cp, isPresence('subscribe', mia), 'subscribe at Prosody', T);
    cp.send(`<presence to='${mia}' type='subscribed'/>`);
    assert.equal((await push(cm, pat, T)).subscription, 'to');
    await take(cm, available(`${pat}/r1`), 'pat\'s presence at Magpie', T);

    // Prosody user asks, Magpie user approves.
    cp.send(`<presence to='${mia}' type='subscribe'/>`);
    await take(cm, isPresence('subscribe', pat), 'subscribe at Magpie', T);
    cm.send(`<presence to='${pat}' type='subscribed'/>`);
    assert.equal((await push(cm, pat, T)).subscription, 'both');
    await take(cp, available(`${mia}/r1`), 'mia\'s presence at Prosody', T);

    // Messages both ways.
    cm.send(`<message to='${pat}' type='chat' id='mp1'><body>hello from Magpie</body></message>`);
    const m1 = await take(cp, (e) => e.name === 'message' && e.attr('id') === 'mp1', 'message at Prosody', T);
    assert.equal(m1.getChildText('body'), 'hello from Magpie');
    assert.equal(m1.attr('from'), `${mia}/r1`);
    cp.send(`<message to='${mia}' type='chat' id='pm1'><body>hello from Prosody</body></message>`);
    const m2 = await take(cm, (e) => e.name === 'message' && e.attr('id') === 'pm1', 'message at Magpie', T);
    assert.equal(m2.getChildText('body'), 'hello from Prosody');
    assert.equal(m2.attr('from'), `${pat}/r1`);

    // Presence changes both ways.
    cp.send(`<presence><status>on the train</status></presence>`);
    await take(cm, (e) => available(`${pat}/r1`)(e) && e.getChildText('status') === 'on the train', 'pat\'s status', T);
    cm.send(`<presence><show>away</show></presence>`);
    await take(cp, (e) => available(`${mia}/r1`)(e) && e.getChildText('show') === 'away', 'mia\'s show', T);

    // Probes: a new Magpie resource learns pat's presence from Prosody (RFC 6121 §4.3), and a new
    // Prosody resource learns mia's from Magpie.
    const cm2 = await loginAt(M, 'mia', 'r2'); extra.push(cm2);
    cm2.send(`<presence/>`);
    await take(cm2, (e) => available(`${pat}/r1`)(e) && e.getChildText('status') === 'on the train', 'probe answer from Prosody', T);
    const cp2 = await loginProsody(P, 'pat', 'r2'); extra.push(cp2);
    cp2.send(`<presence/>`);
    await take(cp2, available(`${mia}/r1`), 'probe answer from Magpie', T);

    // Unavailable travels too.
    cp.send(`<presence type='unavailable'/>`);
    await take(cm, isPresence('unavailable', `${pat}/r1`), 'pat unavailable', T);
  } finally { cm.destroy(); cp.destroy(); for (const c of extra) c.destroy(); }
}

describe('Magpie ↔ Prosody, certificates from a test CA (SASL EXTERNAL)', () => {
  let ca: TestCa; let M: TestServer | undefined; let P: ProsodyPeer | undefined;
  before(async () => {
    if (!prosodyInstalled() || !hasOpenssl()) return;
    ca = makeTestCa(['m.localhost', 'p.localhost']);
    M = await startFederated('m.localhost', { ca, s2s: { domains: { 'p.localhost': { requireValidCert: true, allowDialback: false } } } });
    P = await startProsody({ domain: 'p.localhost', ...ca.cert('p.localhost'), cafile: ca.caFile, secureAuth: true, routes: { 'm.localhost': ['127.0.0.1', s2sPort(M)] } });
    M.server.config.s2s.routes['p.localhost'] = `127.0.0.1:${P.s2sPort}`;
    await M.addUser('mia', 'pw'); P.register('pat', 'pw');
  });
  after(async () => { await M?.stop(); await P?.stop(); });

  it('subscribe, presence (with probes) and messages both ways', async (t) => {
    if (!P || !M) return skipOrFail(t, 'prosody or openssl is not installed');
    try { await scenario(M, P); } catch (e) { console.error(P.log().slice(-6000)); throw e; }
    assert.equal(federation(M).outgoingPairs().find((p) => p.remote === 'p.localhost')?.method, 'SASL EXTERNAL');
    assert.deepEqual([...new Set(federation(M).incomingPairs().filter((p) => p.remote === 'p.localhost').map((p) => p.method))], ['SASL EXTERNAL']);
  });
});

describe('Magpie ↔ Prosody, untrusted certificates (dialback)', () => {
  let M: TestServer | undefined; let P: ProsodyPeer | undefined;
  before(async () => {
    if (!prosodyInstalled() || !hasOpenssl()) return;
    M = await startFederated('m.localhost');
    const own = selfSigned(M.dir, 'p.localhost');
    P = await startProsody({ domain: 'p.localhost', ...own, secureAuth: false, routes: { 'm.localhost': ['127.0.0.1', s2sPort(M)] } });
    M.server.config.s2s.routes['p.localhost'] = `127.0.0.1:${P.s2sPort}`;
    await M.addUser('mia', 'pw'); P.register('pat', 'pw');
  });
  after(async () => { await M?.stop(); await P?.stop(); });

  it('subscribe, presence (with probes) and messages both ways', async (t) => {
    if (!P || !M) return skipOrFail(t, 'prosody or openssl is not installed');
    try { await scenario(M, P); } catch (e) { console.error(P.log().slice(-6000)); throw e; }
    assert.equal(federation(M).outgoingPairs().find((p) => p.remote === 'p.localhost')?.method, 'dialback');
    assert.deepEqual([...new Set(federation(M).incomingPairs().filter((p) => p.remote === 'p.localhost').map((p) => p.method))], ['dialback']);
  });
});

describe('Magpie ↔ Prosody, one bidirectional connection (XEP-0288, mod_s2s_bidi)', () => {
  let ca: TestCa; let M: TestServer | undefined; let P: ProsodyPeer | undefined;
  before(async () => {
    if (!prosodyInstalled() || !hasOpenssl()) return;
    ca = makeTestCa(['m.localhost', 'p.localhost']);
    M = await startFederated('m.localhost', { ca, s2s: { bidi: true } });
    P = await startProsody({ domain: 'p.localhost', ...ca.cert('p.localhost'), cafile: ca.caFile, secureAuth: true, modules: ['s2s_bidi'], routes: { 'm.localhost': ['127.0.0.1', s2sPort(M)] } });
    M.server.config.s2s.routes['p.localhost'] = `127.0.0.1:${P.s2sPort}`;
    await M.addUser('mia', 'pw'); P.register('pat', 'pw');
  });
  after(async () => { await M?.stop(); await P?.stop(); });

  it('Prosody answers over the connection Magpie opened', async (t) => {
    if (!P || !M) return skipOrFail(t, 'prosody or openssl is not installed');
    try { await scenario(M, P); } catch (e) { console.error(P.log().slice(-6000)); throw e; }
    assert.deepEqual(federation(M).outgoingPairs().map((p) => [p.remote, p.method, p.bidi]), [['p.localhost', 'SASL EXTERNAL', true]]);
    assert.deepEqual(federation(M).incomingPairs(), [], 'Prosody never connected to Magpie');
  });
});

describe('Prosody ↔ Magpie, one bidirectional connection opened by Prosody', () => {
  let ca: TestCa; let M: TestServer | undefined; let P: ProsodyPeer | undefined;
  before(async () => {
    if (!prosodyInstalled() || !hasOpenssl()) return;
    ca = makeTestCa(['m.localhost', 'p.localhost']);
    M = await startFederated('m.localhost', { ca, s2s: { bidi: true } });
    P = await startProsody({ domain: 'p.localhost', ...ca.cert('p.localhost'), cafile: ca.caFile, secureAuth: true, modules: ['s2s_bidi'], routes: { 'm.localhost': ['127.0.0.1', s2sPort(M)] } });
    M.server.config.s2s.routes['p.localhost'] = `127.0.0.1:${P.s2sPort}`;
    await M.addUser('mia', 'pw'); P.register('pat', 'pw');
  });
  after(async () => { await M?.stop(); await P?.stop(); });

  it('Magpie answers over the connection Prosody opened', async (t) => {
    if (!P || !M) return skipOrFail(t, 'prosody or openssl is not installed');
    const cm = await loginAt(M, 'mia', 'r1');
    const cp = await loginProsody(P, 'pat', 'r1');
    try {
      cm.send(`<presence/>`);
      cp.send(`<message to='mia@m.localhost/r1' type='chat' id='p1'><body>ping</body></message>`);
      await take(cm, (e) => e.name === 'message' && e.attr('id') === 'p1', 'message from Prosody', T);
      cm.send(`<message to='pat@p.localhost/r1' type='chat' id='m1'><body>pong</body></message>`);
      assert.equal((await take(cp, (e) => e.name === 'message' && e.attr('id') === 'm1', 'reply at Prosody', T)).getChildText('body'), 'pong');
      assert.deepEqual(federation(M).incomingPairs().map((p) => [p.remote, p.method]), [['p.localhost', 'SASL EXTERNAL']]);
      assert.deepEqual(federation(M).outgoingPairs(), [], 'Magpie never connected to Prosody');
    } catch (e) { console.error(P.log().slice(-6000)); throw e; } finally { cm.destroy(); cp.destroy(); }
  });
});
