import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@magpie/core/xml/element';
import { HandledCountError, SM_NS, StreamManagementState } from './sm.js';

const m = (id: string) => xml('message', 'jabber:client', { id });
const ids = (els: readonly { attr(n: string): string | undefined }[]) => els.map((e) => e.attr('id'));

describe('StreamManagementState (XEP-0198 counters)', () => {
  it('counts only stanzas, only once enabled', () => {
    const s = new StreamManagementState();
    s.onInbound(m('before'));
    s.onOutbound(m('before'));
    s.start();
    s.onInbound(m('before enabled'));
    s.confirm(xml('enabled', SM_NS));
    s.onInbound(m('1'));
    s.onInbound(xml('r', SM_NS));
    s.onInbound(xml('presence', 'jabber:client'));
    assert.equal(s.inbound, 2);
    s.onOutbound(m('a')); s.onOutbound(xml('a', SM_NS, { h: 2 })); s.onOutbound(m('b'));
    assert.equal(s.sentCount, 2);
    assert.deepEqual(ids(s.pending), ['a', 'b']);
  });

  it('acks trim the queue; a repeated ack is harmless; too high an h throws', () => {
    const s = new StreamManagementState();
    s.start();
    for (const id of ['a', 'b', 'c']) s.onOutbound(m(id));
    assert.deepEqual(ids(s.ack(2)), ['a', 'b']);
    assert.deepEqual(ids(s.ack(2)), []);
    assert.deepEqual(ids(s.pending), ['c']);
    assert.throws(() => s.ack(5), HandledCountError);
    assert.throws(() => s.ack(-1), HandledCountError);
  });

  it('resumption returns what the server missed and recounts it', () => {
    const s = new StreamManagementState();
    s.start();
    s.confirm(xml('enabled', SM_NS, { id: 'xyz', resume: 'true', max: '120' }));
    assert.equal(s.resumable, true);
    assert.equal(s.max, 120);
    for (const id of ['a', 'b', 'c', 'd']) s.onOutbound(m(id));
    s.ack(1);
    const again = s.resumed(2);
    assert.deepEqual(ids(again), ['c', 'd']);
    assert.equal(s.sentCount, 2);
    for (const e of again) s.onOutbound(e);
    assert.equal(s.sentCount, 4);
    assert.deepEqual(ids(s.ack(4)), ['c', 'd']);
  });

  it('wraps at 2^32 (XEP-0198 §4)', () => {
    const s = new StreamManagementState();
    s.start();
    (s as unknown as { outbound: number; acked: number }).outbound = 2 ** 32 - 1;
    (s as unknown as { outbound: number; acked: number }).acked = 2 ** 32 - 1;
    s.onOutbound(m('x')); s.onOutbound(m('y'));
    assert.equal(s.sentCount, 1);
    assert.deepEqual(ids(s.ack(0)), ['x']);
    assert.deepEqual(ids(s.ack(1)), ['y']);
    s.confirm(xml('enabled', SM_NS));
    s.inbound = 2 ** 32 - 1;
    s.onInbound(m('z'));
    assert.equal(s.inbound, 0);
  });

  it('not resumable without resume=true; reset returns the unacked stanzas', () => {
    const s = new StreamManagementState();
    s.start();
    s.confirm(xml('enabled', SM_NS, { id: 'xyz' }));
    assert.equal(s.resumable, false);
    s.onOutbound(m('a'));
    assert.deepEqual(ids(s.reset()), ['a']);
    assert.equal(s.enabled, false);
    assert.ok(new HandledCountError(3, 1).message.includes('3'));
  });
});
