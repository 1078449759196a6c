import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { contactList, initialState, mergeLines, reduce, unreadTotal, type Action, type Line, type State } from './state.js';

const line = (id: string, stamp: number, o: Partial<Line> = {}): Line => ({ id, from: 'bob@x', body: id, outgoing: false, stamp, ...o });
const run = (...actions: Action[]): State => actions.reduce(reduce, initialState);
const bob = { jid: 'bob@x', name: 'Bob', subscription: 'both' as const, ask: false };

describe('web client state', () => {
  it('merges lines in time order without duplicates (live, carbon and archive copies share an id)', () => {
    const a = mergeLines([], [line('1', 10), line('3', 30)]);
    const b = mergeLines(a, [line('2', 20), line('3', 30), line('1', 10)]);
    assert.deepEqual(b.map((l) => l.id), ['1', '2', '3']);
    assert.equal(mergeLines(b, [line('2', 20)]), b, 'nothing new: the same array (no re-render)');
  });

  it('counts unread messages only for conversations not open, and clears them on open', () => {
    let s = run({ type: 'roster', items: [bob] }, { type: 'message', peer: 'bob@x', line: line('m1', 1) }, { type: 'message', peer: 'bob@x', line: line('m2', 2) });
    assert.equal(s.conversations['bob@x']!.unread, 2);
    assert.equal(contactList(s)[0]!.unread, 2);
    assert.equal(unreadTotal(s), 2);
    s = reduce(s, { type: 'open', view: { kind: 'chat', jid: 'bob@x' } });
    assert.equal(s.conversations['bob@x']!.unread, 0);
    s = reduce(s, { type: 'message', peer: 'bob@x', line: line('m3', 3) });
    assert.equal(s.conversations['bob@x']!.unread, 0, 'the open conversation stays read');
    s = reduce(s, { type: 'message', peer: 'bob@x', line: line('m3', 3) });
    s = reduce(s, { type: 'close' });
    s = reduce(s, { type: 'message', peer: 'bob@x', line: line('m4', 4, { outgoing: true }) });
    s = reduce(s, { type: 'message', peer: 'bob@x', line: line('e1', 5, { kind: 'error' }) });
    assert.equal(s.conversations['bob@x']!.unread, 0, 'own messages and errors are not unread');
    assert.equal(s.conversations['bob@x']!.lines.length, 5);
  });

  it('a message with a body clears the typing notice; a chat state sets it', () => {
    let s = run({ type: 'chat-state', peer: 'bob@x', state: 'composing' });
    assert.equal(s.conversations['bob@x']!.peerState, 'composing');
    s = reduce(s, { type: 'message', peer: 'bob@x', line: line('m1', 1) });
    assert.equal(s.conversations['bob@x']!.peerState, undefined);
  });

  it('presence that arrives before the roster is applied when the roster comes', () => {
    const s = run({ type: 'presence', jid: 'bob@x', show: 'dnd', status: 'busy' }, { type: 'roster', items: [bob] });
    assert.deepEqual([s.contacts['bob@x']!.show, s.contacts['bob@x']!.status], ['dnd', 'busy']);
    const t = run({ type: 'presence', jid: 'bob@x', show: 'away', status: undefined }, { type: 'roster-item', item: bob });
    assert.equal(t.contacts['bob@x']!.show, 'away');
  });

  it('keeps presence on roster reloads and does not list strangers for their presence', () => {
    let s = run({ type: 'roster', items: [bob] }, { type: 'presence', jid: 'bob@x', show: 'away', status: 'lunch' }, { type: 'presence', jid: 'eve@x', show: 'available', status: undefined });
    assert.equal(s.contacts['eve@x'], undefined);
    assert.deepEqual(contactList(s).map((c) => c.jid), ['bob@x']);
    s = reduce(s, { type: 'roster', items: [{ ...bob, name: 'Robert' }] });
    assert.deepEqual([s.contacts['bob@x']!.show, s.contacts['bob@x']!.status, s.contacts['bob@x']!.name], ['away', 'lunch', 'Robert']);
    s = reduce(s, { type: 'roster-removed', jid: 'bob@x' });
    assert.deepEqual(s.contacts, {});
  });

  it('lists online contacts first, then by name, with strangers who wrote, blocked and pending flags', () => {
    const s = run(
      { type: 'roster', items: [bob, { jid: 'amy@x', name: undefined, subscription: 'none', ask: true }, { jid: 'cat@x', name: 'Cat', subscription: 'both', ask: false }] },
      { type: 'presence', jid: 'cat@x', show: 'available', status: undefined },
      { type: 'message', peer: 'zed@y', line: line('z', 1, { from: 'zed@y' }) },
      { type: 'blocked', jids: ['bob@x'] },
    );
    const list = contactList(s);
    assert.deepEqual(list.map((c) => c.jid), ['cat@x', 'amy@x', 'bob@x', 'zed@y']);
    assert.equal(list.find((c) => c.jid === 'amy@x')!.pending, true);
    assert.equal(list.find((c) => c.jid === 'bob@x')!.blocked, true);
    assert.equal(list.find((c) => c.jid === 'zed@y')!.stranger, true);
  });

  it('tracks subscription requests once each', () => {
    let s = run({ type: 'request', jid: 'a@x' }, { type: 'request', jid: 'a@x' }, { type: 'request', jid: 'b@x' });
    assert.deepEqual(s.requests, ['a@x', 'b@x']);
    s = reduce(s, { type: 'request-done', jid: 'a@x' });
    assert.deepEqual(s.requests, ['b@x']);
  });

  it('blocklist pushes add and remove; unblock all empties it', () => {
    let s = run({ type: 'blocklist', jids: ['a@x', 'a@x'] }, { type: 'blocked', jids: ['b@x'] });
    assert.deepEqual(s.blocked, ['a@x', 'b@x']);
    s = reduce(s, { type: 'unblocked', jids: ['a@x'] });
    assert.deepEqual(s.blocked, ['b@x']);
    assert.deepEqual(reduce(s, { type: 'unblocked', jids: 'all' }).blocked, []);
  });

  it('rooms: join, occupants sorted, messages with unread, leaving closes the view', () => {
    let s = run({ type: 'room', jid: 'r@c', nick: 'me', joined: false }, { type: 'room', jid: 'r@c', nick: 'me', joined: true },
      { type: 'room-occupants', jid: 'r@c', occupants: ['zoe', 'me', 'adam'] },
      { type: 'room-message', jid: 'r@c', line: line('g1', 1, { from: 'zoe' }) },
      { type: 'room-message', jid: 'r@c', line: line('g2', 2, { from: 'me', outgoing: true }) });
    assert.deepEqual(s.rooms['r@c']!.occupants, ['adam', 'me', 'zoe']);
    assert.equal(s.rooms['r@c']!.unread, 1);
    s = reduce(s, { type: 'open', view: { kind: 'room', jid: 'r@c' } });
    assert.equal(s.rooms['r@c']!.unread, 0);
    s = reduce(s, { type: 'room-left', jid: 'r@c' });
    assert.equal(s.active, undefined);
    assert.equal(s.rooms['r@c'], undefined);
    assert.equal(reduce(s, { type: 'room-message', jid: 'r@c', line: line('g3', 3) }), s, 'messages of a room we left are dropped');
  });

  it('history pages merge with live lines and remember the paging cursor', () => {
    let s = run({ type: 'message', peer: 'bob@x', line: line('live', 100) });
    s = reduce(s, { type: 'history', peer: 'bob@x', lines: [line('old1', 1), line('live', 100)], oldest: 'A1', complete: false });
    assert.deepEqual(s.conversations['bob@x']!.lines.map((l) => l.id), ['old1', 'live']);
    assert.deepEqual(s.conversations['bob@x']!.history, { loaded: true, oldest: 'A1', complete: false });
  });

  it('status: the attempt counter resets when online; logout resets everything', () => {
    let s = run({ type: 'status', status: 'reconnecting', attempt: 3 });
    assert.equal(s.attempt, 3);
    s = reduce(s, { type: 'status', status: 'online' });
    assert.equal(s.attempt, 0);
    assert.deepEqual(reduce(s, { type: 'logout' }), initialState);
  });
});
