// XEP-0198 over raw TCP sockets against a started server: enabling, ack counting both ways,
// handled-count-too-high, resumption with retransmission after an abrupt disconnect, takeover
// of a stale connection, failures (expired, unknown, another account's id, enable twice,
// resume after bind), the death policy for unacknowledged stanzas, and the queue limit.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, type TestServer } from '../support/server.js';
import { take, none, iq, chat, byId, befriend, login, isPresence, errorCondition, sleep } from '../im/roster-helpers.js';
import { SM, STANZAS, isSm, authOnly, bind, smLogin, serverH, sessionOf, waitFor, streamErrorCondition } from './sm-helpers.js';

const DELAY = 'urn:xmpp:delay';
const smOptions = (o: Record<string, unknown>) => ({ modules: { options: { 'stream-management': o } } });
const bodies = (els: Element[]) => els.filter((e) => e.name === 'message').map((e) => e.getChildText('body'));

describe('XEP-0198 stream management', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer(smOptions({ requestAfter: 5, maxUnacked: 50 }));
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin']) await ts.addUser(u, 'pw');
    await befriend(ts, 'alice', 'bob');
  });
  after(async () => { await ts.stop(); });

  it('advertises <sm/> after authentication only; enable before bind, twice, and resume after bind fail', async () => {
    const { c, features } = await authOnly(ts, 'carol');
    assert.ok(features.getChild('sm', SM), 'sm offered after SASL: ' + features.toString());
    assert.ok(!c.text.slice(0, c.text.indexOf('<success')).includes(SM), 'not offered before authentication');
    c.send(`<enable xmlns='${SM}'/>`);
    const f1 = await take(c, isSm('failed'), 'failed before bind');
    assert.ok(f1.getChild('unexpected-request', STANZAS));
    await bind(c, 'x');
    c.send(`<enable xmlns='${SM}'/>`);
    const en = await take(c, isSm('enabled'));
    assert.equal(en.attr('resume'), undefined, 'no resumption unless asked');
    assert.ok(en.attr('id'));
    c.send(`<enable xmlns='${SM}' resume='true'/>`);
    const f2 = await take(c, isSm('failed'), 'failed on second enable');
    assert.ok(f2.getChild('unexpected-request', STANZAS));
    c.send(`<resume xmlns='${SM}' previd='${en.attr('id')}' h='0'/>`);
    const f3 = await take(c, isSm('failed'), 'failed on resume after bind');
    assert.ok(f3.getChild('unexpected-request', STANZAS));
    // The stream is still usable.
    const pong = await iq(c, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
    assert.equal(pong.attr('type'), 'result');
    c.close();
  });

  it('enable with resume answers an unguessable id, resume=true and the max resumption time', async () => {
    const a = await smLogin(ts, 'carol', 'r1', { resume: true, max: 60 });
    const b = await smLogin(ts, 'carol', 'r2', { resume: true });
    assert.equal(a.enabled.attr('resume'), 'true');
    assert.equal(a.enabled.attr('max'), '60', 'the client may ask for less');
    assert.equal(b.enabled.attr('max'), '300', 'the server default');
    const id = a.enabled.attr('id')!;
    assert.ok(id.length >= 20 && id !== b.enabled.attr('id'));
    // 'r1' alone would be found in a random id about once in 170 runs: look for the JID's parts that cannot be chance.
    assert.ok(!id.includes('carol') && !id.includes('localhost'), 'opaque');
    a.c.close(); b.c.close();
  });

  it('counts stanzas both ways: <r/> answered with h, server requests acks, acks trim the queue', async () => {
    const { c, jid } = await smLogin(ts, 'dave', 'desk', { presence: false });
    // Inbound: three stanzas (two messages, a ping) handled.
    c.send(chat('erin@localhost', 'd1'));
    c.send(chat('erin@localhost', 'd2'));
    await iq(c, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost'); // one in, one (the result) out
    assert.equal(await serverH(c), 3);
    const sm = sessionOf(ts, jid)!.data.get('stream-management') as { queue: { length: number; sent: number } };
    assert.equal(sm.queue.sent, 1);
    // Outbound: the server asks for an ack once requestAfter (5) stanzas are unacknowledged.
    const e = await login(ts, 'erin', 'web');
    for (let i = 0; i < 5; i++) e.send(chat(jid, `e${i}`));
    const r = await take(c, isSm('r'), 'server <r/>');
    assert.ok(r);
    assert.equal(sm.queue.length, 6);
    c.send(`<a xmlns='${SM}' h='4'/>`);
    await waitFor(() => sm.queue.length === 2, 'queue trimmed to 2');
    c.send(`<a xmlns='${SM}' h='6'/>`);
    await waitFor(() => sm.queue.length === 0, 'queue empty');
    // An <r/> from the client never counts as a stanza.
    assert.equal(await serverH(c), 3);
    assert.equal(await serverH(c), 3);
    c.close(); e.close();
  });

  it('an h higher than what was sent ends the stream with handled-count-too-high', async () => {
    const { c } = await smLogin(ts, 'erin', 'too-high', { presence: false });
    await iq(c, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
    c.send(`<a xmlns='${SM}' h='5'/>`);
    await c.waitClosed(8000);
    assert.equal(streamErrorCondition(c), 'undefined-condition');
    const err = c.elements.find((x) => x.name === 'error')!;
    const hc = err.getChild('handled-count-too-high', SM);
    assert.ok(hc, err.toString());
    assert.equal(hc.attr('h'), '5');
    assert.equal(hc.attr('send-count'), '1');
  });

  it('resumes after an abrupt disconnect: same JID and presence, every missed stanza once and in order', async () => {
    const bob = await login(ts, 'bob', 'pc');
    bob.send(`<presence/>`);
    const { c, jid, enabled } = await smLogin(ts, 'alice', 'phone', { resume: true });
    await take(bob, isPresence(undefined, jid), 'alice available at bob');
    bob.send(chat(jid, 'm1'));
    await take(c, byId('m1'), 'm1');
    const h1 = await serverH(c); // the client's own stanzas: presence
    c.destroy();
    const session = sessionOf(ts, jid)!;
    await waitFor(() => session.suspended, 'suspended');
    assert.ok(session.presence, 'presence kept while hibernating');
    for (const id of ['m2', 'm3', 'm4']) bob.send(chat(jid, id));
    await none(bob, isPresence('unavailable', jid), 'unavailable presence while hibernating', 500);
    // The client never acked: the queue holds what it saw (presences, m1) and m2..m4.
    const seen = c.elements.slice(c.elements.findIndex(isSm('enabled'))).filter((e) => ['message', 'presence', 'iq'].includes(e.name)).length;
    const q = (session.data.get('stream-management') as { queue: { length: number } }).queue;
    await waitFor(() => q.length === seen + 3, `queued while hibernating (${q.length} vs ${seen}+3)`);
    const { c: c2, features } = await authOnly(ts, 'alice');
    assert.ok(features.getChild('sm', SM));
    c2.send(`<resume xmlns='${SM}' previd='${enabled.attr('id')}' h='${seen}'/>`);
    const resumed = await take(c2, isSm('resumed'), 'resumed');
    assert.equal(resumed.attr('previd'), enabled.attr('id'));
    assert.equal(Number(resumed.attr('h')), h1);
    await take(c2, byId('m4'), 'm4');
    assert.deepEqual(bodies(c2.elements), ['m2', 'm3', 'm4'], 'each once, in order, m1 not again');
    assert.equal(sessionOf(ts, jid), session, 'the same session');
    assert.equal(session.suspended, false);
    // No bind: stanzas flow both ways on the resumed session.
    c2.send(chat('bob@localhost', 'back'));
    const back = await take(bob, byId('back'));
    assert.equal(back.attr('from'), jid);
    bob.send(chat(jid, 'm5'));
    await take(c2, byId('m5'));
    c2.send(`<a xmlns='${SM}' h='${seen + 4}'/>`);
    // A clean </stream> ends the session for good: presence unavailable at once.
    c2.send('</stream:stream>');
    await take(bob, isPresence('unavailable', jid), 'unavailable at the end');
    assert.ok(session.closed);
    bob.close();
  });

  it('a resume while the old connection is still open takes the session over (conflict on the old one)', async () => {
    const { c, jid, enabled } = await smLogin(ts, 'carol', 'laptop', { resume: true, presence: false });
    const e = await login(ts, 'erin', 'takeover');
    e.send(chat(jid, 't1'));
    await take(c, byId('t1'));
    const { c: c2 } = await authOnly(ts, 'carol');
    c2.send(`<resume xmlns='${SM}' previd='${enabled.attr('id')}' h='0'/>`);
    await take(c2, isSm('resumed'));
    await take(c2, byId('t1'), 't1 retransmitted (never acked)');
    await c.waitClosed(8000);
    assert.equal(streamErrorCondition(c), 'conflict');
    await sleep(100);
    const s = sessionOf(ts, jid)!;
    assert.ok(s && !s.closed && !s.suspended, 'the session lives on the new stream');
    e.send(chat(jid, 't2'));
    await take(c2, byId('t2'));
    c2.close(); e.close();
  });

  it('resume failures: unknown id, another account\'s id, an expired id (with h)', async () => {
    const short = await startTestServer(smOptions({ maxResumeSeconds: 1 }));
    try {
      await short.addUser('u1', 'pw'); await short.addUser('u2', 'pw');
      const a = await smLogin(short, 'u1', 'r', { resume: true, max: 1 });
      const b = await smLogin(short, 'u2', 'r', { resume: true });
      // Another account's live id: item-not-found, and it leaves that session alone.
      const { c: x } = await authOnly(short, 'u1');
      x.send(`<resume xmlns='${SM}' previd='${b.enabled.attr('id')}' h='0'/>`);
      const f1 = await take(x, isSm('failed'));
      assert.ok(f1.getChild('item-not-found', STANZAS));
      assert.equal(f1.attr('h'), undefined);
      assert.ok(!sessionOf(short, b.jid)!.closed);
      x.send(`<resume xmlns='${SM}' previd='made-up' h='0'/>`);
      const f2 = await take(x, isSm('failed'));
      assert.ok(f2.getChild('item-not-found', STANZAS));
      // The stream stays usable: bind after a failed resume (§5).
      await bind(x, 'after-failed');
      // Expired: drop u1's connection, wait past max (1 s).
      a.c.send(`<iq type='get' id='p' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
      await take(a.c, byId('p'));
      a.c.destroy();
      const s = sessionOf(short, a.jid)!;
      await waitFor(() => s.suspended, 'suspended');
      await waitFor(() => s.closed, 'expired', 8000);
      const { c: y } = await authOnly(short, 'u1');
      y.send(`<resume xmlns='${SM}' previd='${a.enabled.attr('id')}' h='0'/>`);
      const f3 = await take(y, isSm('failed'));
      assert.ok(f3.getChild('item-not-found', STANZAS));
      assert.equal(f3.attr('h'), '2', 'presence and ping were handled before the timeout');
      // u2 may not learn u1's h.
      const { c: z } = await authOnly(short, 'u2');
      z.send(`<resume xmlns='${SM}' previd='${a.enabled.attr('id')}' h='0'/>`);
      assert.equal((await take(z, isSm('failed'))).attr('h'), undefined);
      for (const c of [x, y, z, b.c]) c.close();
    } finally { await short.stop(); }
  });

  it('death policy: unacknowledged messages go offline (delivered later with a delay), others bounce', async () => {
    const short = await startTestServer(smOptions({ maxResumeSeconds: 1 }));
    try {
      await short.addUser('amy', 'pw'); await short.addUser('ben', 'pw');
      const ben = await login(short, 'ben', 'pc');
      const { c, jid } = await smLogin(short, 'amy', 'phone', { resume: true });
      ben.send(chat(jid, 'o1'));
      ben.send(`<message to='${jid}' type='chat' id='state'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`);
      ben.send(`<iq to='${jid}' type='get' id='ver'><query xmlns='jabber:iq:version'/></iq>`);
      await take(c, byId('ver'));
      c.destroy();
      const s = sessionOf(short, jid)!;
      await waitFor(() => s.suspended, 'suspended');
      ben.send(chat(jid, 'o2'));
      ben.send(`<message to='${jid}' type='normal' id='o3'><body>o3</body></message>`);
      await waitFor(() => s.closed, 'expired', 8000);
      const iqErr = await take(ben, (e) => e.attr('id') === 'ver' && e.attr('type') === 'error', 'iq bounced');
      assert.equal(errorCondition(iqErr), 'service-unavailable');
      const stErr = await take(ben, (e) => e.attr('id') === 'state' && e.attr('type') === 'error', 'body-less message bounced');
      assert.equal(errorCondition(stErr), 'recipient-unavailable');
      await none(ben, (e) => e.attr('type') === 'error' && ['o1', 'o2', 'o3'].includes(e.attr('id')!), 'bounce of a stored message', 300);
      // Next login: the three messages, in order, each with a delay.
      const again = await login(short, 'amy', 'tablet');
      again.send(`<presence/>`);
      await take(again, byId('o3'), 'o3 from offline storage', 8000);
      const msgs = again.elements.filter((e) => e.name === 'message');
      assert.deepEqual(msgs.map((m) => m.attr('id')), ['o1', 'o2', 'o3']);
      for (const m of msgs) assert.ok(m.getChild('delay', DELAY), 'delayed: ' + m.toString());
      again.close(); ben.close();
    } finally { await short.stop(); }
  });

  it('death policy on a clean close: unacked messages are re-routed to another available resource', async () => {
    const other = await login(ts, 'erin', 'other');
    other.send(`<presence/>`);
    await take(other, isPresence(undefined, 'erin@localhost/other'));
    const { c, jid } = await smLogin(ts, 'erin', 'leaving');
    const d = await login(ts, 'dave', 'sender');
    d.send(chat(jid, 'x1'));
    await take(c, byId('x1'));
    c.send('</stream:stream>');
    await c.waitClosed(8000);
    const x1 = await take(other, byId('x1'), 'x1 re-routed to the other resource');
    assert.ok(x1.getChild('delay', DELAY), 'with the original time');
    assert.equal(x1.getChildText('body'), 'x1');
    other.close(); d.close();
  });

  it('exceeding the unacked queue limit ends the stream with resource-constraint; the messages are kept', async () => {
    const lim = await startTestServer(smOptions({ maxUnacked: 3, requestAfter: 100 }));
    try {
      await lim.addUser('q', 'pw'); await lim.addUser('s', 'pw');
      const { c, jid } = await smLogin(lim, 'q', 'slow', { presence: false });
      const s = await login(lim, 's', 'pc');
      for (let i = 1; i <= 4; i++) s.send(chat(jid, `q${i}`));
      await c.waitClosed(8000);
      assert.equal(streamErrorCondition(c), 'resource-constraint');
      const again = await login(lim, 'q', 'fresh');
      again.send('<presence/>');
      await take(again, byId('q4'), 'queued messages stored offline', 8000);
      assert.deepEqual(bodies(again.elements), ['q1', 'q2', 'q3', 'q4']);
      again.close(); s.close();
    } finally { await lim.stop(); }
  });

  it('limits hibernated sessions per account: the oldest ends', async () => {
    const lim = await startTestServer(smOptions({ maxHibernatedPerAccount: 1 }));
    try {
      await lim.addUser('h', 'pw');
      const a = await smLogin(lim, 'h', 'one', { resume: true });
      const b = await smLogin(lim, 'h', 'two', { resume: true });
      a.c.destroy();
      const sa = sessionOf(lim, a.jid)!;
      await waitFor(() => sa.suspended, 'first suspended');
      b.c.destroy();
      const sb = sessionOf(lim, b.jid)!;
      await waitFor(() => sb.suspended, 'second suspended');
      await waitFor(() => sa.closed, 'first ended');
      assert.ok(!sb.closed);
    } finally { await lim.stop(); }
  });
});
