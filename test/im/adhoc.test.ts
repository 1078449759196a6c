// Ad-hoc commands (XEP-0050) and service administration (XEP-0133) end to end: the command list
// by privilege (§2.2; admins from hosts[].admins), a command node's disco#info (§2.3), the
// two-stage flow with a sessionid (§3.3, §3.4), cancel, the errors of §4.6 (bad-sessionid,
// session-expired, bad-action, malformed-action, bad-payload, forbidden) and the per-account
// session limit; then each XEP-0133 command acting for real (a created account logs in, a
// changed password is the one that works, deleted accounts are gone and their sessions
// closed, online counts and lists, an announcement reaching online users), and slixmpp's
// xep_0050 plugin driving Add User.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { online, iq, condition } from './services-helpers.js';

const CMD = 'http://jabber.org/protocol/commands';
const ADMIN = 'http://jabber.org/protocol/admin';
const XDATA = 'jabber:x:data';
const INFO = 'http://jabber.org/protocol/disco#info';
const ITEMS = 'http://jabber.org/protocol/disco#items';
const node = (n: string) => `${ADMIN}#${n}`;
const ALL = ['add-user', 'delete-user', 'change-user-password', 'get-registered-users-num', 'get-online-users-num', 'get-online-users-list', 'announce'].map(node);

type Fields = Record<string, string | string[]>;
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');
const submit = (fields: Fields) => `<x xmlns='${XDATA}' type='submit'><field var='FORM_TYPE'><value>${ADMIN}</value></field>` +
  Object.entries(fields).map(([k, v]) => `<field var='${k}'>${(Array.isArray(v) ? v : [v]).map((x) => `<value>${esc(x)}</value>`).join('')}</field>`).join('') + '</x>';

/** One <command/> request to the server; `attrs` are extra raw attributes (action, sessionid). */
function command(c: RawClient, n: string, attrs = '', inner = ''): Promise<Element> {
  return iq(c, `type='set' to='localhost'`, `<command xmlns='${CMD}' node='${n}' ${attrs}>${inner}</command>`);
}
const cmdOf = (r: Element) => { const c = r.getChild('command', CMD); assert.ok(c, r.toString()); return c; };
const specific = (r: Element) => r.getChild('error')?.elements().find((e) => e.xmlns === CMD)?.name;
const notes = (r: Element) => cmdOf(r).getChildren('note', CMD).map((n) => `${n.attr('type')}: ${n.text()}`);
const resultField = (r: Element, v: string) => cmdOf(r).getChild('x', XDATA)?.getChildren('field', XDATA).find((f) => f.attr('var') === v)?.getChildren('value', XDATA).map((x) => x.text());

/** execute, then complete with `fields` in the session it opened: the completed answer. */
async function run(c: RawClient, n: string, fields: Fields): Promise<Element> {
  const first = await command(c, n);
  assert.equal(cmdOf(first).attr('status'), 'executing', first.toString());
  return command(c, n, `action='complete' sessionid='${cmdOf(first).attr('sessionid')}'`, submit(fields));
}

async function canLogin(ts: TestServer, user: string, password: string): Promise<boolean> {
  const c = await RawClient.connect(ts.port);
  try { await c.login(user, password); return true; } catch { return false; } finally { c.destroy(); }
}

describe('ad-hoc commands and service administration', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({
      hosts: [{ domain: 'localhost', admins: ['admin@localhost', 'boss@localhost'] }],
      modules: { options: { adhoc: { maxSessionsPerUser: 3 }, admin: { maxListedUsers: 2 } } },
    } as never);
    for (const u of ['admin', 'boss', 'alice', 'bob']) await ts.addUser(u, 'pw-' + u);
  });
  after(async () => { await ts.stop(); });

  it('lists the administration commands to admins only; a command node has its disco#info (§2.2, §2.3)', async () => {
    const admin = await online(ts, 'admin', 'pw-admin');
    const alice = await online(ts, 'alice', 'pw-alice');
    try {
      const info = await iq(alice, `type='get' to='localhost'`, `<query xmlns='http://jabber.org/protocol/disco#info'/>`);
      assert.ok(info.getChild('query', INFO)!.getChildren('feature').some((f) => f.attr('var') === CMD));
      const list = await iq(admin, `type='get' to='localhost'`, `<query xmlns='http://jabber.org/protocol/disco#items' node='${CMD}'/>`);
      const items = list.getChild('query', ITEMS)!.getChildren('item');
      assert.deepEqual(items.map((i) => i.attr('node')).sort(), [...ALL].sort());
      assert.ok(items.every((i) => i.attr('jid') === 'localhost' && i.attr('name')));
      const none = await iq(alice, `type='get' to='localhost'`, `<query xmlns='http://jabber.org/protocol/disco#items' node='${CMD}'/>`);
      assert.equal(none.attr('type'), 'result');
      assert.equal(none.getChild('query', ITEMS)!.getChildren('item').length, 0);
      const nodeInfo = await iq(admin, `type='get' to='localhost'`, `<query xmlns='http://jabber.org/protocol/disco#info' node='${node('add-user')}'/>`);
      const q = nodeInfo.getChild('query', INFO)!;
      assert.equal(q.getChild('identity')!.attr('category'), 'automation');
      assert.equal(q.getChild('identity')!.attr('type'), 'command-node');
      assert.deepEqual(q.getChildren('feature').map((f) => f.attr('var')).sort(), [CMD, XDATA]);
      assert.equal(condition(await iq(alice, `type='get' to='localhost'`, `<query xmlns='http://jabber.org/protocol/disco#info' node='${node('add-user')}'/>`)), 'forbidden');
      assert.equal(condition(await iq(admin, `type='get' to='localhost'`, `<query xmlns='http://jabber.org/protocol/disco#info' node='nope'/>`)), 'item-not-found');
    } finally { admin.destroy(); alice.destroy(); }
  });

  it('a non-admin may run no administration command (forbidden); an unknown node is item-not-found', async () => {
    const alice = await online(ts, 'alice', 'pw-alice');
    try {
      for (const n of ALL) assert.equal(condition(await command(alice, n)), 'forbidden', n);
      assert.equal(condition(await command(alice, 'http://example.com/none')), 'item-not-found');
    } finally { alice.destroy(); }
  });

  it('add-user: a form in a session, completed with that sessionid; the account then logs in; again is conflict', async () => {
    const admin = await online(ts, 'admin', 'pw-admin');
    try {
      const first = await command(admin, node('add-user'));
      const c = cmdOf(first);
      assert.equal(c.attr('status'), 'executing');
      const sid = c.attr('sessionid')!;
      assert.ok(sid);
      assert.equal(c.getChild('actions', CMD)!.attr('execute'), 'complete');
      assert.deepEqual(c.getChild('actions', CMD)!.elements().map((e) => e.name), ['complete']);
      const form = c.getChild('x', XDATA)!;
      assert.equal(form.attr('type'), 'form');
      assert.deepEqual(form.getChildren('field', XDATA).map((f) => f.attr('var')), ['FORM_TYPE', 'accountjid', 'password', 'password-verify']);
      const done = await command(admin, node('add-user'), `action='complete' sessionid='${sid}'`, submit({ accountjid: 'Carol@localhost', password: 's3cret', 'password-verify': 's3cret' }));
      assert.equal(cmdOf(done).attr('status'), 'completed', done.toString());
      assert.equal(cmdOf(done).attr('sessionid'), sid);
      assert.ok(await canLogin(ts, 'carol', 's3cret'));
      // The completed session is over (§4.6 session-expired).
      const late = await command(admin, node('add-user'), `action='complete' sessionid='${sid}'`, submit({ accountjid: 'dave@localhost', password: 'x' }));
      assert.equal(condition(late), 'not-allowed');
      assert.equal(specific(late), 'session-expired');
      const again = await run(admin, node('add-user'), { accountjid: 'carol@localhost', password: 'other', 'password-verify': 'other' });
      assert.equal(condition(again), 'conflict');
      assert.ok(await canLogin(ts, 'carol', 's3cret'));
      // A form that does not fit is bad-payload: mismatched passwords, another host's JID, no form.
      for (const f of [{ accountjid: 'erin@localhost', password: 'a', 'password-verify': 'b' }, { accountjid: 'erin@elsewhere.example', password: 'a' }, { accountjid: 'erin@localhost' }]) {
        const r = await run(admin, node('add-user'), f);
        assert.equal(condition(r), 'bad-request', JSON.stringify(f));
        assert.equal(specific(r), 'bad-payload');
      }
      const sid2 = cmdOf(await command(admin, node('add-user'))).attr('sessionid')!;
      const noForm = await command(admin, node('add-user'), `action='complete' sessionid='${sid2}'`);
      assert.equal(specific(noForm), 'bad-payload');
      assert.equal(await canLogin(ts, 'erin', 'a'), false);
    } finally { admin.destroy(); }
  });

  it('cancel ends a session (status canceled); bad, foreign and ended sessionids, unoffered and unknown actions are refused (§4.6)', async () => {
    const admin = await online(ts, 'admin', 'pw-admin', 'one');
    const admin2 = await online(ts, 'admin', 'pw-admin', 'two');
    try {
      const sid = cmdOf(await command(admin, node('change-user-password'))).attr('sessionid')!;
      // Another resource of the same account does not own this session.
      const foreign = await command(admin2, node('change-user-password'), `action='complete' sessionid='${sid}'`, submit({ accountjid: 'bob@localhost', password: 'hijack' }));
      assert.equal(condition(foreign), 'bad-request');
      assert.equal(specific(foreign), 'bad-sessionid');
      // Nor is it a session of another command.
      assert.equal(specific(await command(admin, node('add-user'), `action='complete' sessionid='${sid}'`, submit({ accountjid: 'x@localhost', password: 'x' }))), 'bad-sessionid');
      const prev = await command(admin, node('change-user-password'), `action='prev' sessionid='${sid}'`);
      assert.equal(condition(prev), 'bad-request');
      assert.equal(specific(prev), 'bad-action');
      assert.equal(specific(await command(admin, node('change-user-password'), `action='jump' sessionid='${sid}'`)), 'malformed-action');
      const canceled = await command(admin, node('change-user-password'), `action='cancel' sessionid='${sid}'`);
      assert.equal(cmdOf(canceled).attr('status'), 'canceled');
      assert.equal(cmdOf(canceled).attr('sessionid'), sid);
      const after = await command(admin, node('change-user-password'), `action='complete' sessionid='${sid}'`, submit({ accountjid: 'bob@localhost', password: 'late' }));
      assert.equal(specific(after), 'session-expired');
      const unknown = await command(admin, node('change-user-password'), `action='complete' sessionid='no-such-session'`, submit({ accountjid: 'bob@localhost', password: 'x' }));
      assert.equal(condition(unknown), 'bad-request');
      assert.equal(specific(unknown), 'bad-sessionid');
      assert.equal(specific(await command(admin, node('change-user-password'), `action='complete'`)), 'bad-sessionid');
      assert.ok(await canLogin(ts, 'bob', 'pw-bob'), 'no refused request changed the password');
    } finally { admin.destroy(); admin2.destroy(); }
  });

  it('an account holds at most maxSessionsPerUser open sessions (resource-constraint), freed by cancel', async () => {
    const boss = await online(ts, 'boss', 'pw-boss');
    try {
      const sids: string[] = [];
      for (let i = 0; i < 3; i++) sids.push(cmdOf(await command(boss, node('announce'))).attr('sessionid')!);
      assert.equal(condition(await command(boss, node('announce'))), 'resource-constraint');
      await command(boss, node('announce'), `action='cancel' sessionid='${sids[0]}'`);
      const again = await command(boss, node('announce'));
      assert.equal(cmdOf(again).attr('status'), 'executing');
      for (const s of [...sids.slice(1), cmdOf(again).attr('sessionid')!]) await command(boss, node('announce'), `action='cancel' sessionid='${s}'`);
    } finally { boss.destroy(); }
  });

  it('change-user-password: the new password works, the old one no longer; a missing account is item-not-found', async () => {
    await ts.addUser('frank', 'old-pw');
    const admin = await online(ts, 'admin', 'pw-admin');
    try {
      // action='execute' with the sessionid means the offered default (complete).
      const sid = cmdOf(await command(admin, node('change-user-password'))).attr('sessionid')!;
      const r = await command(admin, node('change-user-password'), `action='execute' sessionid='${sid}'`, submit({ accountjid: 'frank@localhost', password: 'new-pw' }));
      assert.equal(cmdOf(r).attr('status'), 'completed', r.toString());
      assert.ok(await canLogin(ts, 'frank', 'new-pw'));
      assert.equal(await canLogin(ts, 'frank', 'old-pw'), false);
      assert.equal(condition(await run(admin, node('change-user-password'), { accountjid: 'nobody@localhost', password: 'x' })), 'item-not-found');
    } finally { admin.destroy(); }
  });

  it('delete-user: several accounts at once, their sessions closed, a missing one reported; registered count follows', async () => {
    await ts.addUser('gina', 'pw-gina');
    await ts.addUser('hank', 'pw-hank');
    const admin = await online(ts, 'admin', 'pw-admin');
    const gina = await online(ts, 'gina', 'pw-gina');
    try {
      const count = async () => Number(resultField(await command(admin, node('get-registered-users-num')), 'registeredusersnum')![0]);
      const before = await count();
      const r = await run(admin, node('delete-user'), { accountjids: ['gina@localhost', 'hank@localhost', 'ghost@localhost'] });
      assert.equal(cmdOf(r).attr('status'), 'completed', r.toString());
      assert.deepEqual(notes(r), ['info: deleted: gina@localhost, hank@localhost', 'warn: no such account: ghost@localhost']);
      await gina.waitText(/not-authorized/);
      assert.equal(await canLogin(ts, 'gina', 'pw-gina'), false);
      assert.equal(await canLogin(ts, 'hank', 'pw-hank'), false);
      assert.equal(await count(), before - 2);
      // One bad JID and nothing is deleted.
      await ts.addUser('ivan', 'pw-ivan');
      assert.equal(specific(await run(admin, node('delete-user'), { accountjids: ['ivan@localhost', 'not a jid@@'] })), 'bad-payload');
      assert.ok(await canLogin(ts, 'ivan', 'pw-ivan'));
    } finally { admin.destroy(); gina.destroy(); }
  });

  it('online users: the number, the list capped by max_items and maxListedUsers; announce reaches every online resource', async () => {
    const admin = await online(ts, 'admin', 'pw-admin');
    const alice = await online(ts, 'alice', 'pw-alice', 'a1');
    const alice2 = await online(ts, 'alice', 'pw-alice', 'a2');
    const bob = await online(ts, 'bob', 'pw-bob');
    try {
      const num = await command(admin, node('get-online-users-num'));
      assert.equal(cmdOf(num).attr('status'), 'completed');
      assert.deepEqual(resultField(num, 'onlineusersnum'), ['3']);
      const all = await run(admin, node('get-online-users-list'), { max_items: 'none' });
      // maxListedUsers is 2 here: two of the three, sorted, and a note saying so.
      assert.deepEqual(resultField(all, 'onlineuserjids'), ['admin@localhost', 'alice@localhost']);
      assert.deepEqual(notes(all), ['info: 2 of 3 online users listed']);
      assert.equal(specific(await run(admin, node('get-online-users-list'), { max_items: '7' })), 'bad-payload');

      const r = await run(admin, node('announce'), { subject: 'Maintenance', announcement: ['Down at 10:00', 'for an hour'] });
      assert.equal(cmdOf(r).attr('status'), 'completed', r.toString());
      // The admin's own copy arrives before the command's answer (which its iq wait consumed past).
      assert.match(admin.text, /<message type="headline" from="localhost" to="admin@localhost\/r"><subject>Maintenance<\/subject>/);
      for (const c of [alice, alice2, bob]) {
        const m = await c.next((e) => e.name === 'message' && e.attr('from') === 'localhost');
        assert.equal(m.attr('type'), 'headline');
        assert.equal(m.getChildText('subject'), 'Maintenance');
        assert.equal(m.getChildText('body'), 'Down at 10:00\nfor an hour');
      }
    } finally { admin.destroy(); alice.destroy(); alice2.destroy(); bob.destroy(); }
  });

  it('slixmpp (xep_0050) lists the commands and runs add-user', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const slix = new SlixClient({ jid: 'admin@localhost/slix', password: 'pw-admin', port: ts.port }, 'slix_adhoc.py');
    try {
      await slix.waitFor((e) => e.event === 'session_start');
      slix.command({ cmd: 'commands', jid: 'localhost' });
      const list = await slix.waitFor((e) => e.event === 'commands' || e.event === 'error');
      assert.equal(list.event, 'commands', JSON.stringify(list));
      assert.deepEqual((list.items as string[][]).map((i) => i[1]).sort(), [...ALL].sort());
      slix.command({ cmd: 'run', jid: 'localhost', node: node('add-user'), fields: { accountjid: 'slixuser@localhost', password: 'slix-pw', 'password-verify': 'slix-pw' } });
      const ran = await slix.waitFor((e) => e.event === 'ran' || e.event === 'error');
      assert.equal(ran.event, 'ran', JSON.stringify(ran));
      assert.equal(ran.first_status, 'executing');
      assert.equal(ran.status, 'completed');
      assert.equal(ran.sessionid, ran.first_sessionid);
      assert.deepEqual(ran.form_vars, ['FORM_TYPE', 'accountjid', 'password', 'password-verify']);
      assert.ok(await canLogin(ts, 'slixuser', 'slix-pw'));
    } finally { await slix.quit(); }
  });
});
