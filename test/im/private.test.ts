// Private XML storage (XEP-0049) end to end with raw clients: round trips by namespace, several
// namespaces and several elements in one set, the errors of §3.3, the limits, and durability
// across a restart.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import privateStorage from '@magpie/server/modules/private/private';
import { startTestServer, type TestServer } from '../support/server.js';
import { online, iq, condition, errorType } from './services-helpers.js';

const P = 'jabber:iq:private';
const options = { modules: { options: { private: { maxBytes: 1024, maxNamespaces: 5 } } } };

describe('private XML storage', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer(options, { modules: [privateStorage] });
    for (const u of ['hamlet', 'macbeth', 'lear']) await ts.addUser(u, 'pw-' + u);
  });
  after(async () => { await ts.stop(); });

  it('stores and returns a fragment by namespace; an unknown namespace echoes the empty element', async () => {
    const h = await online(ts, 'hamlet', 'pw-hamlet');
    try {
      const unknown = await iq(h, `type='get'`, `<query xmlns='${P}'><exodus xmlns='exodus:prefs'/></query>`);
      assert.equal(unknown.attr('type'), 'result');
      const echoed = unknown.getChild('query', P)!.elements();
      assert.equal(echoed.length, 1);
      assert.deepEqual([echoed[0]!.name, echoed[0]!.xmlns, echoed[0]!.children.length], ['exodus', 'exodus:prefs', 0]);

      const set = await iq(h, `type='set'`, `<query xmlns='${P}'><exodus xmlns='exodus:prefs'><defaultnick>Hamlet</defaultnick><x:opt xmlns:x='urn:x' x:a='1'>&lt;b&gt;</x:opt></exodus></query>`);
      assert.equal(set.attr('type'), 'result', set.toString());

      const got = await iq(h, `type='get' to='hamlet@localhost'`, `<query xmlns='${P}'><exodus xmlns='exodus:prefs'/></query>`);
      const ex = got.getChild('query', P)!.getChild('exodus', 'exodus:prefs')!;
      assert.equal(ex.getChildText('defaultnick'), 'Hamlet');
      const opt = ex.getChild('opt', 'urn:x')!;
      assert.equal(opt.attr('{urn:x}a'), '1');
      assert.equal(opt.text(), '<b>');

      // A second set in the same namespace replaces the slot; other namespaces are separate.
      await iq(h, `type='set'`, `<query xmlns='${P}'><exodus xmlns='exodus:prefs'><defaultnick>Prince</defaultnick></exodus><storage xmlns='storage:bookmarks'><conference jid='elsinore@conference.localhost' autojoin='true'/></storage></query>`);
      const ex2 = (await iq(h, `type='get'`, `<query xmlns='${P}'><exodus xmlns='exodus:prefs'/></query>`)).getChild('query', P)!.elements();
      assert.equal(ex2.length, 1);
      assert.equal(ex2[0]!.getChildText('defaultnick'), 'Prince');
      const bm = (await iq(h, `type='get'`, `<query xmlns='${P}'><storage xmlns='storage:bookmarks'/></query>`)).getChild('query', P)!;
      assert.equal(bm.getChild('storage', 'storage:bookmarks')!.getChild('conference')!.attr('jid'), 'elsinore@conference.localhost');

      // §3.3: several elements qualified by one namespace are kept together.
      await iq(h, `type='set'`, `<query xmlns='${P}'><note xmlns='urn:notes'>one</note><note xmlns='urn:notes'>two</note></query>`);
      const notes = (await iq(h, `type='get'`, `<query xmlns='${P}'><note xmlns='urn:notes'/></query>`)).getChild('query', P)!.elements();
      assert.deepEqual(notes.map((n) => n.text()), ['one', 'two']);
    } finally { h.destroy(); }
  });

  it('another user\'s private data is forbidden to get and to set', async () => {
    const h = await online(ts, 'hamlet', 'pw-hamlet', 'f');
    const m = await online(ts, 'macbeth', 'pw-macbeth', 'f');
    try {
      assert.equal((await iq(h, `type='set'`, `<query xmlns='${P}'><secret xmlns='urn:secret'>to be</secret></query>`)).attr('type'), 'result');
      const set = await iq(m, `type='set' to='hamlet@localhost'`, `<query xmlns='${P}'><secret xmlns='urn:secret'>Macbeth</secret></query>`);
      assert.equal(condition(set), 'forbidden');
      assert.equal(errorType(set), 'auth');
      const get = await iq(m, `type='get' to='hamlet@localhost'`, `<query xmlns='${P}'><secret xmlns='urn:secret'/></query>`);
      assert.equal(condition(get), 'forbidden');
      assert.equal(get.getChild('query', P)?.getChild('secret', 'urn:secret')?.text() ?? '', '', 'nothing leaks in the error');
      const own = await iq(h, `type='get'`, `<query xmlns='${P}'><secret xmlns='urn:secret'/></query>`);
      assert.equal(own.getChild('query', P)!.getChildText('secret', 'urn:secret'), 'to be');
      // Macbeth's own slot for the namespace is his, and empty.
      const mine = await iq(m, `type='get'`, `<query xmlns='${P}'><secret xmlns='urn:secret'/></query>`);
      assert.equal(mine.getChild('query', P)!.getChild('secret', 'urn:secret')!.children.length, 0);
    } finally { h.destroy(); m.destroy(); }
  });

  it('refuses an empty query, reserved namespaces, and more than one namespace in a get', async () => {
    const l = await online(ts, 'lear', 'pw-lear');
    try {
      for (const type of ['get', 'set']) {
        const r = await iq(l, `type='${type}'`, `<query xmlns='${P}'/>`);
        assert.equal(condition(r), 'not-acceptable', `${type} empty`);
        assert.equal(errorType(r), 'modify');
      }
      for (const ns of ['jabber:client', 'jabber:server', P]) {
        const r = await iq(l, `type='set'`, `<query xmlns='${P}'><x xmlns='${ns}'/></query>`);
        assert.equal(condition(r), 'not-acceptable', ns);
        const g = await iq(l, `type='get'`, `<query xmlns='${P}'><x xmlns='${ns}'/></query>`);
        assert.equal(condition(g), 'not-acceptable', ns);
      }
      // A child without a namespace of its own inherits jabber:iq:private: refused as well.
      assert.equal(condition(await iq(l, `type='set'`, `<query xmlns='${P}'><prefs/></query>`)), 'not-acceptable');
      const two = await iq(l, `type='get'`, `<query xmlns='${P}'><a xmlns='urn:a'/><b xmlns='urn:b'/></query>`);
      assert.equal(condition(two), 'bad-request');
      // Reserved-by-convention namespaces are accepted by default (§3.3 makes refusing OPTIONAL).
      assert.equal((await iq(l, `type='set'`, `<query xmlns='${P}'><vCard xmlns='vcard-temp'><FN>Lear</FN></vCard></query>`)).attr('type'), 'result');
    } finally { l.destroy(); }
  });

  it('enforces maxBytes per namespace and maxNamespaces per user (policy-violation)', async () => {
    const m = await online(ts, 'macbeth', 'pw-macbeth', 'limits');
    try {
      const big = await iq(m, `type='set'`, `<query xmlns='${P}'><blob xmlns='urn:blob'>${'x'.repeat(1100)}</blob></query>`);
      assert.equal(condition(big), 'policy-violation');
      // macbeth has no namespaces yet: five fit, the sixth does not; rewriting one still works.
      for (const n of [1, 2, 3, 4, 5]) assert.equal((await iq(m, `type='set'`, `<query xmlns='${P}'><d xmlns='urn:n${n}'>${n}</d></query>`)).attr('type'), 'result');
      assert.equal(condition(await iq(m, `type='set'`, `<query xmlns='${P}'><d xmlns='urn:n6'>6</d></query>`)), 'policy-violation');
      assert.equal((await iq(m, `type='set'`, `<query xmlns='${P}'><d xmlns='urn:n2'>two</d></query>`)).attr('type'), 'result');
      const n6 = await iq(m, `type='get'`, `<query xmlns='${P}'><d xmlns='urn:n6'/></query>`);
      assert.equal(n6.getChild('query', P)!.getChild('d', 'urn:n6')!.children.length, 0);
      // A set that fails a limit stores none of its namespaces.
      const mixed = await iq(m, `type='set'`, `<query xmlns='${P}'><d xmlns='urn:n1'>changed</d><blob xmlns='urn:blob'>${'x'.repeat(1100)}</blob></query>`);
      assert.equal(condition(mixed), 'policy-violation');
      assert.equal((await iq(m, `type='get'`, `<query xmlns='${P}'><d xmlns='urn:n1'/></query>`)).getChild('query', P)!.getChildText('d', 'urn:n1'), '1');
    } finally { m.destroy(); }
  });

  it('private data survives a restart', async () => {
    const h = await online(ts, 'hamlet', 'pw-hamlet', 'restart');
    assert.equal((await iq(h, `type='set'`, `<query xmlns='${P}'><storage xmlns='storage:rosternotes'><note jid='ophelia@localhost'>get thee to a nunnery</note></storage></query>`)).attr('type'), 'result');
    h.destroy();
    await ts.stop(true);
    ts = await startTestServer(options, { dir: ts.dir, modules: [privateStorage] });
    const h2 = await online(ts, 'hamlet', 'pw-hamlet', 'after');
    try {
      const r = await iq(h2, `type='get'`, `<query xmlns='${P}'><storage xmlns='storage:rosternotes'/></query>`);
      assert.equal(r.getChild('query', P)!.getChild('storage', 'storage:rosternotes')!.getChildText('note'), 'get thee to a nunnery');
      const ex = await iq(h2, `type='get'`, `<query xmlns='${P}'><exodus xmlns='exodus:prefs'/></query>`);
      assert.equal(ex.getChild('query', P)!.getChild('exodus', 'exodus:prefs')!.getChildText('defaultnick'), 'Prince');
    } finally { h2.destroy(); }
  });
});
