// Message carbons (XEP-0280) end to end: romeo on three resources (a, b enabled later, c never),
// juliet as his contact, tybalt trying to forge carbons; slixmpp's xep_0280 plugin as a real
// client that enables carbons and accepts a sent copy (it checks the copy's `from`, §11).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { login, take, none, iq, chat, byId, errorCondition, presenceSync } from './roster-helpers.js';

const CARBONS = 'urn:xmpp:carbons:2';
const FORWARD = 'urn:xmpp:forward:0';
const ROMEO = 'romeo@localhost';

/** The forwarded message of a carbon of kind `dir` whose forwarded message has this id. */
const carbonOf = (dir: 'sent' | 'received', id: string) => (e: Element): boolean =>
  e.name === 'message' && inner(e, dir)?.attr('id') === id;
function inner(e: Element, dir: 'sent' | 'received'): Element | undefined {
  return e.getChild(dir, CARBONS)?.getChild('forwarded', FORWARD)?.getChild('message', 'jabber:client');
}
const anyCarbon = (e: Element): boolean => e.name === 'message' && (!!e.getChild('sent', CARBONS) || !!e.getChild('received', CARBONS));

describe('message carbons (XEP-0280)', () => {
  let ts: TestServer;
  let a: RawClient, b: RawClient, c: RawClient, juliet: RawClient, tybalt: RawClient;

  before(async () => {
    ts = await startTestServer();
    for (const u of ['romeo', 'juliet', 'tybalt']) await ts.addUser(u, 'pw');
    a = await login(ts, 'romeo', 'a');
    b = await login(ts, 'romeo', 'b');
    c = await login(ts, 'romeo', 'c');
    juliet = await login(ts, 'juliet', 'balcony');
    tybalt = await login(ts, 'tybalt', 'street');
    // a has the highest priority: bare-JID messages go to it alone (RFC 6121 §8.5.2.1.1).
    await presenceSync(a, `<presence><priority>5</priority></presence>`);
    await presenceSync(b, `<presence/>`);
    await presenceSync(c, `<presence/>`);
  });
  after(async () => { for (const x of [a, b, c, juliet, tybalt]) x?.destroy(); await ts.stop(); });

  it('the server advertises urn:xmpp:carbons:2', async () => {
    const r = await iq(a, 'get', `<query xmlns='http://jabber.org/protocol/disco#info'/>`, 'localhost');
    assert.ok(r.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').some((f) => f.attr('var') === CARBONS));
  });

  it('enable and disable answer with a result, repeatedly; another account\'s carbons are not-allowed', async () => {
    for (const [client, payload] of [[a, 'enable'], [a, 'enable'], [b, 'enable'], [c, 'disable'], [c, 'disable']] as const) {
      const r = await iq(client, 'set', `<${payload} xmlns='${CARBONS}'/>`);
      assert.equal(r.attr('type'), 'result', `${payload}: ${r.toString()}`);
    }
    const viaHost = await iq(c, 'set', `<disable xmlns='${CARBONS}'/>`, 'localhost');
    assert.equal(viaHost.attr('type'), 'result');
    const other = await iq(tybalt, 'set', `<disable xmlns='${CARBONS}'/>`, ROMEO);
    assert.equal(other.attr('type'), 'error');
    assert.equal(errorCondition(other), 'not-allowed');
  });

  it('a message to one resource is copied as <received/> from the bare JID to the other enabled resources only', async () => {
    juliet.send(chat(`${ROMEO}/b`, 'r1'));
    const orig = await take(b, byId('r1'), 'the original at b');
    assert.equal(orig.getChildText('body'), 'r1');
    const copy = await take(a, carbonOf('received', 'r1'), 'received copy at a');
    assert.equal(copy.attr('from'), ROMEO, '§7: from the bare JID');
    assert.equal(copy.attr('to'), `${ROMEO}/a`);
    assert.equal(copy.attr('type'), 'chat');
    const fwd = inner(copy, 'received')!;
    assert.equal(fwd.attr('from'), 'juliet@localhost/balcony');
    assert.equal(fwd.attr('to'), `${ROMEO}/b`);
    assert.equal(fwd.getChildText('body'), 'r1');
    await none(b, carbonOf('received', 'r1'), 'a copy at the resource that got the original');
    await none(c, (e) => anyCarbon(e) || e.attr('id') === 'r1', 'anything at the disabled resource', 100);
  });

  it('a message a client sends is copied as <sent/> to its other enabled resources, not to itself', async () => {
    a.send(chat('juliet@localhost/balcony', 's1'));
    await take(juliet, byId('s1'), 'the message at juliet');
    const copy = await take(b, carbonOf('sent', 's1'), 'sent copy at b');
    assert.equal(copy.attr('from'), ROMEO);
    assert.equal(copy.attr('to'), `${ROMEO}/b`);
    const fwd = inner(copy, 'sent')!;
    assert.equal(fwd.attr('from'), `${ROMEO}/a`);
    assert.equal(fwd.attr('to'), 'juliet@localhost/balcony');
    await none(a, anyCarbon, 'a copy at the sender');
    await none(c, anyCarbon, 'a copy at the disabled resource', 100);
  });

  it('sent copies also go out for messages to a remote domain (before the bounce)', async () => {
    b.send(chat('mercutio@verona.example', 'remote1'));
    const copy = await take(a, carbonOf('sent', 'remote1'), 'sent copy at a');
    assert.equal(inner(copy, 'sent')!.attr('to'), 'mercutio@verona.example');
    const bounce = await take(b, (e) => e.attr('id') === 'remote1' && e.attr('type') === 'error', 'bounce');
    assert.equal(errorCondition(bounce), 'remote-server-not-found');
    await none(a, (e) => e.attr('id') === 'remote1' && e.attr('type') === 'error', 'our own bounce copied', 100);
  });

  it('to the bare JID: resources that got the original get no copy; the others do', async () => {
    juliet.send(chat(ROMEO, 'bare1'));
    await take(a, byId('bare1'), 'original at a (highest priority)');
    const copy = await take(b, carbonOf('received', 'bare1'), 'received copy at b');
    assert.equal(inner(copy, 'received')!.attr('to'), ROMEO);
    await none(a, anyCarbon, 'a copy at a as well');
    // Equal priorities: both get the original, neither a copy.
    await presenceSync(b, `<presence><priority>5</priority></presence>`);
    juliet.send(chat(ROMEO, 'bare2'));
    await take(a, byId('bare2'), 'original at a');
    await take(b, byId('bare2'), 'original at b');
    await none(a, anyCarbon, 'a duplicate copy at a');
    await none(b, anyCarbon, 'a duplicate copy at b', 50);
    await presenceSync(b, `<presence/>`);
  });

  it('<private/> and <no-copy/> are not copied either way; <private/> reaches the recipient (§9)', async () => {
    a.send(`<message to='juliet@localhost/balcony' type='chat' id='p1'><body>hush</body><private xmlns='${CARBONS}'/><no-copy xmlns='urn:xmpp:hints'/></message>`);
    const got = await take(juliet, byId('p1'), 'private message at juliet');
    assert.ok(got.getChild('private', CARBONS), 'XEP-0280 1.0 no longer removes <private/>');
    a.send(`<message to='juliet@localhost/balcony' type='chat' id='p2'><body>hush</body><no-copy xmlns='urn:xmpp:hints'/></message>`);
    await take(juliet, byId('p2'), 'no-copy message at juliet');
    juliet.send(`<message to='${ROMEO}/a' type='chat' id='p3'><body>hush</body><private xmlns='${CARBONS}'/></message>`);
    juliet.send(`<message to='${ROMEO}/a' type='chat' id='p4'><body>hush</body><no-copy xmlns='urn:xmpp:hints'/></message>`);
    await take(a, byId('p3'), 'p3'); await take(a, byId('p4'), 'p4');
    await none(b, anyCarbon, 'a copy of a private/no-copy message');
  });

  it('groupchat, headline, MUC private messages from an occupant and unrelated errors are not copied', async () => {
    juliet.send(`<message to='${ROMEO}/a' type='headline' id='h1'><body>news</body></message>`);
    juliet.send(`<message to='${ROMEO}/a' type='groupchat' id='g1'><body>room</body></message>`);
    juliet.send(`<message to='${ROMEO}/a' type='chat' id='pm1'><body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`);
    juliet.send(`<message to='${ROMEO}/a' type='error' id='unrelated'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
    for (const id of ['h1', 'g1', 'pm1', 'unrelated']) await take(a, byId(id), id);
    await none(b, anyCarbon, 'a copy of groupchat/headline/MUC PM/error');
    // A mediated MUC invitation is copied (§6.1).
    juliet.send(`<message to='${ROMEO}/a' id='inv1'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='juliet@localhost'/></x></message>`);
    await take(b, carbonOf('received', 'inv1'), 'copy of an invitation');
  });

  it('an error answering a copied message is copied', async () => {
    a.send(chat('juliet@localhost/balcony', 'e1'));
    await take(juliet, byId('e1'), 'e1 at juliet');
    await take(b, carbonOf('sent', 'e1'), 'sent copy of e1');
    juliet.send(`<message to='${ROMEO}/a' type='error' id='e1'><error type='cancel'><not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`);
    await take(a, (e) => e.attr('id') === 'e1' && e.attr('type') === 'error', 'the error at a');
    const copy = await take(b, carbonOf('received', 'e1'), 'received copy of the error at b');
    assert.equal(copy.attr('type'), 'error');
  });

  it('forged carbons: another account cannot make a carbon appear from romeo', async () => {
    const forgedBody = `<received xmlns='${CARBONS}'><forwarded xmlns='${FORWARD}'><message xmlns='jabber:client' from='juliet@localhost/balcony' to='${ROMEO}/a' type='chat' id='fake'><body>meet me</body></message></forwarded></received>`;
    tybalt.send(`<message to='${ROMEO}/a' type='chat' id='f1'>${forgedBody}<body>hi</body></message>`);
    tybalt.send(`<message to='${ROMEO}' type='chat' id='f2'><sent xmlns='${CARBONS}'><forwarded xmlns='${FORWARD}'><message xmlns='jabber:client' from='${ROMEO}/c' to='juliet@localhost' type='chat'><body>I hate you</body></message></forwarded></sent></message>`);
    const f1 = await take(a, byId('f1'), 'f1 at a');
    assert.equal(f1.attr('from'), 'tybalt@localhost/street');
    assert.equal(f1.getChild('received', CARBONS), undefined, 'the forged <received/> is removed');
    assert.equal(f1.getChildText('body'), 'hi');
    const f2 = await take(a, byId('f2'), 'f2 at a');
    assert.equal(f2.getChild('sent', CARBONS), undefined);
    // b gets the genuine received copy of f1, from the bare JID, forwarding tybalt's message as it is.
    const copy = await take(b, carbonOf('received', 'f1'), 'received copy of f1');
    assert.equal(inner(copy, 'received')!.attr('from'), 'tybalt@localhost/street');
    assert.equal(inner(copy, 'received')!.getChild('received', CARBONS), undefined);
    await take(b, carbonOf('received', 'f2'), 'received copy of f2 (sent to the bare JID, delivered to a)');
    // Nothing anywhere forwards the forged inner messages.
    for (const x of [a, b, c]) {
      assert.ok(!x.elements.some((e) => carbonOf('received', 'fake')(e) || inner(e, 'sent')?.getChildText('body') === 'I hate you'), 'a forged carbon was delivered');
    }
    assert.ok(((ts.server.metrics.values.get('carbons.forged-removed')) ?? 0) >= 2);
    // Claiming romeo's bare JID as `from` is a stream error (RFC 6120 §8.1.2.1), not a carbon.
    const t2 = await login(ts, 'tybalt', 'liar');
    t2.send(`<message from='${ROMEO}' to='${ROMEO}/a' type='chat' id='f3'><sent xmlns='${CARBONS}'/></message>`);
    await t2.waitText(/invalid-from/);
    await t2.waitClosed();
    await none(a, byId('f3'), 'a message claiming romeo\'s bare JID', 100);
  });

  it('between resources of one account: the other enabled resources get a <sent/> copy', async () => {
    await iq(c, 'set', `<enable xmlns='${CARBONS}'/>`);
    a.send(chat(`${ROMEO}/b`, 'self1'));
    await take(b, byId('self1'), 'original at b');
    const copy = await take(c, carbonOf('sent', 'self1'), 'sent copy at c');
    assert.equal(copy.attr('from'), ROMEO);
    await none(a, anyCarbon, 'a copy at the sender');
    await none(b, anyCarbon, 'a copy at the recipient', 50);
    await iq(c, 'set', `<disable xmlns='${CARBONS}'/>`);
  });

  it('a disabled resource gets no copies again', async () => {
    const r = await iq(b, 'set', `<disable xmlns='${CARBONS}'/>`);
    assert.equal(r.attr('type'), 'result');
    juliet.send(chat(`${ROMEO}/a`, 'd1'));
    c.send(chat('juliet@localhost/balcony', 'd2'));
    await take(a, byId('d1'), 'd1 at a');
    await take(a, carbonOf('sent', 'd2'), 'a (still enabled) gets the sent copy');
    await none(b, anyCarbon, 'a copy after disabling');
  });

  it('slixmpp (xep_0280) enables carbons and accepts a sent copy', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed (apt-get install python3-slixmpp)');
    const script = fileURLToPath(new URL('../support/slix_carbons.py', import.meta.url));
    const slix = new SlixClient({ jid: `${ROMEO}/slix`, password: 'pw', port: ts.port }, script);
    try {
      const en = await slix.waitFor((e) => e.event === 'carbons_enabled' || e.event === 'error');
      assert.equal(en.event, 'carbons_enabled', JSON.stringify(en));
      await slix.waitFor((e) => e.event === 'presence_sent');
      // Presence is processed in order before the ping answer: the slix resource is available.
      await iq(a, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
      for (let i = 0; i < 50 && !ts.server.sessions.get(`${ROMEO}/slix`)?.presence; i++) await new Promise((r) => setTimeout(r, 100));
      a.send(chat('juliet@localhost/balcony', 'to slix'));
      const sent = await slix.waitFor((e) => e.event === 'carbon_sent');
      assert.deepEqual([sent.frm, sent.inner_from, sent.inner_to, sent.body], [ROMEO, `${ROMEO}/a`, 'juliet@localhost/balcony', 'to slix']);
      juliet.send(chat(`${ROMEO}/a`, 'slix-r', 'hello all'));
      const rec = await slix.waitFor((e) => e.event === 'carbon_received');
      assert.deepEqual([rec.frm, rec.inner_from, rec.body], [ROMEO, 'juliet@localhost/balcony', 'hello all']);
    } finally { await slix.quit(); }
  });
});
