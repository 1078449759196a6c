import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { xml } from '@magpie/core/xml/element';
import { OutgoingQueue, QueueFullError } from './queue.js';

const m = (id: string) => xml('message', 'jabber:client', { id });

describe('OutgoingQueue', () => {
  it('drains in order and empties', () => {
    const q = new OutgoingQueue();
    q.push(m('1')); q.push(m('2'));
    assert.deepEqual(q.drain().map((e) => e.attr('id')), ['1', '2']);
    assert.equal(q.length, 0);
    assert.deepEqual(q.drain(), []);
  });
  it('refuses past the limit with a typed error', () => {
    const q = new OutgoingQueue(2);
    q.push(m('1')); q.push(m('2'));
    assert.throws(() => q.push(m('3')), QueueFullError);
    assert.equal(q.length, 2);
  });
  it('unshift puts unsent stanzas back in front', () => {
    const q = new OutgoingQueue();
    q.push(m('3'));
    q.unshift([m('1'), m('2')]);
    assert.deepEqual(q.drain().map((e) => e.attr('id')), ['1', '2', '3']);
  });
});
