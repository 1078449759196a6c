// Message Archive Management (XEP-0313) with stanza ids (XEP-0359), RSM paging (XEP-0059) and
// preferences (XEP-0441), end to end over real sockets: archiving both sides, stanza-id on
// delivery = archive id, offline recipients, every filter, paging both ways through 30 messages,
// flip-page, preferences, hints, errors, retention and account deletion; on SQLite, and one
// scenario on PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { Element } from '@magpie/core/xml/element';
import { pgTestUrl } from '../support/postgres.js';
import { skipOrFail } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { befriend, iq, take } from '../im/roster-helpers.js';
import { barrier, bodies, condition, MAM, mamQuery, online, SID, sendMany, startMam, type MamServer } from './mam-helpers.js';

const isChat = (id: string) => (e: Element) => e.name === 'message' && e.attr('id') === id;

describe('MAM on SQLite', () => {
  let ts: MamServer;
  before(async () => {
    ts = await startMam({ modules: { options: { mam: { defaultPageSize: 20, maxPageSize: 12 } } } });
    for (const u of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hank', 'ivy', 'judy']) await ts.addUser(u, 'pw');
  });
  after(() => ts.stop());

  it('archives both sides; the delivered stanza-id is the archive id; forged stanza-ids are removed', async () => {
    const a = await online(ts, 'alice', 'desk'), b = await online(ts, 'bob', 'phone');
    a.send(`<message to='bob@localhost' type='chat' id='m1'><body>hello bob</body><origin-id xmlns='${SID}' id='o1'/>` +
      `<stanza-id xmlns='${SID}' by='bob@localhost' id='forged'/><stanza-id xmlns='${SID}' by='room@muc.example' id='other'/></message>`);
    const got = await take(b, isChat('m1'), 'message m1');
    const sids = got.getChildren('stanza-id', SID);
    const ours = sids.filter((s) => s.attr('by') === 'bob@localhost');
    assert.equal(ours.length, 1, got.toString());
    assert.notEqual(ours[0]!.attr('id'), 'forged');
    assert.ok(sids.some((s) => s.attr('by') === 'room@muc.example' && s.attr('id') === 'other'), 'foreign stanza-id kept');
    assert.equal(got.getChild('origin-id', SID)?.attr('id'), 'o1', 'origin-id kept');

    const bobArchive = await mamQuery(b, { with: 'alice@localhost' });
    assert.deepEqual(bodies(bobArchive), ['hello bob']);
    assert.equal(bobArchive.items[0]!.id, ours[0]!.attr('id'), 'stanza-id = archive id');
    assert.equal(bobArchive.items[0]!.from, 'alice@localhost/desk');
    assert.match(bobArchive.items[0]!.stamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    assert.equal(bobArchive.complete, true);
    assert.equal(bobArchive.count, 1);
    // The archived copy carries no stanza-id forged by the sender.
    assert.ok(!bobArchive.items[0]!.message!.getChildren('stanza-id', SID).some((s) => s.attr('id') === 'forged'));

    const aliceArchive = await mamQuery(a, { with: 'bob@localhost' });
    assert.deepEqual(bodies(aliceArchive), ['hello bob']);
    assert.equal(aliceArchive.items[0]!.to, 'bob@localhost');
    assert.notEqual(aliceArchive.items[0]!.id, bobArchive.items[0]!.id, 'each archive has its own ids');
    // The sender's own copy is not stamped (XEP-0313 §3.3: only for those who may read the archive).
    assert.ok(!a.elements.some((e) => e.name === 'message' && e.attr('id') === 'm1'));
    a.destroy(); b.destroy();
  });

  it('a message for an offline recipient is archived, and the offline copy carries the stanza-id', async () => {
    const a = await online(ts, 'alice', 'off');
    a.send(`<message to='carol@localhost' type='chat' id='off1'><body>while you were out</body></message>`);
    await barrier(a);
    const c = await RawClient.connect(ts.port);
    await c.login('carol', 'pw', { resource: 'late' });
    const hist = await mamQuery(c, {});
    assert.deepEqual(bodies(hist), ['while you were out']);
    c.send('<presence/>');
    const delivered = await take(c, isChat('off1'), 'offline message');
    assert.equal(delivered.getChild('stanza-id', SID)?.attr('id'), hist.items[0]!.id);
    assert.equal(delivered.getChild('stanza-id', SID)?.attr('by'), 'carol@localhost');
    a.destroy(); c.destroy();
  });

  it('what is not archived: groupchat, headline, error, no body, no-store and no-permanent-store hints', async () => {
    const a = await online(ts, 'dave'), b = await online(ts, 'erin');
    a.send(`<message to='erin@localhost' type='headline' id='h'><body>x</body></message>`);
    a.send(`<message to='erin@localhost' type='groupchat' id='gc'><body>x</body></message>`);
    await take(a, (e) => e.attr('id') === 'gc' && e.attr('type') === 'error', 'groupchat bounce');
    a.send(`<message to='erin@localhost' type='chat' id='cs'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`);
    a.send(`<message to='erin@localhost' type='chat' id='ns'><body>secret</body><no-store xmlns='urn:xmpp:hints'/></message>`);
    a.send(`<message to='erin@localhost' type='chat' id='np'><body>secret</body><no-permanent-store xmlns='urn:xmpp:hints'/></message>`);
    a.send(`<message to='erin@localhost' id='kept'><body>normal one</body></message>`);
    a.send(`<message to='erin@localhost' type='chat' id='st'><received xmlns='urn:xmpp:receipts' id='x'/><store xmlns='urn:xmpp:hints'/></message>`);
    await take(b, isChat('st'), 'last message');
    const ns = b.elements.find(isChat('ns'))!;
    assert.equal(ns.getChild('stanza-id', SID), undefined, 'not archived, so no stanza-id');
    assert.equal((await mamQuery(b, {})).items.length, 2);
    assert.deepEqual(bodies(await mamQuery(a, {})), ['normal one', undefined]);
    a.destroy(); b.destroy();
  });

  it('filters: with (bare and full), start/end, after-id/before-id, ids; form fetch; metadata', async () => {
    const f = await online(ts, 'frank', 'one'), g = await online(ts, 'gina', 'home'), g2 = await online(ts, 'gina', 'work');
    const h = await online(ts, 'hank');
    f.send(`<message to='gina@localhost' type='chat' id='x1'><body>f1</body></message>`);
    await take(g, isChat('x1'));
    const t1 = new Date(Date.now() + 5).toISOString();
    await new Promise((r) => setTimeout(r, 30));
    h.send(`<message to='gina@localhost/work' type='chat' id='x2'><body>h1</body></message>`);
    await take(g2, isChat('x2'));
    g.send(`<message to='frank@localhost/one' type='chat' id='x3'><body>g1</body></message>`);
    await take(f, isChat('x3'));
    g2.send(`<message to='hank@localhost' type='chat' id='x4'><body>g2</body></message>`);
    await take(h, isChat('x4'));

    const all = await mamQuery(g, {});
    assert.deepEqual(bodies(all), ['f1', 'h1', 'g1', 'g2']);
    assert.equal(all.firstIndex, '0');
    const ids = all.items.map((i) => i.id);
    assert.deepEqual(bodies(await mamQuery(g, { with: 'frank@localhost' })), ['f1', 'g1']);
    assert.deepEqual(bodies(await mamQuery(g, { with: 'frank@localhost/one' })), ['f1', 'g1']);
    assert.deepEqual(bodies(await mamQuery(g, { with: 'frank@localhost/other' })), []);
    assert.deepEqual(bodies(await mamQuery(g, { with: 'hank@localhost/r' })), ['h1'], 'incoming from that full JID only');
    assert.deepEqual(bodies(await mamQuery(g, { start: t1 })), ['h1', 'g1', 'g2']);
    assert.deepEqual(bodies(await mamQuery(g, { end: t1 })), ['f1']);
    assert.deepEqual(bodies(await mamQuery(g, { start: '2000-01-01T00:00:00Z', end: '2000-01-02T00:00:00+02:00' })), []);
    assert.deepEqual(bodies(await mamQuery(g, { afterId: ids[0] })), ['h1', 'g1', 'g2']);
    assert.deepEqual(bodies(await mamQuery(g, { afterId: ids[0], beforeId: ids[3] })), ['h1', 'g1']);
    assert.deepEqual(bodies(await mamQuery(g, { afterId: ids[0], after: ids[1] })), ['g1', 'g2'], 'the tighter bound wins');
    assert.deepEqual(bodies(await mamQuery(g, { ids: [ids[3]!, ids[1]!] })), ['h1', 'g2']);
    assert.deepEqual(bodies(await mamQuery(g, { ids: [ids[3]!], with: 'frank@localhost' })), []);

    const form = await iq(g, 'get', `<query xmlns='${MAM}'/>`);
    const vars = form.getChild('query', MAM)?.getChild('x', 'jabber:x:data')?.getChildren('field').map((x) => x.attr('var'));
    assert.deepEqual(vars, ['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids']);
    const md = (await iq(g, 'get', `<metadata xmlns='${MAM}'/>`)).getChild('metadata', MAM)!;
    assert.equal(md.getChild('start')?.attr('id'), ids[0]);
    assert.equal(md.getChild('end')?.attr('id'), ids[3]);
    const empty = (await iq(await online(ts, 'judy'), 'get', `<metadata xmlns='${MAM}'/>`)).getChild('metadata', MAM)!;
    assert.equal(empty.elements().length, 0);
    const disco = await iq(g, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'gina@localhost');
    const feats = disco.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').map((x) => x.attr('var'));
    for (const x of [MAM, `${MAM}#extended`, SID]) assert.ok(feats.includes(x), `${x} in ${feats.join(' ')}`);
    // A remote peer counts: the local side is archived even though no server-to-server link exists here.
    f.send(`<message to='someone@remote.example' type='chat' id='rm'><body>to remote</body></message>`);
    await take(f, (e) => e.attr('id') === 'rm' && e.attr('type') === 'error', 'remote-server-not-found');
    assert.deepEqual(bodies(await mamQuery(f, { with: 'someone@remote.example' })), ['to remote']);
    f.destroy(); g.destroy(); g2.destroy(); h.destroy();
  });

  it('errors: forbidden, item-not-found, bad-request, feature-not-implemented; a large max is capped', async () => {
    const i = await online(ts, 'ivy');
    await sendMany(i, 'judy@localhost', 15, 'e');
    assert.equal(condition((await mamQuery(i, { to: 'judy@localhost' })).iq), 'forbidden');
    assert.equal(condition(await iq(i, 'get', `<prefs xmlns='${MAM}'/>`, 'judy@localhost')), 'forbidden');
    assert.equal(condition((await mamQuery(i, { after: 'no-such-id' })).iq), 'item-not-found');
    assert.equal(condition((await mamQuery(i, { before: 'no-such-id' })).iq), 'item-not-found');
    assert.equal(condition((await mamQuery(i, { afterId: 'no-such-id' })).iq), 'item-not-found');
    assert.equal(condition((await mamQuery(i, { ids: ['no-such-id'] })).iq), 'item-not-found');
    assert.equal(condition((await mamQuery(i, { start: 'yesterday' })).iq), 'bad-request');
    assert.equal(condition((await mamQuery(i, { end: '2010-13-01T00:00:00Z' })).iq), 'bad-request');
    assert.equal(condition((await mamQuery(i, { with: 'not a@jid@@' })).iq), 'bad-request');
    assert.equal(condition((await iq(i, 'set', `<query xmlns='${MAM}'><set xmlns='http://jabber.org/protocol/rsm'><max>many</max></set></query>`))), 'bad-request');
    assert.equal(condition((await mamQuery(i, { extraFields: `<field var='{urn:example}search'><value>x</value></field>` })).iq), 'feature-not-implemented');
    const capped = await mamQuery(i, { max: 1000 });
    assert.equal(capped.items.length, 12, 'maxPageSize');
    assert.equal(capped.complete, false);
    const dflt = await mamQuery(i, {});
    assert.equal(dflt.items.length, 12, 'the default page (20) is capped too');
    i.destroy();
  });
});

describe('MAM paging, preferences, retention, account deletion (SQLite)', () => {
  let ts: MamServer;
  before(async () => {
    ts = await startMam({ modules: { options: { mam: { retentionDays: 1 } } } });
    for (const u of ['pa', 'pb', 'qa', 'qb', 'qc', 'ra', 'rb', 'ja', 'jb']) await ts.addUser(u, 'pw');
  });
  after(() => ts.stop());

  it('pages forwards and backwards through 30 messages with RSM; flip-page reverses one page', async () => {
    const a = await online(ts, 'pa'), b = await online(ts, 'pb');
    await sendMany(a, 'pb@localhost', 30, 'p');
    const want = Array.from({ length: 30 }, (_, i) => `p${i}`);
    const seen: string[] = [];
    let page = await mamQuery(a, { max: 7 });
    assert.deepEqual([page.firstIndex, page.count, page.complete], ['0', 30, false]);
    for (;;) {
      seen.push(...bodies(page) as string[]);
      assert.equal(page.first, page.items[0]!.id);
      assert.equal(page.last, page.items.at(-1)!.id);
      if (page.complete) break;
      assert.equal(page.items.length, 7);
      page = await mamQuery(a, { max: 7, after: page.last! });
      assert.equal(page.count, 30);
    }
    assert.deepEqual(seen, want);

    const back: string[][] = [];
    page = await mamQuery(a, { max: 7, before: '' });
    assert.deepEqual([page.firstIndex, page.count, page.complete], [undefined, 30, false]);
    for (;;) {
      back.unshift(bodies(page) as string[]);
      if (page.complete) break;
      page = await mamQuery(a, { max: 7, before: page.first! });
    }
    assert.deepEqual(back.flat(), want);
    assert.equal(back[0]!.length, 2);

    const flipped = await mamQuery(a, { max: 5, before: '', flip: true });
    assert.deepEqual(bodies(flipped), ['p29', 'p28', 'p27', 'p26', 'p25']);
    assert.equal(flipped.first, flipped.items.at(-1)!.id, 'first is still the oldest of the page');
    const older = await mamQuery(a, { max: 5, before: flipped.first!, flip: true });
    assert.deepEqual(bodies(older), ['p24', 'p23', 'p22', 'p21', 'p20']);
    // max 0: only the count (XEP-0059 §2.7).
    const counted = await mamQuery(a, { max: 0 });
    assert.deepEqual([counted.items.length, counted.count, counted.first], [0, 30, undefined]);
    // with + RSM together: the recipient's view.
    const bp = await mamQuery(b, { with: 'pa@localhost', max: 10, after: (await mamQuery(b, { max: 10 })).last! });
    assert.deepEqual(bodies(bp), want.slice(10, 20));
    a.destroy(); b.destroy();
  });

  it('jumps to an RSM index (XEP-0059 §2.5): the page starts there, first carries it; past the end is empty; beyond maxIndex is refused', async () => {
    const a = await online(ts, 'ja'), b = await online(ts, 'jb');
    await sendMany(a, 'jb@localhost', 25, 'j');
    const page = await mamQuery(a, { max: 4, index: 10 });
    assert.deepEqual(bodies(page), ['j10', 'j11', 'j12', 'j13']);
    assert.deepEqual([page.firstIndex, page.count, page.complete], ['10', 25, false]);
    // Continuing with <after/> from there gives the next items.
    assert.deepEqual(bodies(await mamQuery(a, { max: 4, after: page.last! })), ['j14', 'j15', 'j16', 'j17']);
    const last = await mamQuery(a, { max: 10, index: 22 });
    assert.deepEqual([bodies(last), last.complete], [['j22', 'j23', 'j24'], true]);
    const past = await mamQuery(a, { max: 5, index: 25 });
    assert.deepEqual([past.items.length, past.count, past.first, past.complete], [0, 25, undefined, true]);
    assert.equal(condition((await mamQuery(a, { max: 5, index: 3, after: page.last! })).iq), 'bad-request');
    assert.equal(condition((await mamQuery(a, { max: 5, index: 100_000 })).iq), 'feature-not-implemented');
    // The recipient's archive, filtered by peer: the index counts in the filtered set.
    await sendMany(b, 'pa@localhost', 3, 'other');
    assert.deepEqual(bodies(await mamQuery(b, { with: 'ja@localhost', max: 2, index: 5 })), ['j5', 'j6']);
    assert.deepEqual(bodies(await mamQuery(b, { with: 'pa@localhost', max: 2, index: 1 })), ['other1', 'other2']);
    a.destroy(); b.destroy();
  });

  it('preferences: never, always list, roster default; stored and returned', async () => {
    await befriend(ts, 'qa', 'qb');
    const a = await online(ts, 'qa'), b = await online(ts, 'qb'), c = await online(ts, 'qc');
    let prefs = (await iq(a, 'get', `<prefs xmlns='${MAM}'/>`)).getChild('prefs', MAM)!;
    assert.equal(prefs.attr('default'), 'always');
    const set = await iq(a, 'set', `<prefs xmlns='${MAM}' default='roster'><always><jid>qc@localhost</jid></always><never/></prefs>`);
    assert.equal(set.attr('type'), 'result');
    b.send(`<message to='qa@localhost' type='chat' id='r1'><body>friend</body></message>`);
    await take(a, isChat('r1'));
    const stranger = await online(ts, 'ra');
    stranger.send(`<message to='qa@localhost' type='chat' id='r2'><body>stranger</body></message>`);
    const r2 = await take(a, isChat('r2'));
    assert.equal(r2.getChild('stanza-id', SID), undefined, 'not archived → no stanza-id');
    c.send(`<message to='qa@localhost' type='chat' id='r3'><body>listed</body></message>`);
    await take(a, isChat('r3'));
    assert.deepEqual(bodies(await mamQuery(a, {})), ['friend', 'listed']);

    await iq(a, 'set', `<prefs xmlns='${MAM}' default='always'><always/><never><jid>qb@localhost</jid></never></prefs>`);
    prefs = (await iq(a, 'get', `<prefs xmlns='${MAM}'/>`)).getChild('prefs', MAM)!;
    assert.deepEqual([prefs.attr('default'), prefs.getChild('never')?.getChildText('jid')], ['always', 'qb@localhost']);
    b.send(`<message to='qa@localhost' type='chat' id='r4'><body>not kept</body></message>`);
    await take(a, isChat('r4'));
    a.send(`<message to='qb@localhost' type='chat' id='r5'><body>nor this</body></message>`);
    stranger.send(`<message to='qa@localhost' type='chat' id='r6'><body>kept now</body></message>`);
    await take(a, isChat('r6'));
    assert.deepEqual(bodies(await mamQuery(a, {})), ['friend', 'listed', 'kept now']);

    await iq(a, 'set', `<prefs xmlns='${MAM}' default='never'/>`);
    stranger.send(`<message to='qa@localhost' type='chat' id='r7'><body>never</body></message>`);
    await take(a, isChat('r7'));
    assert.equal((await mamQuery(a, {})).items.length, 3);
    assert.equal(condition(await iq(a, 'set', `<prefs xmlns='${MAM}' default='sometimes'/>`)), 'bad-request');
    assert.equal(condition(await iq(a, 'set', `<prefs xmlns='${MAM}' default='always'><always><jid>@@bad</jid></always></prefs>`)), 'bad-request');
    a.destroy(); b.destroy(); c.destroy(); stranger.destroy();
  });

  it('retention purges messages older than the period (fake clock through the service); account deletion deletes the archive', async () => {
    const a = await online(ts, 'rb');
    await sendMany(a, 'ra@localhost', 3, 'old');
    assert.equal(await ts.mam.purge(Date.now() + 3_600_000), 0, 'one hour later: nothing is older than a day');
    const before = await ts.server.storage.archive.count('localhost', 'rb', 'mam');
    assert.equal(before, 3);
    const purged = await ts.mam.purge(Date.now() + 2 * 86_400_000);
    assert.ok(purged >= 3, `purged ${purged}`);
    assert.equal((await mamQuery(a, {})).items.length, 0);
    await sendMany(a, 'ra@localhost', 2, 'new');
    assert.equal((await mamQuery(a, {})).items.length, 2);
    await iq(a, 'set', `<prefs xmlns='${MAM}' default='roster'/>`);
    a.destroy();
    assert.ok(await ts.server.accounts.delete('localhost', 'rb'));
    assert.equal(await ts.server.storage.archive.count('localhost', 'rb', 'mam'), 0);
    assert.equal(await ts.server.storage.kv.get('localhost', 'rb', 'mam-prefs'), undefined);
  });
});

describe('MAM on PostgreSQL', () => {
  it('archives, stamps and pages on PostgreSQL', async (t) => {
    const url = await pgTestUrl();
    if (!url) return skipOrFail(t, 'PostgreSQL not reachable');
    const schema = 'magpie_mam_' + Math.random().toString(36).slice(2, 10);
    const ts = await startMam({ storage: { type: 'postgres', url, schema }, modules: { options: { mam: { maxMessagesPerUser: 20 } } } });
    try {
      await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
      const a = await online(ts, 'alice'), b = await online(ts, 'bob');
      await sendMany(a, 'bob@localhost', 25, 'pg');
      a.send(`<message to='bob@localhost' type='chat' id='last'><body>last</body></message>`);
      const got = await take(b, isChat('last'));
      const page = await mamQuery(b, { max: 5, before: '' });
      assert.deepEqual(bodies(page), ['pg21', 'pg22', 'pg23', 'pg24', 'last']);
      assert.equal(page.items.at(-1)!.id, got.getChild('stanza-id', SID)?.attr('id'));
      assert.equal(page.count, 20, 'maxMessagesPerUser keeps the newest 20');
      const next = await mamQuery(b, { max: 5, before: page.first! });
      assert.deepEqual(bodies(next), ['pg16', 'pg17', 'pg18', 'pg19', 'pg20']);
      assert.deepEqual(bodies(await mamQuery(a, { ids: [page.items[0]!.id] })), [], 'ids are per archive');
      a.destroy(); b.destroy();
    } finally {
      await ts.stop();
      const c = new pg.Client({ connectionString: url });
      await c.connect(); await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await c.end();
    }
  });
});
