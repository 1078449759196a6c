import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { buildUri, parseUri, UriError } from './uri.js';

describe('xmpp: URIs (RFC 5122)', () => {
  it('parses the RFC examples', () => {
    assert.deepEqual(parseUri('xmpp:node@example.com'), { authority: undefined, jid: 'node@example.com', action: undefined, params: {}, fragment: undefined });
    const m = parseUri('xmpp:romeo@montague.net?message;subject=Test%20Message;body=Here%27s%20a%20test%20message');
    assert.equal(m.action, 'message');
    assert.deepEqual(m.params, { subject: 'Test Message', body: "Here's a test message" });
    const a = parseUri('xmpp://guest@example.com/support@example.com?message');
    assert.equal(a.authority, 'guest@example.com');
    assert.equal(a.jid, 'support@example.com');
    assert.equal(parseUri('xmpp:darkcave@chat.shakespeare.lit?join').action, 'join');
    assert.equal(parseUri('xmpp:pubsub.example.com?pubsub;action=subscribe;node=princely_musings').params.node, 'princely_musings');
  });
  it('decodes percent-encoded UTF-8 and prepares the JID', () => {
    assert.equal(parseUri('xmpp:ni%C3%B1o@example.com').jid, 'niño@example.com');
    assert.equal(parseUri('xmpp:Juliet@Example.COM/Balcony').jid, 'juliet@example.com/Balcony');
    assert.equal(parseUri('xmpp:a@b#frag%20x').fragment, 'frag x');
  });
  it('rejects what is not an xmpp URI or has a bad JID or encoding', () => {
    assert.throws(() => parseUri('http://example.com'), UriError);
    assert.throws(() => parseUri('xmpp:'), UriError);
    assert.throws(() => parseUri('xmpp:a%ZZ@b'), UriError);
    assert.throws(() => parseUri('xmpp:@example.com'));
  });
  it('builds URIs that parse back to the same values', () => {
    const u = { jid: 'niño@example.com/a b', action: 'message', params: { body: 'hi; there & =?#' }, fragment: 'x' };
    const s = buildUri(u);
    assert.ok(!s.includes(' ') && !s.slice(5).includes('#x') === false);
    assert.equal(s.split(';').length, 2, 'the semicolon in the value is encoded');
    const p = parseUri(s);
    assert.equal(p.jid, u.jid);
    assert.equal(p.action, 'message');
    assert.deepEqual(p.params, u.params);
    assert.equal(p.fragment, 'x');
    assert.equal(buildUri({ jid: 'romeo@montague.net', action: 'subscribe' }), 'xmpp:romeo@montague.net?subscribe');
  });
});
