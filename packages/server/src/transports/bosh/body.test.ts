import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { StreamError } from '@magpie/core/protocol/errors';
import { BOSH_NS, BoshBadRequest, httpStatus, lowerVersion, parseBoshVersion, parseRequest, responseBody, serializePayload, terminateBody } from './body.js';

const limits = { maxDepth: 8, maxAttributes: 16, maxNameLength: 64 };

describe('BOSH <body/> wrapper (XEP-0124 §4, XEP-0206)', () => {
  it('reads rid, sid, type, restart and pause, and re-qualifies unqualified stanzas as jabber:client', () => {
    const r = parseRequest(`<body xmlns='${BOSH_NS}' xmlns:xmpp='urn:xmpp:xbosh' rid='9007199254740991' sid='abc' xmpp:restart='true' pause='30' type='terminate'>
      <message to='a@b'><body>hi</body></message><iq xmlns='jabber:client' type='get' id='1'/></body>`, limits);
    assert.equal(r.rid, 9007199254740991);
    assert.equal(r.sid, 'abc');
    assert.equal(r.restart, true);
    assert.equal(r.terminate, true);
    assert.equal(r.pause, 30);
    assert.deepEqual(r.payloads.map((p) => [p.name, p.xmlns]), [['message', 'jabber:client'], ['iq', 'jabber:client']]);
    assert.equal(r.payloads[0]!.getChild('body', 'jabber:client')?.text(), 'hi');
  });

  it('refuses what is not a well-formed body with a usable rid', () => {
    const bad = [
      `<body xmlns='${BOSH_NS}' rid='1'><open>`,
      `<body rid='1'/>`,
      `<body xmlns='${BOSH_NS}'/>`,
      `<body xmlns='${BOSH_NS}' rid='-1'/>`,
      `<body xmlns='${BOSH_NS}' rid='0'/>`,
      `<body xmlns='${BOSH_NS}' rid='99999999999999999'/>`,
      `<body xmlns='${BOSH_NS}' rid='1'>text</body>`,
      `<body xmlns='${BOSH_NS}' rid='1' pause='soon'/>`,
      `<body xmlns='${BOSH_NS}' rid='1' xmpp:restart='true'/>`,
      `<body xmlns='${BOSH_NS}' rid='1'>${'<a>'.repeat(12)}${'</a>'.repeat(12)}</body>`,
    ];
    for (const b of bad) assert.throws(() => parseRequest(b, limits), BoshBadRequest, b);
  });

  it('writes response bodies: escaped attributes, xmpp and stream prefixes declared when used', () => {
    assert.equal(responseBody({}), `<body xmlns='${BOSH_NS}'/>`);
    const b = responseBody({ sid: `a'b`, 'xmpp:version': '1.0' }, [serializePayload(xml('features', 'http://etherx.jabber.org/streams', {}, xml('bind', 'urn:ietf:params:xml:ns:xmpp-bind')))]);
    const el = parseFragment(b);
    assert.equal(el.attrs.sid, `a'b`);
    assert.equal(el.attrs['{urn:xmpp:xbosh}version'], '1.0');
    assert.match(b, /<stream:features><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"\/><\/stream:features>/);
    assert.ok(el.getChild('features', 'http://etherx.jabber.org/streams')?.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind'));
    const err = parseFragment(terminateBody('remote-stream-error', [serializePayload(new StreamError('conflict', 'replaced').toElement())]));
    assert.equal(err.attrs.condition, 'remote-stream-error');
    assert.equal(err.getChild('error', 'http://etherx.jabber.org/streams')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-streams'), 'replaced');
    const msg = serializePayload(xml('message', 'jabber:client', { to: 'a@b' }));
    assert.equal(msg, '<message xmlns="jabber:client" to="a@b"/>');
  });

  it('versions compare by integer parts; legacy clients get HTTP status codes', () => {
    assert.deepEqual(parseBoshVersion('1.11'), [1, 11]);
    assert.equal(parseBoshVersion('1.x'), undefined);
    assert.deepEqual(lowerVersion([1, 6], [1, 11]), [1, 6]);
    assert.deepEqual(lowerVersion([1, 20], [1, 11]), [1, 11]);
    assert.equal(httpStatus('item-not-found', false), 200);
    assert.equal(httpStatus('item-not-found', true), 404);
    assert.equal(httpStatus('bad-request', true), 400);
    assert.equal(httpStatus('policy-violation', true), 403);
    assert.equal(httpStatus('host-unknown', true), 200);
  });
});
