// A BOSH session driven without HTTP: requests in, replies captured, a fake stream on the other
// side of its framing (what c2s would do: answer the stream open with features).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { StreamError } from '@magpie/core/protocol/errors';
import { createLogger } from '../../log/logger.js';
import { BOSH_NS, parseRequest } from './body.js';
import { BoshSession, type SessionParams } from './session.js';

interface Sent { status: number; body: string }
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup(over: Partial<SessionParams> = {}, first = 100) {
  const ended: BoshSession[] = [];
  const s = new BoshSession({
    sid: 'sid-for-tests-0123456789', log: createLogger({ level: 'silent' }), remoteAddress: '127.0.0.1', remotePort: 1, localPort: 2,
    secure: false, legacy: false, ver: [1, 6], domain: 'localhost', lang: 'en', from: undefined,
    wait: 30, hold: 1, inactivity: 30, polling: 2, maxPause: 0, maxPendingBytes: 1 << 20,
    onEnd: (x) => ended.push(x), ...over,
  }, first);
  const got: string[] = [];
  const input = s.framing.createInput({
    onStreamOpen: () => { s.write(s.framing.open({ id: 'stream-1', lang: 'en', contentNs: 'jabber:client' })); s.write(s.framing.element(xml('features', 'http://etherx.jabber.org/streams'))); },
    onElement: (el) => got.push(el.name),
    onStreamClose: () => got.push('close'),
    onError: () => {},
  }, {});
  s.onData = () => input.write('');
  let closed = 0;
  s.onClose = () => { closed++; };
  const request = (rid: number, inner = '', attrs = ''): { sent: Sent[] } => {
    const sent: Sent[] = [];
    const req = parseRequest(`<body xmlns='${BOSH_NS}' rid='${rid}' ${attrs}>${inner}</body>`, {});
    const reply = { send: (status: number, body: string) => { sent.push({ status, body }); } };
    if (rid === first) s.start(req, reply); else s.handle(req, reply);
    return { sent };
  };
  return { s, got, request, ended, closed: () => closed };
}

const attrsOf = (x: Sent | undefined): Record<string, string> => (x ? parseFragment(x.body).attrs : {});

describe('BOSH session (XEP-0124 §7-§14) with a fake stream', () => {
  it('answers the creation request with its attributes and the features, once', async () => {
    const { request, s } = setup();
    const c = request(100);
    await tick();
    assert.equal(c.sent.length, 1);
    const body = parseFragment(c.sent[0]!.body);
    assert.equal(body.attrs.sid, 'sid-for-tests-0123456789');
    assert.equal(body.attrs.authid, 'stream-1');
    assert.equal(body.attrs.requests, '2');
    assert.ok(body.getChild('features', 'http://etherx.jabber.org/streams'));
    assert.equal(s.requests, 2);
  });

  it('a polling session (hold 0) answers every request at once', async () => {
    const { request } = setup({ hold: 0 });
    const c = request(100);
    await tick();
    assert.equal(attrsOf(c.sent[0]).hold, '0');
    const p = request(101);
    await tick();
    assert.equal(p.sent.length, 1);
    assert.equal(attrsOf(p.sent[0]).type, undefined);
  });

  it('with hold 1, a new request releases the held one; payloads reach the stream in rid order', async () => {
    const { request, got } = setup();
    request(100); await tick();
    const b = request(102, `<message xmlns='jabber:client'/>`);
    const a = request(101, `<iq xmlns='jabber:client' type='get' id='x'/>`);
    assert.deepEqual(got, ['iq', 'message']);
    await tick();
    assert.equal(a.sent.length, 1, 'the oldest was answered');
    assert.equal(b.sent.length, 0, 'the newest is held');
  });

  it('a repeated rid still held: the first copy gets a recoverable error, the second the answer', async () => {
    const { request, s } = setup();
    request(100); await tick();
    const first = request(101);
    const second = request(101);
    assert.equal(attrsOf(first.sent[0]).type, 'error');
    s.write(`<message xmlns="jabber:client"/>`);
    await tick();
    assert.match(second.sent[0]!.body, /<message/);
  });

  it('more unanswered requests than `requests` is a policy violation', () => {
    const { request, ended } = setup();
    const c = request(100);
    const a = request(101);
    const b = request(102, `<message xmlns='jabber:client'/>`);
    assert.equal(attrsOf(b.sent[0]).condition, 'policy-violation');
    assert.equal(attrsOf(a.sent[0]).condition, 'other-request');
    assert.equal(attrsOf(c.sent[0]).condition, 'other-request');
    assert.equal(ended.length, 1);
  });

  it('legacy clients get 404 for a rid outside the window; the session ends and reports it closed', () => {
    const { request, closed } = setup({ legacy: true, ver: undefined });
    request(100);
    const far = request(150);
    assert.equal(far.sent[0]!.status, 404);
    assert.equal(attrsOf(far.sent[0]).condition, 'item-not-found');
    assert.equal(closed(), 1);
  });

  it('a stream error ends the session on the oldest held request, after what was queued before it', async () => {
    const { request, s, closed } = setup();
    request(100); await tick();
    const a = request(101);
    s.write(s.framing.element(xml('message', 'jabber:client', { id: 'last' })));
    s.write(s.framing.element(new StreamError('conflict').toElement()));
    s.write(s.framing.close);
    s.end();
    await tick();
    const body = parseFragment(a.sent[0]!.body);
    assert.equal(body.attrs.type, 'terminate');
    assert.equal(body.attrs.condition, 'remote-stream-error');
    assert.deepEqual(body.elements().map((e) => e.name), ['message', 'error']);
    assert.equal(closed(), 1);
  });

  it('terminate: the stream sees the payloads, then the close; the request waits for the stream to end', async () => {
    const { request, got, s } = setup();
    request(100); await tick();
    const t = request(101, `<presence xmlns='jabber:client' type='unavailable'/>`, `type='terminate'`);
    await tick();
    assert.deepEqual(got, ['presence', 'close']);
    assert.equal(t.sent.length, 0);
    s.write(s.framing.close);
    s.end();
    await tick();
    assert.equal(attrsOf(t.sent[0]).type, 'terminate');
    assert.equal(attrsOf(t.sent[0]).condition, undefined);
  });
});
