import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CommandSessions, type CommandSession } from './sessions.js';

describe('command sessions (XEP-0050 §3.4)', () => {
  const make = (limits = { timeoutMs: 1000, perUser: 2, total: 3 }) => {
    let t = 0;
    return { s: new CommandSessions(limits, () => t), tick: (ms: number) => { t += ms; } };
  };
  const open = (s: CommandSessions, owner = 'a@h', res = 'r'): CommandSession => {
    const r = s.start('node', `${owner}/${res}`, owner, 'h');
    assert.equal(typeof r, 'object');
    return r as CommandSession;
  };

  it('a session expires after the timeout without a request; touch extends it; the id is then session-expired, later unknown', () => {
    const { s, tick } = make();
    const a = open(s);
    tick(900); s.touch(a);
    tick(900);
    assert.equal(s.get(a.id), a);
    tick(200);
    assert.equal(s.get(a.id), 'expired');
    assert.equal(s.size, 0);
    tick(1001); s.sweep();
    assert.equal(s.get(a.id), undefined);
  });

  it('limits sessions per owner and in all, without evicting; ending one frees its place', () => {
    const { s } = make();
    const a1 = open(s, 'a@h', 'one');
    open(s, 'a@h', 'two');
    assert.equal(s.start('node', 'a@h/three', 'a@h', 'h'), 'per-user-limit');
    open(s, 'b@h');
    assert.equal(s.start('node', 'c@h/r', 'c@h', 'h'), 'total-limit');
    s.end(a1);
    assert.equal(s.get(a1.id), 'expired');
    assert.equal(typeof s.start('node', 'a@h/three', 'a@h', 'h'), 'object');
  });

  it('sweep ends timed-out sessions and frees the owner count', () => {
    const { s, tick } = make();
    open(s); open(s);
    tick(1000); s.sweep();
    assert.equal(s.size, 0);
    assert.equal(typeof s.start('node', 'a@h/r', 'a@h', 'h'), 'object');
  });
});
