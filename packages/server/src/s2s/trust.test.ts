import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { certificateValidFor, namesDomain } from './trust.js';

describe('peer certificate identities (RFC 6125)', () => {
  it('matches dNSName, one-label wildcards, xmppAddr and SRVName', () => {
    assert.ok(namesDomain(['DNS:a.example'], 'A.example'));
    assert.ok(namesDomain(['DNS:*.example'], 'a.example'));
    assert.ok(!namesDomain(['DNS:*.example'], 'b.a.example'));
    assert.ok(!namesDomain(['DNS:*.example'], 'example'));
    assert.ok(namesDomain(['othername:XmppAddr:a.example'], 'a.example'));
    assert.ok(namesDomain(['othername:SRVName:_xmpp-server.a.example'], 'a.example'));
    assert.ok(!namesDomain(['DNS:b.example', 'othername:XmppAddr:x@a.example'], 'a.example'));
  });
  it('needs an authorised chain as well as the name', () => {
    assert.ok(certificateValidFor({ raw: new Uint8Array(), authorized: true, subjectAltNames: ['DNS:a.example'] }, 'a.example'));
    assert.ok(!certificateValidFor({ raw: new Uint8Array(), authorized: false, subjectAltNames: ['DNS:a.example'] }, 'a.example'));
    assert.ok(!certificateValidFor(undefined, 'a.example'));
  });
});
