// Magpie federating with a real Prosody (Debian's 0.12) on loopback: a Magpie user and a Prosody
// user subscribe to each other, see each other's presence (broadcast and probes), and exchange
// messages both ways; once with certificates from a test CA (SASL EXTERNAL both ways, dialback
// forbidden on both sides) and once with certificates neither side trusts (dialback).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestServer } from '../support/server.js';
import { skipOrFail } from '../support/server.js';
import { isPresence, push, take } from '../im/roster-helpers.js';
import { federation, hasOpenssl, loginAt, makeTestCa, s2sPort, startFederated } from './federation-helpers.js';
import { loginProsody, prosodyInstalled, selfSigned, startProsody, type ProsodyPeer } from './prosody-peer.js';
import type { RawClient } from '../support/raw-client.js';

const T = 20_000;
const available = (from: string) => (e: Parameters<ReturnType<typeof isPresence>>[0]) => e.name === 'presence' && e.attr('type') === undefined && e.attr('from') === from;

/** One server of a federated pair as the scenario sees it: its domain and how to log in there. */
interface Side { domain: string; login(user: string, resource: string): Promise<RawClient> }
const magpieSide = (M: TestServer): Side => ({ domain: M.domain, login: (u, r) => loginAt(M, u, r) });
const prosodySide = (P: ProsodyPeer): Side => ({ domain: P.domain, login: (u, r) => loginProsody(P, u, r) });

/**
 * The seed's last section across two servers: mia on server A and pat on server B subscribe to
 * each other from both sides, see presence (broadcast, changes, probes, unavailable) and
 * exchange messages. Returns what the clients observed, with the domains written as A and B, so
 * a Magpie↔Prosody run can be compared with a Prosody↔Prosody run of the same script.
 */
async function scenario(A: Side, B: Side): Promise<string[]> {
  const mia = `mia@${A.domain}`, pat = `pat@${B.domain}`;
  const seen: string[] = [];
  const note = (what: string, v: unknown): void => { seen.push(`${what}: ${String(v).replaceAll(A.domain, 'A').replaceAll(B.domain, 'B')}`); };
  const cm = await A.login('mia', 'r1');
  const cp = await B.login('pat', 'r1');
  const extra: { destroy(): void }[] = [];
  try {
    cm.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
    cp.send(`<iq type='get' id='r0'><query xmlns='jabber:iq:roster'/></iq>`);
    await take(cm, (e) => e.attr('id') === 'r0'); await take(cp, (e) => e.attr('id') === 'r0');
    cm.send(`<presence/>`); cp.send(`<presence/>`);

    // A's user asks, B's user approves.
    cm.send(`<presence to='${pat}' type='subscribe'/>`);
    const p1 = await push(cm, pat);
    note('mia roster push after subscribe', `${p1.subscription}/${p1.ask}`);
    assert.equal(p1.ask, 'subscribe');
    note('pat gets', (await take(cp, isPresence('subscribe', mia), 'subscribe at B', T)).attr('type'));
    cp.send(`<presence to='${mia}' type='subscribed'/>`);
    const p2 = await push(cm, pat, T);
    note('mia roster push after subscribed', `${p2.subscription}/${p2.ask}`);
    assert.equal(p2.subscription, 'to');
    note('mia sees available', (await take(cm, available(`${pat}/r1`), 'pat\'s presence at A', T)).attr('from'));

    // B's user asks, A's user approves.
    cp.send(`<presence to='${mia}' type='subscribe'/>`);
    note('mia gets', (await take(cm, isPresence('subscribe', pat), 'subscribe at A', T)).attr('type'));
    cm.send(`<presence to='${pat}' type='subscribed'/>`);
    const p3 = await push(cm, pat, T);
    note('mia roster push after approving', `${p3.subscription}/${p3.ask}`);
    assert.equal(p3.subscription, 'both');
    note('pat sees available', (await take(cp, available(`${mia}/r1`), 'mia\'s presence at B', T)).attr('from'));

    // Messages both ways.
    cm.send(`<message to='${pat}' type='chat' id='mp1'><body>hello from A</body></message>`);
    const m1 = await take(cp, (e) => e.name === 'message' && e.attr('id') === 'mp1', 'message at B', T);
    assert.equal(m1.getChildText('body'), 'hello from A');
    assert.equal(m1.attr('from'), `${mia}/r1`);
    note('pat reads', `${m1.attr('from')} ${m1.attr('type')} ${m1.getChildText('body')}`);
    cp.send(`<message to='${mia}' type='chat' id='pm1'><body>hello from B</body></message>`);
    const m2 = await take(cm, (e) => e.name === 'message' && e.attr('id') === 'pm1', 'message at A', T);
    assert.equal(m2.getChildText('body'), 'hello from B');
    assert.equal(m2.attr('from'), `${pat}/r1`);
    note('mia reads', `${m2.attr('from')} ${m2.attr('type')} ${m2.getChildText('body')}`);

    // Presence changes both ways.
    cp.send(`<presence><status>on the train</status></presence>`);
    note('mia sees status', (await take(cm, (e) => available(`${pat}/r1`)(e) && e.getChildText('status') === 'on the train', 'pat\'s status', T)).getChildText('status'));
    cm.send(`<presence><show>away</show></presence>`);
    note('pat sees show', (await take(cp, (e) => available(`${mia}/r1`)(e) && e.getChildText('show') === 'away', 'mia\'s show', T)).getChildText('show'));

    // Probes: a new resource on each side learns the contact's presence from the other server
    // (RFC 6121 §4.3).
    const cm2 = await A.login('mia', 'r2'); extra.push(cm2);
    cm2.send(`<presence/>`);
    note('new mia resource sees', (await take(cm2, (e) => available(`${pat}/r1`)(e) && e.getChildText('status') === 'on the train', 'probe answer from B', T)).getChildText('status'));
    const cp2 = await B.login('pat', 'r2'); extra.push(cp2);
    cp2.send(`<presence/>`);
    note('new pat resource sees', (await take(cp2, available(`${mia}/r1`), 'probe answer from A', T)).getChildText('show'));

    // Unavailable travels too.
    cp.send(`<presence type='unavailable'/>`);
    note('mia sees', (await take(cm, isPresence('unavailable', `${pat}/r1`), 'pat unavailable', T)).attr('type'));
  } finally { cm.destroy(); cp.destroy(); for (const c of extra) c.destroy(); }
  return seen;
}

/** Transcripts of the scenario, by pair, compared at the end with the Prosody↔Prosody reference. */
const transcripts = new Map<string, string[]>();

/**
 * A Magpie (m.localhost) and a Prosody (p.localhost) routed to each other, started before the
 * suite's tests and stopped after; `trusted` gives both certificates from one test CA (SASL
 * EXTERNAL possible), otherwise each has a self-signed one (dialback).
 */
function federatedPair(o: { trusted: boolean; magpie?: Record<string, unknown>; prosodyModules?: string[] }): { M?: TestServer; P?: ProsodyPeer } {
  const pair: { M?: TestServer; P?: ProsodyPeer } = {};
  before(async () => {
    if (!prosodyInstalled() || !hasOpenssl()) return;
    const ca = o.trusted ? makeTestCa(['m.localhost', 'p.localhost']) : undefined;
    const M = pair.M = await startFederated('m.localhost', { ca, s2s: o.magpie });
    const tls = ca ? { ...ca.cert('p.localhost'), cafile: ca.caFile } : selfSigned(M.dir, 'p.localhost');
    const P = pair.P = await startProsody({ domain: 'p.localhost', ...tls, secureAuth: o.trusted, modules: o.prosodyModules, routes: { 'm.localhost': ['127.0.0.1', s2sPort(M)] } });
    M.server.config.s2s.routes['p.localhost'] = `127.0.0.1:${P.s2sPort}`;
    await M.addUser('mia', 'pw'); P.register('pat', 'pw');
  });
  after(async () => { await pair.M?.stop(); await pair.P?.stop(); });
  return pair;
}

describe('Magpie ↔ Prosody, certificates from a test CA (SASL EXTERNAL)', () => {
  const pair = federatedPair({ trusted: true, magpie: { domains: { 'p.localhost': { requireValidCert: true, allowDialback: false } } } });

  it('subscribe, presence (with probes) and messages both ways', async (t) => {
    const { M, P } = pair;
    if (!P || !M) return skipOrFail(t, 'prosody or openssl is not installed');
    try { transcripts.set('SASL EXTERNAL', await scenario(magpieSide(M), prosodySide(P))); } catch (e) { console.error(P.log().slice(-6000)); throw e; }
    assert.equal(federation(M).outgoingPairs().find((p) => p.remote === 'p.localhost')?.method, 'SASL EXTERNAL');
    assert.deepEqual([...new Set(federation(M).incomingPairs().filter((p) => p.remote === 'p.localhost').map((p) => p.method))], ['SASL EXTERNAL']);
  });
});

describe('Magpie ↔ Prosody, untrusted certificates (dialback)', () => {
  const pair = federatedPair({ trusted: false });

  it('subscribe, presence (with probes) and messages both ways', async (t) => {
    const { M, P } = pair;
    if (!P || !M) return skipOrFail(t, 'prosody or openssl is not installed');
    try { transcripts.set('dialback', await scenario(magpieSide(M), prosodySide(P))); } catch (e) { console.error(P.log().slice(-6000)); throw e; }
    assert.equal(federation(M).outgoingPairs().find((p) => p.remote === 'p.localhost')?.method, 'dialback');
    assert.deepEqual([...new Set(federation(M).incomingPairs().filter((p) => p.remote === 'p.localhost').map((p) => p.method))], ['dialback']);
  });
});

describe('Magpie ↔ Prosody, one bidirectional connection (XEP-0288, mod_s2s_bidi)', () => {
  const pair = federatedPair({ trusted: true, magpie: { bidi: true }, prosodyModules: ['s2s_bidi'] });

  it('Prosody answers over the connection Magpie opened', async (t) => {
    const { M, P } = pair;
    if (!P || !M) return skipOrFail(t, 'prosody or openssl is not installed');
    try { transcripts.set('bidi', await scenario(magpieSide(M), prosodySide(P))); } catch (e) { console.error(P.log().slice(-6000)); throw e; }
    assert.deepEqual(federation(M).outgoingPairs().map((p) => [p.remote, p.method, p.bidi]), [['p.localhost', 'SASL EXTERNAL', true]]);
    assert.deepEqual(federation(M).incomingPairs(), [], 'Prosody never connected to Magpie');
  });
});

describe('Prosody ↔ Magpie, one bidirectional connection opened by Prosody', () => {
  const pair = federatedPair({ trusted: true, magpie: { bidi: true }, prosodyModules: ['s2s_bidi'] });

  it('Magpie answers over the connection Prosody opened', async (t) => {
    const { M, P } = pair;
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

describe('Prosody ↔ Prosody: the reference the Magpie pairs are held to', () => {
  let P1: ProsodyPeer | undefined; let P2: ProsodyPeer | undefined;
  before(async () => {
    if (!prosodyInstalled() || !hasOpenssl()) return;
    const ca = makeTestCa(['q.localhost', 'p.localhost']);
    const { freePort } = await import('./prosody-peer.js');
    // Each needs the other's s2s port before it starts: start P2 on a known route, then P1.
    const p1s2s = await freePort();
    P2 = await startProsody({ domain: 'p.localhost', ...ca.cert('p.localhost'), cafile: ca.caFile, secureAuth: true, routes: { 'q.localhost': ['127.0.0.1', p1s2s] } });
    P1 = await startProsody({ domain: 'q.localhost', ...ca.cert('q.localhost'), cafile: ca.caFile, secureAuth: true, s2sPort: p1s2s, routes: { 'p.localhost': ['127.0.0.1', P2.s2sPort] } });
    P1.register('mia', 'pw'); P2.register('pat', 'pw');
  });
  after(async () => { await P1?.stop(); await P2?.stop(); });

  it('the same script gives the same observations as every Magpie↔Prosody pair above', async (t) => {
    if (!P1 || !P2) return skipOrFail(t, 'prosody or openssl is not installed');
    let reference: string[];
    try { reference = await scenario(prosodySide(P1), prosodySide(P2)); } catch (e) { console.error(P1.log().slice(-4000), P2.log().slice(-4000)); throw e; }
    assert.ok(transcripts.size >= 2, 'the Magpie↔Prosody scenarios ran first');
    for (const [name, seen] of transcripts) assert.deepEqual(seen, reference, `${name} differs from Prosody↔Prosody`);
  });
});
