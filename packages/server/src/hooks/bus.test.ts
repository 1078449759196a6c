import { it } from 'node:test';
import assert from 'node:assert/strict';
import { HookBus } from './bus.js';

it('runs handlers by priority, stops at the first value, and unsubscribes', async () => {
  const bus = new HookBus();
  const seen: string[] = [];
  bus.on('server/started', () => { seen.push('low'); }, -5);
  const off = bus.on('server/started', () => { seen.push('high'); return 'stop'; }, 10);
  bus.on('server/started', () => { seen.push('mid'); }, 0);
  assert.equal(await bus.fire('server/started', {}), 'stop');
  assert.deepEqual(seen, ['high']);
  off();
  seen.length = 0;
  assert.equal(await bus.fire('server/started', {}), undefined);
  assert.deepEqual(seen, ['mid', 'low']);
});

it('awaits async handlers in order and emit() calls all of them', async () => {
  const bus = new HookBus();
  const seen: number[] = [];
  bus.on('server/stopping', async () => { await new Promise((r) => setTimeout(r, 5)); seen.push(1); return true; }, 2);
  bus.on('server/stopping', () => { seen.push(2); }, 1);
  await bus.emit('server/stopping', {});
  assert.deepEqual(seen, [1, 2]);
});

it('refuses unknown event names', () => {
  const bus = new HookBus();
  assert.throws(() => bus.on('mesage/bare' as never, () => {}), /unknown hook event/);
  assert.doesNotThrow(() => bus.on('pre-iq/full', () => {}));
});

it('a handler that throws rejects fire() for the caller to handle', async () => {
  const bus = new HookBus();
  bus.on('message/bare', () => { throw new Error('boom'); });
  await assert.rejects(bus.fire('message/bare', {} as never), /boom/);
});
