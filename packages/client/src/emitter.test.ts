import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from './emitter.js';

type Ev = { [k: string]: unknown[]; a: [n: number]; listenerError: [e: unknown, ev: string] };

describe('Emitter', () => {
  it('on/off/once/wait deliver typed payloads', async () => {
    const e = new Emitter<Ev>();
    const got: number[] = [];
    const off = e.on('a', (n) => got.push(n));
    e.once('a', (n) => got.push(n * 10));
    e.emit('a', 1); e.emit('a', 2);
    off(); e.emit('a', 3);
    assert.deepEqual(got, [1, 10, 2]);
    const w = e.wait('a', (n) => n > 5);
    e.emit('a', 4); e.emit('a', 6);
    assert.deepEqual(await w, [6]);
    assert.equal(e.listenerCount('a'), 0);
  });
  it('a throwing listener does not stop the others and is reported', () => {
    const e = new Emitter<Ev>();
    const errors: unknown[] = [];
    e.on('listenerError', (err) => errors.push(err));
    let second = false;
    e.on('a', () => { throw new Error('boom'); });
    e.on('a', () => { second = true; });
    e.emit('a', 1);
    assert.equal(second, true);
    assert.equal((errors[0] as Error).message, 'boom');
  });
});
