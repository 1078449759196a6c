import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@magpie/core/xml/element';
import { WRAP, advance, distance, parseH } from './counter.js';
import { UnackedQueue } from './unacked-queue.js';

const msg = (i: number) => xml('message', 'jabber:client', { id: String(i) });

describe('XEP-0198 counter arithmetic', () => {
  it('advances and wraps from 2^32-1 to 0', () => {
    assert.equal(advance(0), 1);
    assert.equal(advance(WRAP - 1), 0);
    assert.equal(advance(WRAP - 2, 5), 3);
  });
  it('measures the forward distance modulo 2^32', () => {
    assert.equal(distance(5, 9), 4);
    assert.equal(distance(WRAP - 2, 1), 3);
    assert.equal(distance(7, 7), 0);
    assert.equal(distance(1, 0), WRAP - 1);
  });
  it('parses h as an unsignedInt only', () => {
    assert.equal(parseH('0'), 0);
    assert.equal(parseH('4294967295'), WRAP - 1);
    assert.equal(parseH('4294967296'), undefined);
    assert.equal(parseH('-1'), undefined);
    assert.equal(parseH('1e3'), undefined);
    assert.equal(parseH(''), undefined);
    assert.equal(parseH(undefined), undefined);
  });
});

describe('unacked queue', () => {
  it('acks in steps and refuses an h beyond what was sent', () => {
    const q = new UnackedQueue();
    for (let i = 0; i < 5; i++) q.push(msg(i));
    assert.deepEqual(q.ack(2), { ok: true, acked: 2 });
    assert.deepEqual(q.pending().map((u) => u.stanza.attrs.id), ['2', '3', '4']);
    assert.deepEqual(q.ack(2), { ok: true, acked: 0 }, 'a repeated h acks nothing');
    assert.deepEqual(q.ack(6), { ok: false, sent: 5 });
    assert.equal(q.length, 3, 'a refused ack leaves the queue');
    assert.deepEqual(q.ack(5), { ok: true, acked: 3 });
    assert.equal(q.length, 0);
  });

  it('keeps counting across the 2^32 wrap', () => {
    const q = new UnackedQueue();
    q.sent = WRAP - 2; q.acked = WRAP - 2;
    for (let i = 0; i < 4; i++) q.push(msg(i));
    assert.equal(q.sent, 2);
    assert.deepEqual(q.ack(WRAP - 1), { ok: true, acked: 1 });
    assert.deepEqual(q.ack(1), { ok: true, acked: 2 });
    assert.deepEqual(q.pending().map((u) => u.stanza.attrs.id), ['3']);
    assert.deepEqual(q.ack(3), { ok: false, sent: 2 });
    assert.deepEqual(q.ack(2), { ok: true, acked: 1 });
  });

  it('an h that looks smaller than the last ack is a wrap too far, not a rewind', () => {
    const q = new UnackedQueue();
    for (let i = 0; i < 3; i++) q.push(msg(i));
    q.ack(2);
    assert.equal(q.ack(1).ok, false);
  });

  it('compacts without losing order and drains everything', () => {
    const q = new UnackedQueue();
    for (let i = 0; i < 3000; i++) q.push(msg(i));
    for (let h = 100; h <= 2500; h += 100) assert.equal(q.ack(h).ok, true);
    assert.equal(q.length, 500);
    assert.equal(q.pending()[0]!.stanza.attrs.id, '2500');
    const all = q.drain();
    assert.equal(all.length, 500);
    assert.equal(all.at(-1)!.stanza.attrs.id, '2999');
    assert.equal(q.length, 0);
  });
});
