// In-band registration (XEP-0077, modules/register) over real sockets: account creation before
// authentication (off by default, per host, TLS or loopback only, per-address quota and
// allow-list, judged on the address a PROXY protocol balancer reports), password change and
// cancellation by an authenticated user, and interoperability with slixmpp's XEP-0077 plugin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { befriend, errorCondition, iq, items, login, rosterGet, take } from '../im/roster-helpers.js';

const NS = 'jabber:iq:register';
const FEATURE = 'http://jabber.org/features/iq-register';
const query = (inner = '') => `<query xmlns='${NS}'>${inner}</query>`;
const creds = (user: string, password: string) => query(`<username>${user}</username><password>${password}</password>`);
const withRegister = (options: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ ...extra, modules: { options: { register: options } } });
const DISCO_INFO = 'http://jabber.org/protocol/disco#info';
const discoFeatures = (r: Element): string[] => r.getChild('query', DISCO_INFO)!.getChildren('feature', DISCO_INFO).map((f) => f.attr('var')!);
const exists = (ts: TestServer, user: string) => ts.server.accounts.userExists('localhost', user);

/** A fresh unauthenticated stream; resolves with its features. */
async function fresh(c: RawClient): Promise<Element> {
  c.open();
  return c.next((e) => e.name === 'features');
}

async function proxied(port: number, address: string): Promise<RawClient> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write(`PROXY TCP4 ${address} 127.0.0.1 50000 5222\r\n`);
  return RawClient.fromSocket(sock);
}

/** A proxied client from `address` over STARTTLS, with the features of the encrypted stream. */
async function remoteOverTls(port: number, address: string): Promise<{ c: RawClient; features: Element }> {
  const c = await proxied(port, address);
  await fresh(c);
  await c.startTls();
  return { c, features: await fresh(c) };
}

test('account creation is off by default; the server still offers password changes', async (t) => {
  const ts = await startTestServer();
  t.after(() => ts.stop());
  await ts.addUser('alice', 'pw');
  const c = await RawClient.connect(ts.port);
  const features = await fresh(c);
  assert.equal(features.getChild('register', FEATURE), undefined, 'no registration stream feature: ' + features.toString());
  assert.equal(errorCondition(await iq(c, 'get', query())), 'not-allowed');
  const r = await iq(c, 'set', creds('eve', 'long enough'));
  assert.equal(errorCondition(r), 'not-allowed');
  assert.equal(r.getChild('error')!.attr('code'), '405', 'XEP-0077 §9: legacy error codes too');
  assert.equal(await exists(ts, 'eve'), false);
  // The stream is not harmed: the client may still log in.
  assert.equal((await c.auth('SCRAM-SHA-256', 'alice', 'pw')).name, 'success');
  c.destroy();

  const a = await login(ts, 'alice', 'r');
  const info = await iq(a, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'localhost');
  assert.ok(discoFeatures(info).includes(NS), 'jabber:iq:register in disco#info (§11): ' + info.toString());
  a.destroy();
});

test('creates an account on a loopback stream, then authenticates with SCRAM on the same stream; refusals', async (t) => {
  const ts = await startTestServer(withRegister({ registrationHosts: ['localhost'], maxAttemptsPerConnection: 3 }));
  t.after(() => ts.stop());
  const c = await RawClient.connect(ts.port);
  const features = await fresh(c);
  assert.ok(features.getChild('register', FEATURE), 'registration advertised on loopback: ' + features.toString());

  const form = await iq(c, 'get', query());
  assert.equal(form.attr('type'), 'result', form.toString());
  assert.equal(form.attr('to'), undefined, 'nothing to address on an unauthenticated stream');
  const q = form.getChild('query', NS)!;
  assert.ok(q.getChild('instructions', NS) && q.getChild('username', NS) && q.getChild('password', NS));
  assert.equal(q.getChild('registered', NS), undefined);
  assert.deepEqual(q.getChild('x', 'jabber:x:data')!.getChildren('field').map((f) => f.attr('var')), ['FORM_TYPE', 'username', 'password']);

  const ok = await iq(c, 'set', creds('Newbie', 'correct horse'), 'localhost');
  assert.equal(ok.attr('type'), 'result', ok.toString());
  assert.equal(ok.attr('from'), 'localhost');
  assert.equal(await exists(ts, 'newbie'), true, 'the PRECIS-prepared username');
  // §3.1.1: one account per connection.
  assert.equal(errorCondition(await iq(c, 'set', creds('second', 'correct horse'))), 'not-acceptable');
  assert.equal(await exists(ts, 'second'), false);
  assert.equal((await c.auth('SCRAM-SHA-256', 'newbie', 'correct horse')).name, 'success');
  c.destroy();
  const again = await RawClient.connect(ts.port);
  assert.match(await again.login('newbie', 'correct horse', { resource: 'r' }), /^newbie@localhost\/r$/);
  again.destroy();

  // Conflict, bad passwords, then the per-connection limit (3 refused attempts).
  const d = await RawClient.connect(ts.port);
  await fresh(d);
  const conflict = await iq(d, 'set', creds('newbie', 'a-secret-never-echoed'));
  assert.equal(errorCondition(conflict), 'conflict');
  assert.equal(conflict.getChild('error')!.attr('code'), '409');
  assert.equal(conflict.getChild('query'), undefined, 'the request (with its password) is not copied back');
  assert.ok(!d.text.includes('a-secret-never-echoed'));
  assert.equal(errorCondition(await iq(d, 'set', query('<username>pwless</username><password/>'))), 'not-acceptable', '§3.1: an empty password');
  assert.equal(errorCondition(await iq(d, 'set', creds('shorty', 'short'))), 'not-acceptable', 'minPasswordLength 8');
  assert.equal(errorCondition(await iq(d, 'set', creds('valid', 'long enough'))), 'not-acceptable', 'maxAttemptsPerConnection reached');
  for (const u of ['pwless', 'shorty', 'valid']) assert.equal(await exists(ts, u), false);
  d.destroy();

  const e = await RawClient.connect(ts.port);
  await fresh(e);
  assert.equal(errorCondition(await iq(e, 'set', creds('a b', 'long enough'))), 'not-acceptable', 'not a localpart');
  assert.equal(errorCondition(await iq(e, 'set', creds('x'.repeat(65), 'long enough'))), 'not-acceptable', 'maxUsernameLength 64');
  assert.equal(errorCondition(await iq(e, 'set', query('<password>long enough</password>'))), 'not-acceptable', 'no username');
  e.destroy();

  // §4: a submitted data form; <remove/> before authentication has nothing to remove.
  const f = await RawClient.connect(ts.port);
  await fresh(f);
  assert.equal(errorCondition(await iq(f, 'set', query('<remove/>'))), 'unexpected-request');
  const submitted = await iq(f, 'set', query(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>
    <field var='username'><value>formuser</value></field><field var='password'><value>form password</value></field></x>`));
  assert.equal(submitted.attr('type'), 'result', submitted.toString());
  assert.equal((await f.auth('SCRAM-SHA-1', 'formuser', 'form password')).name, 'success');
  f.destroy();
});

test('remote clients: STARTTLS first, a quota per address, an allow-list (addresses from the PROXY protocol)', async (t) => {
  const ts = await startTestServer({
    listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0, proxyProtocol: { trusted: ['127.0.0.1'], timeoutMs: 1000 } }],
    ...withRegister({ registrationHosts: ['localhost'], maxPerAddress: 2, allowFrom: ['198.51.100.0/24'] }),
  });
  t.after(() => ts.stop());

  // Not encrypted and not loopback: no feature, and not-authorized (§3.3's unsafe channel).
  const plain = await proxied(ts.port, '198.51.100.1');
  const pf = await fresh(plain);
  assert.equal(pf.getChild('register', FEATURE), undefined);
  assert.equal(errorCondition(await iq(plain, 'get', query())), 'not-authorized');
  assert.equal(errorCondition(await iq(plain, 'set', creds('plainuser', 'long enough'))), 'not-authorized');
  plain.destroy();
  assert.equal(await exists(ts, 'plainuser'), false);

  const created: string[] = [];
  for (const [i, user] of ['r1', 'r2', 'r3'].entries()) {
    const { c, features } = await remoteOverTls(ts.port, '198.51.100.1');
    assert.ok(features.getChild('register', FEATURE), 'advertised once encrypted');
    const r = await iq(c, 'set', creds(user, 'long enough'));
    if (i < 2) { assert.equal(r.attr('type'), 'result', r.toString()); created.push(user); } else {
      assert.equal(errorCondition(r), 'policy-violation', 'maxPerAddress 2: ' + r.toString());
      assert.equal(r.getChild('error')!.attr('type'), 'wait');
    }
    c.destroy();
  }
  assert.deepEqual(created, ['r1', 'r2']);
  assert.equal(await exists(ts, 'r3'), false);
  // Another address has its own quota.
  const other = await remoteOverTls(ts.port, '198.51.100.2');
  assert.equal((await iq(other.c, 'set', creds('r3', 'long enough'))).attr('type'), 'result');
  other.c.destroy();

  // Outside allowFrom: not advertised, forbidden.
  const outside = await remoteOverTls(ts.port, '203.0.113.5');
  assert.equal(outside.features.getChild('register', FEATURE), undefined);
  assert.equal(errorCondition(await iq(outside.c, 'set', creds('outsider', 'long enough'))), 'forbidden');
  outside.c.destroy();
  assert.equal(await exists(ts, 'outsider'), false);
});

test('password change: SCRAM keys replaced, other sessions reset, only for oneself', async (t) => {
  const ts = await startTestServer();
  t.after(() => ts.stop());
  await ts.addUser('alice', 'pw');
  await ts.addUser('bob', 'pw');
  const a1 = await login(ts, 'alice', 'phone');
  const a2 = await login(ts, 'alice', 'laptop');
  const b = await login(ts, 'bob', 'desk');

  const reg = (await iq(a1, 'get', query())).getChild('query', NS)!;
  assert.ok(reg.getChild('registered', NS), '§3.1: an authenticated user is registered');
  assert.equal(reg.getChildText('username', NS), 'alice');

  const r = await iq(a1, 'set', creds('alice', 'new password 1'), 'localhost');
  assert.equal(r.attr('type'), 'result', r.toString());
  await a2.waitText(/<reset xmlns=.urn:ietf:params:xml:ns:xmpp-streams.\/>/);
  await a2.waitClosed();
  assert.equal((await iq(a1, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost')).attr('type'), 'result', 'the session that changed it stays');
  const old = await RawClient.connect(ts.port);
  await fresh(old);
  assert.equal((await old.auth('SCRAM-SHA-256', 'alice', 'pw')).name, 'failure', 'the old password no longer works');
  old.destroy();
  (await login(ts, 'alice', 'again', 'new password 1')).destroy();

  // Nobody changes someone else's password, nor a password to nothing.
  assert.equal(errorCondition(await iq(b, 'set', creds('alice', 'bob-owns-alice'))), 'not-authorized');
  assert.equal(errorCondition(await iq(b, 'set', creds('bob', 'bob-owns-alice'), 'alice@localhost')), 'not-authorized');
  assert.equal(errorCondition(await iq(b, 'set', query('<username>bob</username><password/>'))), 'bad-request');
  assert.equal(errorCondition(await iq(b, 'set', creds('bob', 'short'))), 'not-acceptable');
  assert.ok(!b.text.includes('bob-owns-alice'), 'errors do not copy the password back');
  // The changepassword form (§14.3): a wrong old password is refused, the right one accepted.
  const changeForm = (old: string) => query(`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>jabber:iq:register:changepassword</value></field>
    <field var='username'><value>bob@localhost</value></field><field var='old_password'><value>${old}</value></field><field var='password'><value>bob password 2</value></field></x>`);
  assert.equal(errorCondition(await iq(b, 'set', changeForm('wrong'))), 'not-authorized');
  (await login(ts, 'bob', 'check', 'pw')).destroy();
  assert.equal((await iq(b, 'set', changeForm('pw'))).attr('type'), 'result');
  (await login(ts, 'bob', 'check2', 'bob password 2')).destroy();
  for (const c of [a1, b]) c.destroy();
});

test('password change and cancellation can be turned off (not-allowed)', async (t) => {
  const ts = await startTestServer(withRegister({ passwordChange: false, cancellation: false }));
  t.after(() => ts.stop());
  await ts.addUser('alice', 'pw');
  const a = await login(ts, 'alice', 'r');
  assert.equal(errorCondition(await iq(a, 'set', creds('alice', 'new password 1'))), 'not-allowed');
  assert.equal(errorCondition(await iq(a, 'set', query('<remove/>'))), 'not-allowed');
  assert.equal(await exists(ts, 'alice'), true);
  const info = await iq(a, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'localhost');
  assert.ok(!discoFeatures(info).includes(NS), 'nothing in-band left to advertise: ' + info.toString());
  a.destroy();
});

test('cancellation: result, <not-authorized/> to every session, account, roster and subscriptions gone', async (t) => {
  const ts = await startTestServer();
  t.after(() => ts.stop());
  await ts.addUser('alice', 'pw');
  await ts.addUser('bob', 'pw');
  await befriend(ts, 'alice', 'bob');
  const b = await login(ts, 'bob', 'desk');
  await rosterGet(b); // interested: bob's client gets roster pushes
  const a1 = await login(ts, 'alice', 'one');
  const a2 = await login(ts, 'alice', 'two');

  assert.equal(errorCondition(await iq(a1, 'set', query('<remove/><username>alice</username>'))), 'bad-request', '<remove/> must be alone');
  const r = await iq(a1, 'set', query('<remove/>'));
  assert.equal(r.attr('type'), 'result', r.toString());
  for (const c of [a1, a2]) {
    await c.waitText(/<not-authorized xmlns=.urn:ietf:params:xml:ns:xmpp-streams.\/>/);
    await c.waitClosed();
  }
  assert.equal(await exists(ts, 'alice'), false);
  assert.equal((await ts.server.storage.map.getAll('localhost', 'alice', 'roster')).size, 0, 'the roster went with the account');
  // §3.2: bob's subscriptions with alice were cancelled (unsubscribe and unsubscribed).
  await take(b, (e) => e.name === 'iq' && e.attr('type') === 'set' && items(e).some((i) => i.jid === 'alice@localhost' && i.subscription === 'none'), 'roster push: alice none');
  assert.equal(items(await rosterGet(b)).find((i) => i.jid === 'alice@localhost')?.subscription, 'none');
  const gone = await RawClient.connect(ts.port);
  await fresh(gone);
  assert.equal((await gone.auth('SCRAM-SHA-256', 'alice', 'pw')).name, 'failure');
  gone.destroy();
  b.destroy();
});

test('slixmpp: registers with its XEP-0077 plugin, logs in, changes its password, unregisters', async (t) => {
  if (!slixmppAvailable()) return skipOrFail(t, 'slixmpp is not installed');
  const ts = await startTestServer(withRegister({ registrationHosts: ['localhost'] }));
  t.after(() => ts.stop());
  const script = fileURLToPath(new URL('./slix_register.py', import.meta.url));
  const s = new SlixClient({ jid: 'slixuser@localhost', password: 'slix password 1', port: ts.port }, script);
  t.after(() => s.quit());
  const form = await s.waitFor((e) => e.event === 'form');
  assert.deepEqual(form.fields, ['password', 'username']);
  await s.waitFor((e) => e.event === 'registered');
  await s.waitFor((e) => e.event === 'session_start');
  assert.equal(await exists(ts, 'slixuser'), true);

  // The same username again: conflict, then slixmpp's SASL fails with its own password.
  const dup = new SlixClient({ jid: 'slixuser@localhost', password: 'another password', port: ts.port }, script);
  t.after(() => dup.quit());
  assert.equal((await dup.waitFor((e) => e.event === 'register_error')).condition, 'conflict');
  await dup.waitFor((e) => e.event === 'failed_auth');

  let mark = s.mark();
  s.command({ cmd: 'passwd', password: 'slix password 2' });
  await s.waitFor((e) => e.event === 'passwd' || e.event === 'error', 15000, mark).then((e) => assert.equal(e.event, 'passwd', JSON.stringify(e)));
  (await login(ts, 'slixuser', 'raw', 'slix password 2')).destroy();

  mark = s.mark();
  s.command({ cmd: 'unregister' });
  await s.waitFor((e) => e.event === 'unregistered' || e.event === 'error', 15000, mark).then((e) => assert.equal(e.event, 'unregistered', JSON.stringify(e)));
  await s.waitFor((e) => e.event === 'disconnected', 15000, mark);
  assert.equal(await exists(ts, 'slixuser'), false);
});
