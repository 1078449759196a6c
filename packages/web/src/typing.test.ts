import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { TypingNotifier, type OutState } from './typing.js';

function fakeClock() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  return {
    setTimer: (fn: () => void, ms: number) => { const id = next++; timers.set(id, { at: now + ms, fn }); return id; },
    clearTimer: (id: unknown) => { timers.delete(id as number); },
    advance(ms: number) {
      now += ms;
      for (const [id, t] of [...timers]) if (t.at <= now) { timers.delete(id); t.fn(); }
    },
  };
}

describe('outgoing chat states (XEP-0085)', () => {
  it('composing once while typing, paused after a quiet spell, composing again on the next key', () => {
    const sent: OutState[] = [];
    const clock = fakeClock();
    const t = new TypingNotifier({ send: (s) => sent.push(s), pauseAfter: 5000, ...clock });
    t.input('h'); t.input('he'); clock.advance(3000); t.input('hel');
    assert.deepEqual(sent, ['composing']);
    clock.advance(4999);
    assert.deepEqual(sent, ['composing']);
    clock.advance(1);
    assert.deepEqual(sent, ['composing', 'paused']);
    t.input('hell');
    assert.deepEqual(sent, ['composing', 'paused', 'composing']);
  });
  it('clearing the text sends active; sending a message sends nothing (the message carries active)', () => {
    const sent: OutState[] = [];
    const clock = fakeClock();
    const t = new TypingNotifier({ send: (s) => sent.push(s), ...clock });
    t.input('x'); t.input('');
    assert.deepEqual(sent, ['composing', 'active']);
    t.input('y'); t.sent();
    clock.advance(60_000);
    assert.deepEqual(sent, ['composing', 'active', 'composing'], 'no paused after the message went out');
    assert.equal(t.current, 'active');
    t.input('z');
    assert.deepEqual(sent.at(-1), 'composing');
  });
});
