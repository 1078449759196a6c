// Last Activity (XEP-0012) end to end: server uptime (§6), an online account (§4: 0), an
// account after logout (seconds since, with the status text of its unavailable presence, kept
// across a restart), authorisation by presence subscription (§4, §5, §9: forbidden for others,
// also on full JIDs), missing accounts.
// Subscriptions come from the roster service (modules/im-services ROSTER). While no roster
// module is loaded, a test module provides that service with a fixed table; once a roster
// module provides it, the subscription is made the RFC 6121 way (subscribe / subscribed),
// which then also needs the presence module.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import last from '@magpie/server/modules/last/last';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { SlixServices, slixmppAvailable } from '../support/slix-services.js';
import { online, iq, condition, errorType, rosterStandIn } from './services-helpers.js';

const L = 'jabber:iq:last';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const roster = rosterStandIn();
const pw = (u: string) => 'pw-' + u;

describe('last activity', () => {
  let ts: TestServer;
  const start = () => startTestServer({}, { modules: [last, roster.module] });

  const allow = (user: string, contact: string) => roster.allow(ts, user, contact, pw);

  before(async () => {
    ts = await start();
    for (const u of ['juliet', 'romeo', 'tybalt', 'nurse', 'friar']) await ts.addUser(u, 'pw-' + u);
    await allow('juliet', 'romeo');
    await allow('nurse', 'romeo');
  });
  after(async () => { await ts.stop(); });

  it('the server answers its uptime in seconds, without text', async () => {
    const c = await online(ts, 'tybalt', 'pw-tybalt');
    try {
      await sleep(1100);
      const r = await iq(c, `type='get' to='localhost'`, `<query xmlns='${L}'/>`);
      const q = r.getChild('query', L)!;
      assert.ok(Number(q.attr('seconds')) >= 1, r.toString());
      assert.ok(Number.isInteger(Number(q.attr('seconds'))));
      assert.equal(q.text(), '');
      const info = await iq(c, `type='get' to='localhost'`, `<query xmlns='http://jabber.org/protocol/disco#info'/>`);
      assert.ok(info.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').some((f) => f.attr('var') === L));
    } finally { c.destroy(); }
  });

  it('an online account is 0 for itself and its contacts, forbidden for others; a missing account is service-unavailable', async () => {
    const juliet = await online(ts, 'juliet', 'pw-juliet', 'balcony');
    const romeo = await online(ts, 'romeo', 'pw-romeo', 'orchard');
    const tybalt = await online(ts, 'tybalt', 'pw-tybalt', 'street');
    try {
      juliet.send(`<presence/>`);
      const self = await iq(juliet, `type='get'`, `<query xmlns='${L}'/>`);
      assert.equal(self.getChild('query', L)!.attr('seconds'), '0');
      const contact = await iq(romeo, `type='get' to='juliet@localhost'`, `<query xmlns='${L}'/>`);
      assert.equal(contact.attr('from'), 'juliet@localhost');
      assert.equal(contact.getChild('query', L)!.attr('seconds'), '0');
      assert.equal(contact.getChild('query', L)!.text(), '');
      const stranger = await iq(tybalt, `type='get' to='juliet@localhost'`, `<query xmlns='${L}'/>`);
      assert.equal(condition(stranger), 'forbidden');
      assert.equal(errorType(stranger), 'auth');
      // A subscription the other way round (romeo lets juliet see him) gives tybalt nothing either.
      assert.equal(condition(await iq(tybalt, `type='get' to='nurse@localhost'`, `<query xmlns='${L}'/>`)), 'forbidden');
      assert.equal(condition(await iq(tybalt, `type='get' to='nobody@localhost'`, `<query xmlns='${L}'/>`)), 'service-unavailable');
    } finally { juliet.destroy(); romeo.destroy(); tybalt.destroy(); }
  });

  it('a query to a full JID reaches the client only from an authorised requester (§5)', async () => {
    const juliet = await online(ts, 'juliet', 'pw-juliet', 'chamber');
    const romeo = await online(ts, 'romeo', 'pw-romeo', 'garden');
    const tybalt = await online(ts, 'tybalt', 'pw-tybalt', 'sword');
    try {
      juliet.send(`<presence/>`);
      const refused = await iq(tybalt, `type='get' to='juliet@localhost/chamber'`, `<query xmlns='${L}'/>`);
      assert.equal(condition(refused), 'forbidden');
      romeo.send(`<iq type='get' id='full1' to='juliet@localhost/chamber'><query xmlns='${L}'/></iq>`);
      const delivered = await juliet.next((e) => e.name === 'iq' && e.attr('id') === 'full1');
      assert.equal(delivered.attr('from'), 'romeo@localhost/garden');
      juliet.send(`<iq type='result' id='full1' to='romeo@localhost/garden'><query xmlns='${L}' seconds='42'/></iq>`);
      const answer = await romeo.next((e) => e.name === 'iq' && e.attr('id') === 'full1');
      assert.equal(answer.getChild('query', L)!.attr('seconds'), '42');
      assert.equal(juliet.elements.filter((e) => e.name === 'iq' && e.attr('from')?.startsWith('tybalt')).length, 0);
    } finally { juliet.destroy(); romeo.destroy(); tybalt.destroy(); }
  });

  it('after logout: seconds since, with the status of the unavailable presence; kept across a restart', async () => {
    const nurse = await online(ts, 'nurse', 'pw-nurse', 'kitchen');
    const romeo = await online(ts, 'romeo', 'pw-romeo', 'lane');
    const tybalt = await online(ts, 'tybalt', 'pw-tybalt', 'lane');
    nurse.send(`<presence><status>Busy</status></presence>`);
    nurse.send(`<presence type='unavailable'><status>Heading Home</status></presence>`);
    nurse.send(`</stream:stream>`);
    await nurse.closedPromise;
    const loggedOut = Date.now();
    try {
      // The record is written when the session closes; poll until the server has seen it.
      let r = await iq(romeo, `type='get' to='nurse@localhost'`, `<query xmlns='${L}'/>`);
      for (let i = 0; i < 50 && r.getChild('query', L)?.text() !== 'Heading Home'; i++) {
        await sleep(50);
        r = await iq(romeo, `type='get' to='nurse@localhost'`, `<query xmlns='${L}'/>`);
      }
      assert.equal(r.getChild('query', L)!.text(), 'Heading Home', r.toString());
      await sleep(2100);
      r = await iq(romeo, `type='get' to='nurse@localhost'`, `<query xmlns='${L}'/>`);
      const secs = Number(r.getChild('query', L)!.attr('seconds'));
      assert.ok(secs >= 2 && secs <= Math.ceil((Date.now() - loggedOut) / 1000) + 1, `seconds=${secs}`);
      assert.equal(r.getChild('query', L)!.text(), 'Heading Home');
      assert.equal(condition(await iq(tybalt, `type='get' to='nurse@localhost'`, `<query xmlns='${L}'/>`)), 'forbidden');
    } finally { romeo.destroy(); tybalt.destroy(); }

    await ts.stop(true);
    ts = await startTestServer({}, { dir: ts.dir, modules: [last, roster.module] });
    const romeo2 = await online(ts, 'romeo', 'pw-romeo', 'after');
    try {
      const r = await iq(romeo2, `type='get' to='nurse@localhost'`, `<query xmlns='${L}'/>`);
      const q = r.getChild('query', L)!;
      assert.ok(Number(q.attr('seconds')) >= Math.floor((Date.now() - loggedOut) / 1000) - 1 && Number(q.attr('seconds')) >= 2, r.toString());
      assert.equal(q.text(), 'Heading Home');
    } finally { romeo2.destroy(); }
  });

  it('a logout without an unavailable presence records the time and no status; an account never seen is item-not-found', async () => {
    await allow('friar', 'romeo');
    const romeo = await online(ts, 'romeo', 'pw-romeo', 'cell');
    try {
      const never = await iq(romeo, `type='get' to='friar@localhost'`, `<query xmlns='${L}'/>`);
      // With a real roster module the subscription handshake logged friar in once already.
      if (roster.inUse()) assert.equal(condition(never), 'item-not-found');
      const friar = await online(ts, 'friar', 'pw-friar', 'cell');
      friar.send(`<presence><status>praying</status></presence>`);
      await iq(friar, `type='get'`, `<query xmlns='${L}'/>`);
      friar.destroy(); // connection lost, no unavailable presence
      // Poll until the session is gone and its logout recorded.
      let r = await iq(romeo, `type='get' to='friar@localhost'`, `<query xmlns='${L}'/>`);
      for (let i = 0; i < 50 && (ts.server.sessions.resources('friar@localhost').length > 0 || r.attr('type') !== 'result'); i++) {
        await sleep(50);
        r = await iq(romeo, `type='get' to='friar@localhost'`, `<query xmlns='${L}'/>`);
      }
      assert.equal(r.attr('type'), 'result', r.toString());
      assert.equal(r.getChild('query', L)!.text(), '', 'no status: the available presence\'s text is not a logout status');
    } finally { romeo.destroy(); }
  });

  it('slixmpp (xep_0012) reads the server\'s uptime and a contact\'s last activity', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const s = new SlixServices({ jid: 'romeo@localhost/py', password: 'pw-romeo', port: ts.port });
    try {
      await s.next((e) => e.event === 'session_start');
      const up = await s.run({ cmd: 'last_get', jid: 'localhost' }, 'last');
      assert.equal(up.event, 'last', JSON.stringify(up));
      assert.ok((up.seconds as number) >= 0);
      const nurse = await s.run({ cmd: 'last_get', jid: 'nurse@localhost' }, 'last');
      assert.equal(nurse.status, 'Heading Home');
      assert.ok((nurse.seconds as number) >= 2);
    } finally { await s.quit(); }
  });
});
