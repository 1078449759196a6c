import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BOSH_NS, parseRequest } from './body.js';
import { isEmptyRequest, overactive, pollingTooFast } from './pacing.js';

const req = (attrs = '', inner = '') => parseRequest(`<body xmlns='${BOSH_NS}' xmlns:xmpp='urn:xmpp:xbosh' rid='5' ${attrs}>${inner}</body>`, {});

describe('BOSH pacing (XEP-0124 §11, §12)', () => {
  it('empty means nothing for the stream', () => {
    assert.equal(isEmptyRequest(req()), true);
    assert.equal(isEmptyRequest(req('', `<message xmlns='jabber:client'/>`)), false);
    assert.equal(isEmptyRequest(req(`xmpp:restart='true'`)), false);
    assert.equal(isEmptyRequest(req(`type='terminate'`)), false);
    assert.equal(isEmptyRequest(req(`pause='10'`)), false);
  });

  it('overactivity: more than `requests` unanswered, one more for pause or terminate', () => {
    assert.equal(overactive(2, 2, req()), false);
    assert.equal(overactive(3, 2, req()), true);
    assert.equal(overactive(3, 2, req(`type='terminate'`)), false);
    assert.equal(overactive(3, 2, req(`pause='10'`)), false);
    assert.equal(overactive(4, 2, req(`pause='10'`)), true);
  });

  it('polling: two empty requests within `polling`, the first not answered by its wait running out', () => {
    const at = 10_000;
    assert.equal(pollingTooFast({ empty: true, at, answered: 'no' }, true, at + 500, 2), true);
    assert.equal(pollingTooFast({ empty: true, at, answered: 'early' }, true, at + 500, 2), true);
    assert.equal(pollingTooFast({ empty: true, at, answered: 'timeout' }, true, at + 500, 2), false);
    assert.equal(pollingTooFast({ empty: true, at, answered: 'payload' }, true, at + 500, 2), false);
    assert.equal(pollingTooFast({ empty: false, at, answered: 'no' }, true, at + 500, 2), false);
    assert.equal(pollingTooFast({ empty: true, at, answered: 'no' }, false, at + 500, 2), false);
    assert.equal(pollingTooFast({ empty: true, at, answered: 'no' }, true, at + 2500, 2), false);
    assert.equal(pollingTooFast(undefined, true, at, 2), false);
  });
});
