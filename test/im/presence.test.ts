// Presence end to end (RFC 6121 §4): initial presence broadcast to subscribers and probes
// answered (a contact who logs in later sees the user's presence, show, statuses in several
// languages and priority); an offline contact's probe answer; two resources with different
// priorities (both see the contacts, each sees the other); subsequent and unavailable
// presence; directed presence and the unavailable it earns at logout; a connection dropped
// without unavailable; probes from clients; blocked contacts (BLOCKING service); slixmpp
// receiving a contact's presence.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { defineModule } from '@magpie/server/modules/module';
import type { MagpieModule } from '@magpie/server/modules/module';
import { builtinModules } from '@magpie/server/modules/index';
import { DiscoRegistry } from '@magpie/server/modules/disco-registry';
import { BLOCKING, type BlockingService } from '@magpie/server/modules/im-services/services';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { IM_MODULES, startIm, login, take, none, rosterGet, presenceSync, befriend, sleep } from './roster-helpers.js';

const from = (jid: string) => (e: Element): boolean => e.name === 'presence' && e.attr('from') === jid;
const available = (jid: string) => (e: Element): boolean => from(jid)(e) && e.attr('type') === undefined;
const unavailable = (jid: string) => (e: Element): boolean => from(jid)(e) && e.attr('type') === 'unavailable';

async function online(ts: TestServer, user: string, resource: string, presence = '<presence/>'): Promise<RawClient> {
  const c = await login(ts, user, resource);
  await rosterGet(c);
  await presenceSync(c, presence);
  return c;
}

describe('presence (RFC 6121 §4)', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startIm();
    for (const u of ['alice', 'bob', 'carol', 'dave', 'slix']) await ts.addUser(u, 'pw');
    await befriend(ts, 'alice', 'bob');
    await befriend(ts, 'bob', 'carol');
    await befriend(ts, 'alice', 'slix');
  });
  after(async () => { await ts.stop(); });

  it('broadcasts initial presence and answers probes: a contact who logs in later sees it', async () => {
    const a = await online(ts, 'alice', 'desk',
      `<presence><show>away</show><status>lunch</status><status xml:lang='fr'>déjeuner</status><priority>5</priority></presence>`);
    // §4.2.2: the sender gets its own presence back.
    const echo = await take(a, available('alice@localhost/desk'));
    assert.equal(echo.attr('to'), 'alice@localhost/desk');
    const b = await online(ts, 'bob', 'phone');
    // Bob's probe is answered with Alice's last presence, from her full JID, as she sent it.
    const p = await take(b, available('alice@localhost/desk'), 'alice\'s presence');
    assert.equal(p.getChildText('show'), 'away');
    assert.deepEqual(p.getChildren('status').map((s) => [s.attr('xml:lang'), s.text()]), [[undefined, 'lunch'], ['fr', 'déjeuner']]);
    assert.equal(p.getChildText('priority'), '5');
    // Carol is offline: her server answers the probe with unavailable from her bare JID.
    await take(b, unavailable('carol@localhost'), 'carol\'s unavailable');
    // Bob's initial presence reached Alice (a subscriber) ...
    await take(a, available('bob@localhost/phone'), 'bob\'s broadcast');
    // ... and nobody without a subscription.
    const d = await online(ts, 'dave', 'x');
    await none(d, (e) => e.name === 'presence' && e.attr('from')?.startsWith('alice@') === true, 'alice\'s presence at dave');
    // Subsequent presence (§4.4) goes to subscribers and the account's resources.
    a.send(`<presence><show>dnd</show></presence>`);
    assert.equal((await take(b, available('alice@localhost/desk'))).getChildText('show'), 'dnd');
    assert.equal((await take(a, available('alice@localhost/desk'))).getChildText('show'), 'dnd');
    // Explicit unavailable (§4.5): subscribers are told; the session is no longer available.
    a.send(`<presence type='unavailable'><status>gone</status></presence>`);
    assert.equal((await take(b, unavailable('alice@localhost/desk'))).getChildText('status'), 'gone');
    b.send(`<presence><show>chat</show></presence>`);
    await none(a, available('bob@localhost/phone'), 'presence to an unavailable resource');
    for (const c of [a, b, d]) c.destroy();
    await sleep(100);
  });

  it('two resources with different priorities both receive contacts\' presence and see each other', async () => {
    const hi = await online(ts, 'alice', 'hi', `<presence><priority>10</priority></presence>`);
    const lo = await online(ts, 'alice', 'lo', `<presence><priority>-1</priority><status>lurking</status></presence>`);
    // The new resource learns of the other one; the other one sees the newcomer.
    assert.equal((await take(lo, available('alice@localhost/hi'))).getChildText('priority'), '10');
    assert.equal((await take(hi, available('alice@localhost/lo'))).getChildText('status'), 'lurking');
    const b = await online(ts, 'bob', 'tablet');
    for (const c of [hi, lo]) await take(c, available('bob@localhost/tablet'), 'bob at ' + c);
    // Bob sees both of Alice's resources through the probe.
    await take(b, available('alice@localhost/hi'));
    await take(b, available('alice@localhost/lo'));
    b.send(`<presence type='unavailable'/>`);
    for (const c of [hi, lo]) await take(c, unavailable('bob@localhost/tablet'), 'bob unavailable');
    for (const c of [hi, lo, b]) c.destroy();
    await sleep(100);
  });

  it('directed presence earns an unavailable at logout; a dropped connection counts as unavailable', async () => {
    const a = await online(ts, 'alice', 'laptop');
    const b = await online(ts, 'bob', 'pc');
    const d = await online(ts, 'dave', 'pc');
    await take(b, available('alice@localhost/laptop'));
    // §4.6: Dave has no subscription; Alice shows herself to him directly.
    a.send(`<presence to='dave@localhost'><show>xa</show></presence>`);
    assert.equal((await take(d, available('alice@localhost/laptop'))).getChildText('show'), 'xa');
    // The connection drops without unavailable presence.
    a.destroy();
    await take(b, unavailable('alice@localhost/laptop'), 'unavailable for the subscriber');
    await take(d, unavailable('alice@localhost/laptop'), 'unavailable for the directed-presence recipient');
    for (const c of [b, d]) c.destroy();
    await sleep(100);
  });

  it('answers a subscriber\'s probe, and tells an unauthorised prober nothing', async () => {
    const a = await online(ts, 'alice', 'probe', `<presence><status>here</status></presence>`);
    const b = await login(ts, 'bob', 'prober');
    const d = await login(ts, 'dave', 'prober');
    b.send(`<presence type='probe' to='alice@localhost'/>`);
    assert.equal((await take(b, available('alice@localhost/probe'))).getChildText('status'), 'here');
    d.send(`<presence type='probe' to='alice@localhost'/>`);
    await none(d, (e) => e.name === 'presence', 'an answer to an unauthorised probe');
    assert.deepEqual(await rosterGet(d).then((r) => r.getChild('query', 'jabber:iq:roster')?.getChildren('item').length), 0);
    for (const c of [a, b, d]) c.destroy();
    await sleep(100);
  });

  it('slixmpp receives a contact\'s presence with show, status and priority', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const s = new SlixClient({ jid: 'slix@localhost/py', password: 'pw', port: ts.port, auto_authorize: null });
    let a: RawClient | undefined;
    try {
      await s.waitFor((e) => e.event === 'session_start');
      s.command({ cmd: 'presence', show: 'away', status: 'snake charming', priority: 3 });
      a = await online(ts, 'alice', 'snake', `<presence><show>chat</show><status>hiss</status><priority>7</priority></presence>`);
      const p = await s.waitFor((e) => e.event === 'presence' && e.frm === 'alice@localhost/snake');
      assert.deepEqual([p.show, p.status, p.priority], ['chat', 'hiss', 7]);
      // The probe answer carries slixmpp's presence to Alice.
      const sp = await take(a, available('slix@localhost/py'));
      assert.deepEqual([sp.getChildText('show'), sp.getChildText('status'), sp.getChildText('priority')], ['away', 'snake charming', '3']);
      const m = s.mark();
      a.destroy();
      await s.waitFor((e) => e.event === 'presence' && e.frm === 'alice@localhost/snake' && e.type === 'unavailable', 15000, m);
    } finally { await s.quit(); a?.destroy(); }
  });
});

describe('presence and blocking', () => {
  const blocked = new Set<string>(); // 'user@host blocked-bare'
  const fakeBlocking = defineModule({
    manifest: { name: 'test-blocking', description: 'a block list the test controls', specs: [], defaultEnabled: true },
    setup(api) {
      const svc: BlockingService = { isBlocked: async (host, user, jid) => blocked.has(`${user}@${host} ${jid.split('/')[0]}`) };
      api.provide(BLOCKING, svc);
    },
  });
  // The real blocking module (and privacy, which needs it) make way for the fake when present.
  const builtins = builtinModules(new DiscoRegistry()).map((m) => m.manifest.name);
  const disabled = ['privacy', 'blocking'].filter((n) => builtins.includes(n));
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ modules: { disabled } }, { modules: [...IM_MODULES, fakeBlocking] as MagpieModule[] });
    for (const u of ['alice', 'bob']) await ts.addUser(u, 'pw');
    await befriend(ts, 'alice', 'bob');
  });
  after(async () => { await ts.stop(); });

  it('no presence goes to a blocked contact, none is delivered from it, no probe is answered', async () => {
    blocked.add('alice@localhost bob@localhost');
    const b = await online(ts, 'bob', 'b');
    const a = await online(ts, 'alice', 'a');
    await none(b, from('alice@localhost/a'), 'alice\'s broadcast at bob');
    await none(a, from('bob@localhost/b'), 'bob\'s presence (probe answer) at alice');
    b.send(`<presence><show>away</show></presence>`);
    b.send(`<presence type='probe' to='alice@localhost'/>`);
    await none(a, from('bob@localhost/b'), 'bob\'s presence at alice');
    await none(b, (e) => e.name === 'presence' && e.attr('from')?.startsWith('alice@') === true, 'an answer to bob\'s probe');
    // Unblocked: the next broadcast flows again.
    blocked.clear();
    a.send(`<presence><show>chat</show></presence>`);
    await take(b, available('alice@localhost/a'));
    for (const c of [a, b]) c.destroy();
  });
});
