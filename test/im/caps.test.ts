// Entity Capabilities (XEP-0115) end to end.
// The server's caps: the stream feature after authentication (§6.3), its 'ver' recomputed here
// from the server's disco#info answer by an implementation of §5.1 written for this test (not
// the server's), the caps node 'node#ver' answered identically (§6.2), and slixmpp's own
// xep_0115 plugin validating it. Client caps: raw clients announce caps in presence; the server
// asks them once per verification string, verifies, caches (also across a restart), and serves
// the features through the 'caps' service (read here by a probe module); forged strings are
// never cached, so they cannot poison the cache for honest clients (§5.4, §9.4).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { xml, type Element } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import caps, { CAPS, type CapsService } from '@magpie/server/modules/caps/caps';
import { defineModule } from '@magpie/server/modules/module';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { SlixServices, slixmppAvailable } from '../support/slix-services.js';
import { online, iq, condition } from './services-helpers.js';

const CAPS_NS = 'http://jabber.org/protocol/caps';
const INFO = 'http://jabber.org/protocol/disco#info';
const NODE = 'https://magpie.example/test';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- an independent §5.1: tuples joined with NUL sort field by field; UTF-8 byte order -------
const byOctets = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
function capsVer(q: Element, alg = 'sha1'): string {
  const ids = q.getChildren('identity', INFO).map((i) => [i.attr('category'), i.attr('type'), i.attr('xml:lang'), i.attr('name')].map((x) => x ?? '').join('\0')).sort(byOctets);
  const feats = q.getChildren('feature', INFO).map((f) => f.attr('var')!).sort(byOctets);
  const forms: [string, string][] = [];
  for (const x of q.getChildren('x', 'jabber:x:data')) {
    const fields = x.getChildren('field', 'jabber:x:data');
    const ft = fields.find((f) => f.attr('var') === 'FORM_TYPE' && f.attr('type') === 'hidden');
    if (!ft) continue;
    let s = ft.getChildText('value', 'jabber:x:data') + '<';
    for (const f of fields.filter((f) => f !== ft).sort((a, b) => byOctets(a.attr('var')!, b.attr('var')!))) {
      s += f.attr('var') + '<' + f.getChildren('value', 'jabber:x:data').map((v) => v.text()).sort(byOctets).map((v) => v + '<').join('');
    }
    forms.push([ft.getChildText('value', 'jabber:x:data')!, s]);
  }
  const S = ids.map((i) => i.split('\0').join('/') + '<').join('') + feats.map((f) => f + '<').join('') + forms.sort((a, b) => byOctets(a[0], b[0])).map((f) => f[1]).join('');
  return createHash(alg).update(S, 'utf8').digest('base64');
}
const infoOf = (identity: string, features: string[]) =>
  xml('query', INFO, {}, xml('identity', INFO, { category: 'client', type: 'pc', name: identity }), ...features.map((f) => xml('feature', INFO, { var: f })));

// --- a module that exposes the caps service to the test, and gives the server a form ---------
const probe = defineModule({
  manifest: { name: 'test-caps-probe', description: 'reads the caps service for tests', specs: [], depends: ['caps'], defaultEnabled: true },
  setup(api) {
    api.discoExtension(() => xml('x', 'jabber:x:data', { type: 'result' },
      xml('field', 'jabber:x:data', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', 'jabber:x:data', {}, 'http://jabber.org/network/serverinfo')),
      xml('field', 'jabber:x:data', { var: 'admin-addresses' }, xml('value', 'jabber:x:data', {}, 'xmpp:admin@localhost'), xml('value', 'jabber:x:data', {}, 'mailto:admin@example.org'))));
    api.iq({ type: 'get', scope: 'host', xmlns: 'urn:test:caps', name: 'probe' }, async (_ev, p) => {
      const svc = api.service<CapsService>(CAPS)!;
      const f = await svc.whenKnown(p.attr('jid')!);
      if (!f) throw new StanzaError('item-not-found');
      return xml('probe', 'urn:test:caps', {}, ...f.map((v) => xml('feature', 'urn:test:caps', { var: v })));
    });
  },
});
const featuresOf = async (c: RawClient, jid: string): Promise<string[] | undefined> => {
  const r = await iq(c, `type='get' to='localhost'`, `<probe xmlns='urn:test:caps' jid='${jid}'/>`, 15000);
  return r.attr('type') === 'result' ? r.getChild('probe', 'urn:test:caps')!.getChildren('feature').map((f) => f.attr('var')!) : undefined;
};

/** Announce caps and answer the server's disco#info query (if it asks) with `answer`. */
async function announce(c: RawClient & { jid: string }, ver: string, answer: Element, hash = 'sha-1'): Promise<Element | undefined> {
  c.send(`<presence><c xmlns='${CAPS_NS}' hash='${hash}' node='${NODE}' ver='${ver}'/></presence>`);
  let q: Element | undefined;
  try { q = await c.next((e) => e.name === 'iq' && e.attr('type') === 'get' && !!e.getChild('query', INFO), 1500); } catch { return undefined; }
  const a = answer.clone();
  a.attrs.node = q.getChild('query', INFO)!.attr('node')!;
  c.send(`<iq type='result' id='${q.attr('id')}' to='${q.attr('from')}'>${a.toString()}</iq>`);
  return q;
}

describe('entity capabilities', () => {
  let ts: TestServer;
  const options = { modules: { options: { caps: { node: 'https://github.com/magpie-xmpp/magpie' } } } };
  before(async () => {
    ts = await startTestServer(options, { modules: [caps, probe] });
    for (const u of ['a', 'b', 'c', 'd', 'e', 'f', 'py']) await ts.addUser(u, 'pw-' + u);
  });
  after(async () => { await ts.stop(); });

  it('advertises the server\'s caps after authentication, with the ver of its disco#info answer', async () => {
    const c = await RawClient.connect(ts.port);
    try {
      c.open();
      const pre = await c.next((e) => e.name === 'features');
      assert.equal(pre.getChild('c', CAPS_NS), undefined);
      const r = await c.auth('SCRAM-SHA-256', 'a', 'pw-a');
      assert.equal(r.name, 'success');
      c.restartParser(); c.open();
      const features = await c.next((e) => e.name === 'features');
      const cap = features.getChild('c', CAPS_NS)!;
      assert.ok(cap, features.toString());
      assert.equal(cap.attr('hash'), 'sha-1');
      assert.equal(cap.attr('node'), 'https://github.com/magpie-xmpp/magpie');
      assert.equal(c.header?.from, 'localhost', '§6.3: the stream header names the server');
      c.send(`<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`);
      await c.next((e) => e.attr('id') === 'b');

      const info = (await iq(c, `type='get' to='localhost'`, `<query xmlns='${INFO}'/>`)).getChild('query', INFO)!;
      assert.ok(info.getChildren('feature').some((f) => f.attr('var') === CAPS_NS), 'the caps feature is advertised');
      assert.equal(info.getChildren('x', 'jabber:x:data').length, 1, 'the probe module\'s form is part of the answer');
      assert.equal(cap.attr('ver'), capsVer(info));

      // §6.2: the caps node answers like the node-less query, naming the node.
      const node = `https://github.com/magpie-xmpp/magpie#${cap.attr('ver')}`;
      const viaNode = (await iq(c, `type='get' to='localhost'`, `<query xmlns='${INFO}' node='${node}'/>`)).getChild('query', INFO)!;
      assert.equal(viaNode.attr('node'), node);
      assert.deepEqual(viaNode.children.map(String), info.children.map(String));
      const stale = await iq(c, `type='get' to='localhost'`, `<query xmlns='${INFO}' node='https://github.com/magpie-xmpp/magpie#AAAA'/>`);
      assert.equal(condition(stale), 'item-not-found');
      assert.equal(condition(await iq(c, `type='get' to='localhost'`, `<query xmlns='${INFO}' node='other'/>`)), 'item-not-found');
    } finally { c.destroy(); }
  });

  it('slixmpp\'s xep_0115 plugin validates the server\'s caps from the stream feature', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const s = new SlixServices({ jid: 'py@localhost/caps', password: 'pw-py', port: ts.port });
    const c = await online(ts, 'b', 'pw-b', 'cmp');
    try {
      await s.next((e) => e.event === 'session_start');
      const sc = await s.run({ cmd: 'server_caps' }, 'server_caps');
      const info = (await iq(c, `type='get' to='localhost'`, `<query xmlns='${INFO}'/>`)).getChild('query', INFO)!;
      assert.equal(sc.ver, capsVer(info));
    } finally { await s.quit(); c.destroy(); }
  });

  it('learns a client\'s caps once per verification string and serves them to other modules', async () => {
    const features = ['http://jabber.org/protocol/caps', INFO, 'urn:xmpp:avatar:metadata+notify', 'urn:xmpp:ping'];
    const answer = infoOf('Test client 1', features);
    const ver = capsVer(answer);
    const a = await online(ts, 'a', 'pw-a', 'one');
    const b = await online(ts, 'b', 'pw-b', 'two');
    try {
      const q = await announce(a, ver, answer);
      assert.ok(q, 'the server asked the client');
      assert.equal(q.attr('from'), 'localhost');
      assert.equal(q.attr('to'), a.jid, '§6.2: to the exact full JID');
      assert.equal(q.getChild('query', INFO)!.attr('node'), `${NODE}#${ver}`);
      assert.deepEqual((await featuresOf(a, a.jid))?.sort(), [...features].sort());

      // Another client with the same string is not asked: the verified answer is cached.
      b.send(`<presence><c xmlns='${CAPS_NS}' hash='sha-1' node='${NODE}' ver='${ver}'/></presence>`);
      assert.deepEqual((await featuresOf(b, b.jid))?.sort(), [...features].sort());
      await sleep(300);
      assert.equal(b.elements.filter((e) => e.name === 'iq' && e.attr('type') === 'get').length, 0, 'b was not queried');
      // The same presence again does not trigger anything either.
      a.send(`<presence><show>away</show><c xmlns='${CAPS_NS}' hash='sha-1' node='${NODE}' ver='${ver}'/></presence>`);
      await sleep(300);
      assert.equal(a.elements.filter((e) => e.name === 'iq' && e.attr('type') === 'get').length, 1);
      const stored = await ts.server.storage.map.get('', '', 'caps', `sha-1 ${ver}`);
      assert.ok(stored, 'kept in the caps store');
    } finally { a.destroy(); b.destroy(); }
  });

  it('a forged verification string is not cached and cannot poison the cache for an honest client', async () => {
    const honestAnswer = infoOf('Honest client', [INFO, 'urn:xmpp:jingle:1', 'urn:xmpp:mam:2']);
    const ver = capsVer(honestAnswer);
    const liar = await online(ts, 'c', 'pw-c', 'liar');
    const other = await online(ts, 'd', 'pw-d', 'other');
    const honest = await online(ts, 'e', 'pw-e', 'honest');
    try {
      // The attacker announces the honest client's string first, with other features.
      const q1 = await announce(liar, ver, infoOf('Honest client', [INFO, 'urn:evil']));
      assert.ok(q1);
      assert.equal(await featuresOf(liar, liar.jid), undefined, 'an unverified answer is not used');
      assert.equal(await ts.server.storage.map.get('', '', 'caps', `sha-1 ${ver}`), undefined, 'nor cached');
      // A string nothing hashes to: each announcer is asked, nothing is cached.
      const forged = Buffer.alloc(20, 7).toString('base64');
      assert.ok(await announce(other, forged, honestAnswer));
      assert.equal(await featuresOf(other, other.jid), undefined);
      // The honest client is asked in turn (§5.4 3.9) and its answer verifies.
      const q2 = await announce(honest, ver, honestAnswer);
      assert.ok(q2, 'the honest client was asked: the liar\'s answer was not cached');
      assert.deepEqual((await featuresOf(honest, honest.jid))?.sort(), [INFO, 'urn:xmpp:jingle:1', 'urn:xmpp:mam:2'].sort());
      assert.deepEqual((await ts.server.storage.map.get<{ features: string[] }>('', '', 'caps', `sha-1 ${ver}`))?.features.sort(), [INFO, 'urn:xmpp:jingle:1', 'urn:xmpp:mam:2'].sort());
      // An unsupported hash: asked, used for that session only, not cached.
      const q3 = await announce(other, 'legacy-ish', infoOf('Other', [INFO, 'urn:x:only-me']), 'md5');
      assert.ok(q3);
      assert.deepEqual(await featuresOf(other, other.jid), [INFO, 'urn:x:only-me']);
      assert.equal(await ts.server.storage.map.get('', '', 'caps', 'md5 legacy-ish'), undefined);
    } finally { liar.destroy(); other.destroy(); honest.destroy(); }
  });

  it('slixmpp\'s own caps (xep_0115) verify on the server', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const s = new SlixServices({ jid: 'py@localhost/client', password: 'pw-py', port: ts.port, caps_node: 'https://slixmpp.example/test' });
    const c = await online(ts, 'f', 'pw-f', 'probe');
    try {
      await s.next((e) => e.event === 'session_start');
      await s.run({ cmd: 'presence' }, 'presence_sent');
      // The presence leaves slixmpp after its output filter adds the caps: poll until it is in.
      let features: string[] | undefined;
      for (let i = 0; i < 40 && !features; i++) { features = await featuresOf(c, 'py@localhost/client'); if (!features) await sleep(100); }
      assert.ok(features, 'slixmpp\'s caps verified');
      for (const f of ['vcard-temp', 'jabber:iq:last', CAPS_NS]) assert.ok(features.includes(f), f);
      const own = await s.run({ cmd: 'own_caps' }, 'own_caps');
      assert.ok(await ts.server.storage.map.get('', '', 'caps', `sha-1 ${own.ver}`));
    } finally { await s.quit(); c.destroy(); }
  });

  it('the store of verified strings is bounded (maxStoredEntries): the oldest go first', async () => {
    const small = await startTestServer({ modules: { options: { caps: { maxStoredEntries: 3 } } } }, { modules: [caps, probe] });
    try {
      await small.addUser('m', 'pw-m');
      const m = await online(small, 'm', 'pw-m', 'mint');
      const vers: string[] = [];
      for (let i = 0; i < 5; i++) {
        const answer = infoOf('Mint', [INFO, `urn:mint:${i}`]);
        vers.push(capsVer(answer));
        assert.ok(await announce(m, vers[i]!, answer));
        assert.deepEqual(await featuresOf(m, m.jid), [INFO, `urn:mint:${i}`]);
      }
      const stored = await small.server.storage.map.getAll('', '', 'caps');
      assert.ok(stored.size <= 3, `stored ${stored.size}`);
      assert.ok(stored.has(`sha-1 ${vers[4]}`), 'the newest is kept');
      assert.ok(!stored.has(`sha-1 ${vers[0]}`), 'the oldest is gone');
      m.destroy();
    } finally { await small.stop(); }
  });

  it('the verified cache survives a restart', async () => {
    const answer = infoOf('Durable client', [INFO, 'urn:xmpp:durable']);
    const ver = capsVer(answer);
    const a = await online(ts, 'a', 'pw-a', 'before');
    assert.ok(await announce(a, ver, answer));
    assert.deepEqual(await featuresOf(a, a.jid), [INFO, 'urn:xmpp:durable']);
    a.destroy();
    await ts.stop(true);
    ts = await startTestServer(options, { dir: ts.dir, modules: [caps, probe] });
    const b = await online(ts, 'b', 'pw-b', 'after');
    try {
      b.send(`<presence><c xmlns='${CAPS_NS}' hash='sha-1' node='${NODE}' ver='${ver}'/></presence>`);
      assert.deepEqual(await featuresOf(b, b.jid), [INFO, 'urn:xmpp:durable']);
      assert.equal(b.elements.filter((e) => e.name === 'iq' && e.attr('type') === 'get').length, 0, 'not asked again');
    } finally { b.destroy(); }
  });
});
