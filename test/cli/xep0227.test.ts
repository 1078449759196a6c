// XEP-0227 end to end through the `magpie` command: real export files from ejabberd 23.01
// (export_piefxis, plaintext and SCRAM password storage) and Prosody 0.12 (prosody-migrator to
// the xep0227 store) imported, then a login with the original passwords over a real socket and
// the roster, vCard, offline messages, subscription requests and bookmarks read back as a client
// sees them. Then Magpie to Magpie: SQLite -> export -> PostgreSQL -> import -> export again,
// identical. And hostile or broken files: an entity bomb, XInclude outside the directory, bad
// JIDs, a dry run.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import pg from 'pg';
import { RawClient } from '../support/raw-client.js';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { pgTestUrl } from '../support/postgres.js';
import { ejabberdAvailable, ejabberdExport, prosodyAvailable, prosodyExport } from '../support/pie-peers.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'packages/server/src/cli/main.ts');
const ARGS = ['--conditions=magpie-src', '--import', import.meta.resolve('tsx'), MAIN];

function magpie(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [...ARGS, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
function freePort(): Promise<number> {
  return new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => res(p)); }); });
}
/** A Magpie data directory for `domain` with its config file; SQLite unless `storage` is given. */
function magpieDir(domain: string, storage = ''): { dir: string; cfg: string } {
  const dir = mkdtempSync(join(tmpdir(), 'magpie-pie-'));
  const cfg = join(dir, 'magpie.yaml');
  writeFileSync(cfg, `hosts:\n  - domain: ${domain}\ndataDir: ${dir}\nlog: { level: warn }\n${storage}`);
  return { dir, cfg };
}

const iq = async (c: RawClient, id: string, body: string, type = 'get') => {
  c.send(`<iq type='${type}' id='${id}'>${body}</iq>`);
  return c.next((e) => e.name === 'iq' && e.attr('id') === id);
};

describe('XEP-0227 import from ejabberd', () => {
  let ej: string; let m: { dir: string; cfg: string }; let server: TestServer | undefined;
  before(() => { ej = mkdtempSync(join(tmpdir(), 'magpie-ej-')); chmodAll(ej); m = magpieDir('ej.test'); });
  after(async () => { await server?.stop(); rmSync(ej, { recursive: true, force: true }); rmSync(m.dir, { recursive: true, force: true }); });

  it('plaintext passwords, roster, vCard, offline message, privacy list and private bookmarks arrive', async (t) => {
    if (!ejabberdAvailable()) return skipOrFail(t, 'ejabberd (Debian package, run as root) is not installed');
    const file = ejabberdExport(join(ej, 'plain'), 'ej.test', 'plain', await freePort(), (ctl) => {
      ctl('register', 'alice', 'ej.test', 'alice pw é');
      ctl('register', 'bob', 'ej.test', 'bobpw');
      ctl('add_rosteritem', 'alice', 'ej.test', 'bob', 'ej.test', 'Bobby', 'Friends;Work', 'both');
      ctl('add_rosteritem', 'alice', 'ej.test', 'dave', 'remote.example', 'Dave', '', 'to');
      ctl('set_vcard', 'alice', 'ej.test', 'FN', 'Alice Liddell');
      ctl('send_message', 'chat', 'bob@ej.test', 'alice@ej.test', 'Hi', 'Hello offline Alice <&>');
      ctl('private_set', 'alice', 'ej.test', "<storage xmlns='storage:bookmarks'><conference jid='room@conf.ej.test' name='Room' autojoin='true'><nick>al</nick></conference></storage>");
      ctl('privacy_set', 'alice', 'ej.test', "<query xmlns='jabber:iq:privacy'><list name='blocked'><item type='jid' value='eve@evil.example' action='deny' order='1'/></list></query>");
    });
    assert.match(readFileSync(file, 'utf8'), /xi:include/, 'ejabberd splits its export with XInclude');
    const r = magpie(m.dir, ['--config', m.cfg, 'import', file]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /2 users imported, 0 skipped \(existing\), 0 failed; 2 roster items, 0 subscription requests, 1 vCards/);
    assert.match(r.out, /1 offline messages/);
    const db = readFileSync(join(m.dir, 'magpie.sqlite'));
    assert.ok(!db.includes('alice pw') && !db.includes('bobpw'), 'plaintext passwords are converted, never stored');

    server = await startTestServer({ hosts: [{ domain: 'ej.test' }] }, { dir: m.dir });
    const c = await RawClient.connect(server.port);
    await c.login('alice', 'alice pw é', { domain: 'ej.test', mechanism: 'SCRAM-SHA-256' });
    const roster = await iq(c, 'r1', `<query xmlns='jabber:iq:roster'/>`);
    const items = roster.getChild('query', 'jabber:iq:roster')!.getChildren('item');
    const bob = items.find((i) => i.attr('jid') === 'bob@ej.test')!;
    assert.equal(bob.attr('subscription'), 'both');
    assert.equal(bob.attr('name'), 'Bobby');
    assert.deepEqual(bob.getChildren('group').map((g) => g.text()).sort(), ['Friends', 'Work']);
    assert.equal(items.find((i) => i.attr('jid') === 'dave@remote.example')?.attr('subscription'), 'to');
    const vcard = await iq(c, 'v1', `<vCard xmlns='vcard-temp'/>`);
    assert.equal(vcard.getChild('vCard', 'vcard-temp')?.getChildText('FN', 'vcard-temp'), 'Alice Liddell');
    // XEP-0048 bookmarks from private XML are served (the bookmarks module keeps them in PEP).
    const priv = await iq(c, 'p1', `<query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>`);
    assert.equal(priv.getChild('query', 'jabber:iq:private')?.getChild('storage', 'storage:bookmarks')?.getChild('conference')?.attr('jid'), 'room@conf.ej.test');
    const lists = await iq(c, 'l1', `<query xmlns='jabber:iq:privacy'><list name='blocked'/></query>`);
    assert.equal(lists.getChild('query', 'jabber:iq:privacy')?.getChild('list')?.getChild('item')?.attr('value'), 'eve@evil.example');
    c.send(`<presence/>`);
    const msg = await c.next((e) => e.name === 'message');
    assert.equal(msg.attr('from'), 'bob@ej.test');
    assert.equal(msg.getChildText('body'), 'Hello offline Alice <&>');
    assert.ok(msg.getChild('delay', 'urn:xmpp:delay'), 'delivered with its delay stamp');
    c.close();
  });

  it('SCRAM-SHA-1 keys (base64-encoded twice by ejabberd 23.01) log in; PLAIN completes SHA-256', async (t) => {
    if (!ejabberdAvailable()) return skipOrFail(t, 'ejabberd (Debian package, run as root) is not installed');
    const file = ejabberdExport(join(ej, 'scram'), 'ej.test', 'scram', await freePort(), (ctl) => { ctl('register', 'carol', 'ej.test', 'carol secret'); });
    assert.match(readFileSync(file.replace(/\.xml$/, '_ej_test.xml'), 'utf8'), /<scram-credentials[^>]*mechanism='SCRAM-SHA-1'/);
    const r = magpie(m.dir, ['--config', m.cfg, 'import', file]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.err, /base64-encoded twice/);
    server ??= await startTestServer({ hosts: [{ domain: 'ej.test' }] }, { dir: m.dir });
    const sha256 = await RawClient.connect(server.port);
    sha256.open('ej.test'); await sha256.next((e) => e.name === 'features');
    assert.equal((await sha256.auth('SCRAM-SHA-256', 'carol', 'carol secret')).name, 'failure', 'no SHA-256 keys yet');
    sha256.destroy();
    const c1 = await RawClient.connect(server.port);
    await c1.login('carol', 'carol secret', { domain: 'ej.test', mechanism: 'SCRAM-SHA-1' });
    c1.close();
    const c2 = await RawClient.connect(server.port);
    await c2.login('carol', 'carol secret', { domain: 'ej.test', mechanism: 'PLAIN' });
    c2.close();
    const c3 = await RawClient.connect(server.port);
    await c3.login('carol', 'carol secret', { domain: 'ej.test', mechanism: 'SCRAM-SHA-256' });
    c3.close();
  });
});

describe('XEP-0227 import from Prosody', () => {
  let dir: string; let m: { dir: string; cfg: string }; let server: TestServer | undefined;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'magpie-prosody-')); chmodAll(dir); m = magpieDir('pr.test'); });
  after(async () => { await server?.stop(); rmSync(dir, { recursive: true, force: true }); rmSync(m.dir, { recursive: true, force: true }); });

  it('prosody-migrator xep0227 files: SCRAM-SHA-1 login, roster with ask, pending request, vCard, private XML', async (t) => {
    if (!prosodyAvailable()) return skipOrFail(t, 'prosody with prosody-migrator and lua5.4 (Debian package, run as root) is not installed');
    const files = prosodyExport(dir, 'pr.test', [['alice', 'alice pw é'], ['bob', 'bobpw']], `
assert(dm.store("alice", "pr.test", "roster", {
  [false] = { version = 3, pending = { ["carol@elsewhere.example"] = true } };
  ["bob@pr.test"] = { subscription = "both", name = "Bobby", groups = { Friends = true } };
  ["dave@remote.example"] = { subscription = "none", ask = "subscribe", groups = {} };
}))
assert(dm.store("alice", "pr.test", "vcard", st.preserialize(st.stanza("vCard", { xmlns = "vcard-temp" }):text_tag("FN", "Alice from Prosody"))))
assert(dm.store("alice", "pr.test", "private", { ["prefs:my:prefs"] = st.preserialize(st.stanza("prefs", { xmlns = "my:prefs" }):text_tag("x", "1")) }))
`);
    assert.equal(files.length, 2, 'one file per user');
    const r = magpie(m.dir, ['--config', m.cfg, 'import', ...files]);
    assert.equal(r.code, 0, r.err + r.out);
    assert.match(r.out, /2 users imported.*2 roster items, 1 subscription requests, 1 vCards, 1 private XML namespaces/);
    server = await startTestServer({ hosts: [{ domain: 'pr.test' }] }, { dir: m.dir });
    const c = await RawClient.connect(server.port);
    await c.login('alice', 'alice pw é', { domain: 'pr.test', mechanism: 'SCRAM-SHA-1' });
    const roster = await iq(c, 'r1', `<query xmlns='jabber:iq:roster'/>`);
    const items = roster.getChild('query', 'jabber:iq:roster')!.getChildren('item');
    assert.equal(items.find((i) => i.attr('jid') === 'bob@pr.test')?.attr('name'), 'Bobby');
    assert.equal(items.find((i) => i.attr('jid') === 'dave@remote.example')?.attr('ask'), 'subscribe');
    const vcard = await iq(c, 'v1', `<vCard xmlns='vcard-temp'/>`);
    assert.equal(vcard.getChild('vCard', 'vcard-temp')?.getChildText('FN', 'vcard-temp'), 'Alice from Prosody');
    const priv = await iq(c, 'p1', `<query xmlns='jabber:iq:private'><prefs xmlns='my:prefs'/></query>`);
    assert.equal(priv.getChild('query', 'jabber:iq:private')?.getChild('prefs', 'my:prefs')?.getChildText('x', 'my:prefs'), '1');
    // §2.9: the stored inbound request reaches the user at initial presence.
    c.send(`<presence/>`);
    const sub = await c.next((e) => e.name === 'presence' && e.attr('type') === 'subscribe');
    assert.equal(sub.attr('from'), 'carol@elsewhere.example');
    c.close();
  });
});

// A file with every section Magpie keeps (used by the round trip and the checks below).
const FULL = `<?xml version='1.0' encoding='UTF-8'?>
<server-data xmlns='urn:xmpp:pie:0'>
  <host jid='Pie.Test'>
    <user name='Juliet' password='wherefore art thou'>
      <query xmlns='jabber:iq:roster'>
        <item jid='romeo@montague.example' name='Romeo' subscription='both' approved='true'><group>Friends</group></item>
        <item jid='nurse@pie.test' subscription='none' ask='subscribe'/>
      </query>
      <presence xmlns='jabber:client' type='subscribe' from='paris@verona.example'><nick xmlns='http://jabber.org/protocol/nick'>Paris</nick></presence>
      <vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN></vCard>
      <query xmlns='jabber:iq:private'><exodus xmlns='exodus:prefs'><defaultnick>Jule</defaultnick></exodus></query>
      <query xmlns='jabber:iq:privacy'><default name='public'/><list name='public'><item type='jid' value='tybalt@example.com' action='deny' order='1'/><item action='allow' order='2'/></list></query>
      <pubsub xmlns='http://jabber.org/protocol/pubsub#owner'>
        <configure node='http://jabber.org/protocol/nick'><x xmlns='jabber:x:data' type='form'>
          <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>
          <field var='pubsub#access_model'><value>open</value></field>
          <field var='x-unknown#option'><value>1</value></field>
        </x></configure>
        <affiliations node='http://jabber.org/protocol/nick'><affiliation jid='romeo@montague.example' affiliation='publisher'/></affiliations>
        <subscriptions node='http://jabber.org/protocol/nick'><subscription jid='romeo@montague.example' subscription='subscribed' subid='s1'/></subscriptions>
      </pubsub>
      <pubsub xmlns='http://jabber.org/protocol/pubsub'>
        <items node='http://jabber.org/protocol/nick'><item id='current'><nick xmlns='http://jabber.org/protocol/nick'>Jules</nick></item></items>
      </pubsub>
      <offline-messages>
        <message xmlns='jabber:client' from='romeo@montague.example/orchard' to='juliet@pie.test' type='chat'><body>Neither, fair saint</body><delay xmlns='urn:xmpp:delay' from='pie.test' stamp='2020-07-21T00:32:29Z'>Offline Storage</delay></message>
      </offline-messages>
      <archive xmlns='urn:xmpp:pie:0#mam'>
        <result xmlns='urn:xmpp:mam:2' id='28482-98726-73623'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:08:25Z'/>
          <message xmlns='jabber:client' to='juliet@pie.test/balcony' from='romeo@montague.example/orchard' type='chat'><body>Call me but love</body></message></forwarded></result>
        <result xmlns='urn:xmpp:mam:2' id='5d398-28273-f7382'><forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='2010-07-10T23:09:32Z'/>
          <message xmlns='jabber:client' to='romeo@montague.example/orchard' from='juliet@pie.test/balcony' type='chat' id='8a54s'><body>What man art thou</body></message></forwarded></result>
      </archive>
    </user>
    <user name='nurse'/>
  </host>
</server-data>
`;

describe('XEP-0227 Magpie to Magpie, and bad input', () => {
  const dirs: string[] = [];
  const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'magpie-pie-')); dirs.push(d); return d; };
  after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

  it('SQLite -> export -> PostgreSQL -> import -> export: the same data; the password logs in', async (t) => {
    const url = await pgTestUrl();
    if (!url) return skipOrFail(t, 'PostgreSQL is not reachable on 127.0.0.1:5432');
    const src = magpieDir('pie.test'); dirs.push(src.dir);
    const schema = `pie_${process.pid}_${Date.now() % 100000}`;
    const dst = magpieDir('pie.test', `storage: { type: postgres, url: '${url}', schema: ${schema} }\n`); dirs.push(dst.dir);
    const work = tmp();
    writeFileSync(join(work, 'full.xml'), FULL);
    let server: TestServer | undefined;
    try {
      const imp = magpie(work, ['--config', src.cfg, 'import', 'full.xml']);
      assert.equal(imp.code, 0, imp.err + imp.out);
      assert.match(imp.out, /2 users imported, 0 skipped \(existing\), 0 failed; 2 roster items, 1 subscription requests, 1 vCards, 1 private XML namespaces, 1 privacy lists, 1 PEP nodes \(1 items\), 1 offline messages, 2 archived messages; 0 errors, 2 warnings/);
      assert.match(imp.err, /x-unknown#option/);
      assert.match(imp.err, /nurse@pie\.test: no credentials/);
      const e1 = magpie(work, ['--config', src.cfg, 'export', '--out', 'one.xml']);
      assert.equal(e1.code, 0, e1.err);
      assert.equal(statSync(join(work, 'one.xml')).mode & 0o777, 0o600, 'the export holds credentials: owner only');
      assert.equal(magpie(work, ['--config', src.cfg, 'export', '--out', 'one.xml']).code, 2, 'never overwrites');
      const one = readFileSync(join(work, 'one.xml'), 'utf8');
      assert.doesNotMatch(one, /wherefore/, 'no plaintext password in an export');
      assert.match(one, /mechanism="SCRAM-SHA-512"/);
      const i2 = magpie(work, ['--config', dst.cfg, 'import', 'one.xml']);
      assert.equal(i2.code, 0, i2.err + i2.out);
      const e2 = magpie(work, ['--config', dst.cfg, 'export', '--out', 'two.xml']);
      assert.equal(e2.code, 0, e2.err);
      assert.equal(readFileSync(join(work, 'two.xml'), 'utf8'), one, 'the second export equals the first');
      server = await startTestServer({ hosts: [{ domain: 'pie.test' }], storage: { type: 'postgres', url, schema } });
      const c = await RawClient.connect(server.port);
      await c.login('juliet', 'wherefore art thou', { domain: 'pie.test', mechanism: 'SCRAM-SHA-512' });
      const mam = await (async () => {
        c.send(`<iq type='set' id='q1'><query xmlns='urn:xmpp:mam:2' queryid='f1'/></iq>`);
        const got: string[] = [];
        for (;;) {
          const el = await c.next((e) => e.name === 'message' || (e.name === 'iq' && e.attr('id') === 'q1'));
          if (el.name === 'iq') return got;
          got.push(el.getChild('result', 'urn:xmpp:mam:2')!.attr('id')!);
        }
      })();
      assert.deepEqual(mam, ['28482-98726-73623', '5d398-28273-f7382'], 'archive ids and order kept');
      c.close();
    } finally {
      await server?.stop();
      const cl = new pg.Client({ connectionString: url });
      await cl.connect(); await cl.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await cl.end();
    }
  });

  it('a DOCTYPE with an entity bomb is refused cleanly, nothing imported', () => {
    const m = magpieDir('pie.test'); dirs.push(m.dir);
    const bomb = `<?xml version='1.0'?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>\n` +
      `<server-data xmlns='urn:xmpp:pie:0'><host jid='pie.test'><user name='x' password='&lol2;'/></host></server-data>`;
    writeFileSync(join(m.dir, 'bomb.xml'), bomb);
    const r = magpie(m.dir, ['--config', m.cfg, 'import', 'bomb.xml']);
    assert.equal(r.code, 1);
    assert.match(r.err, /restricted-xml: DTDs/);
    assert.match(r.out, /0 users imported/);
    assert.equal(magpie(m.dir, ['--config', m.cfg, 'users']).out, '');
  });

  it('XInclude: relative files are followed, a path outside the directory is refused', () => {
    const m = magpieDir('pie.test'); dirs.push(m.dir);
    const d = join(m.dir, 'export'); mkdirSync(join(d, 'pie.test'), { recursive: true });
    writeFileSync(join(d, 'main.xml'), `<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'><xi:include href='pie.test.xml'/></server-data>`);
    writeFileSync(join(d, 'pie.test.xml'), `<host xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude' jid='pie.test'><xi:include href='pie.test/a.xml'/><user name='b' password='pw'/></host>`);
    writeFileSync(join(d, 'pie.test', 'a.xml'), `<user xmlns='urn:xmpp:pie:0' name='a' password='pw'><vCard xmlns='vcard-temp'><FN>A</FN></vCard></user>`);
    const ok = magpie(m.dir, ['--config', m.cfg, 'import', join(d, 'main.xml')]);
    assert.equal(ok.code, 0, ok.err + ok.out);
    assert.match(ok.out, /2 users imported.*1 vCards/);
    writeFileSync(join(d, 'evil.xml'), `<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'><xi:include href='../magpie.yaml'/></server-data>`);
    const evil = magpie(m.dir, ['--config', m.cfg, 'import', join(d, 'evil.xml')]);
    assert.equal(evil.code, 1);
    assert.match(evil.err, /outside the directory/);
  });

  it('bad JIDs are errors (exit 1) while the rest is imported; --dry-run writes nothing; existing accounts', () => {
    const m = magpieDir('pie.test'); dirs.push(m.dir);
    writeFileSync(join(m.dir, 'bad.xml'), `<server-data xmlns='urn:xmpp:pie:0'>
      <host jid='other.test'><user name='z' password='pw'/></host>
      <host jid='pie.test'>
        <user name='a b@c' password='pw'/>
        <user name='ok' password='pw'><query xmlns='jabber:iq:roster'><item jid='good@x.example'/><item jid='bad@@x'/><item jid='full@x.example/res'/></query></user>
        <user name='ok' password='pw'/>
      </host></server-data>`);
    const dry = magpie(m.dir, ['--config', m.cfg, 'import', 'bad.xml', '--dry-run']);
    assert.equal(dry.code, 1);
    assert.match(dry.out, /^dry run \(nothing written\): 1 users imported, 0 skipped \(existing\), 2 failed; 1 roster items/);
    assert.equal(magpie(m.dir, ['--config', m.cfg, 'users']).out, '', 'a dry run writes nothing');
    const r = magpie(m.dir, ['--config', m.cfg, 'import', 'bad.xml']);
    assert.equal(r.code, 1);
    assert.match(r.err, /host other\.test is not a host of this server/);
    assert.match(r.err, /user name 'a b@c' is not a valid localpart/);
    assert.match(r.err, /ok@pie\.test: roster item 'bad@@x': not a bare JID/);
    assert.match(r.err, /ok@pie\.test: roster item 'full@x\.example\/res': not a bare JID/);
    assert.match(r.err, /ok@pie\.test: appears twice/);
    assert.equal(magpie(m.dir, ['--config', m.cfg, 'users']).out, 'ok@pie.test\n');
    writeFileSync(join(m.dir, 'again.xml'), `<server-data xmlns='urn:xmpp:pie:0'><host jid='pie.test'><user name='ok' password='new'/></host></server-data>`);
    assert.equal(magpie(m.dir, ['--config', m.cfg, 'import', 'again.xml']).code, 1, 'an existing account is an error by default');
    assert.match(magpie(m.dir, ['--config', m.cfg, 'import', 'again.xml', '--skip-existing']).out, /0 users imported, 1 skipped/);
    const ow = magpie(m.dir, ['--config', m.cfg, 'import', 'again.xml', '--overwrite']);
    assert.equal(ow.code, 0, ow.err);
    assert.doesNotMatch(magpie(m.dir, ['--config', m.cfg, 'export', '--user', 'ok@pie.test']).out, /jabber:iq:roster/, 'overwrite replaces the data too');
  });
});

/** ejabberd and Prosody run as their own users and must traverse our temporary directory. */
function chmodAll(dir: string): void { spawnSync('chmod', ['755', dir]); }
