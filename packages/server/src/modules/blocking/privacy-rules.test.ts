import { it } from 'node:test';
import assert from 'node:assert/strict';
import { JID } from '@magpie/core/jid/jid';
import { addBlocks, blocklistOf, compile, evaluate, jidMatches, removeBlocks, type PrivacyItem } from './privacy-rules.js';
import type { RosterItem } from '../im-services/services.js';

const J = (s: string) => JID.parse(s);

it('JID matching follows XEP-0016 §2.1 / XEP-0191 §6', () => {
  const t = (item: string, target: string) => jidMatches(J(item), J(target));
  assert.ok(t('a@x/r', 'a@x/r')); assert.ok(!t('a@x/r', 'a@x/s')); assert.ok(!t('a@x/r', 'a@x'));
  assert.ok(t('a@x', 'a@x')); assert.ok(t('a@x', 'a@x/any')); assert.ok(!t('a@x', 'b@x'));
  assert.ok(t('x/r', 'x/r')); assert.ok(!t('x/r', 'a@x/r')); assert.ok(!t('x/r', 'x'));
  assert.ok(t('x', 'x')); assert.ok(t('x', 'a@x/r')); assert.ok(t('x', 'x/r')); assert.ok(!t('x', 'a@y'));
});

it('evaluates in order, by kind, with subscription none for strangers', async () => {
  const items = compile([
    { type: 'subscription', value: 'none', action: 'deny', order: 20, kinds: ['message'] },
    { type: 'jid', value: 'friend@x', action: 'allow', order: 10 },
    { type: 'group', value: 'Foes', action: 'deny', order: 30, kinds: ['iq'] },
    { action: 'deny', order: 40, kinds: ['presence-out'] },
  ]);
  const roster: Record<string, RosterItem> = { 'foe@x': { jid: 'foe@x', subscription: 'both', groups: ['Foes'] } };
  const run = (jid: string, kind?: Parameters<typeof evaluate>[2]) => evaluate(items, J(jid), kind, async () => roster[J(jid).bareString()]);
  assert.equal(await run('friend@x/r', 'message'), 'allow', 'first match by order');
  assert.equal(await run('stranger@x', 'message'), 'deny');
  assert.equal(await run('stranger@x', 'iq'), undefined, 'no item for that kind: allowed');
  assert.equal(await run('foe@x', 'message'), undefined, 'subscription both is not none');
  assert.equal(await run('foe@x', 'iq'), 'deny');
  assert.equal(await run('foe@x', 'presence-out'), 'deny');
  assert.equal(await run('foe@x', undefined), undefined, 'an item with kinds never matches a subscription presence');
});

it('block items go first without reordering the rest; unblock removes only block items', () => {
  const base: PrivacyItem[] = [
    { type: 'jid', value: 'a@x', action: 'allow', order: 1 },
    { type: 'jid', value: 'b@x', action: 'deny', order: 5, kinds: ['message'] },
    { action: 'allow', order: 9 },
  ];
  const one = addBlocks(base, ['c@x', 'd@x', 'c@x'])!;
  // No room below order 1 for two items: the others shift up by two, keeping their order.
  assert.deepEqual(one.map((i) => [i.value ?? '-', i.order]), [['c@x', 0], ['d@x', 1], ['a@x', 3], ['b@x', 7], ['-', 11]]);
  const two = addBlocks(one.slice(2), ['e@x'])!;
  assert.deepEqual(two.map((i) => [i.value ?? '-', i.order]), [['e@x', 2], ['a@x', 3], ['b@x', 7], ['-', 11]], 'room below: nothing moves');
  assert.deepEqual(blocklistOf(one), ['c@x', 'd@x']);
  assert.equal(addBlocks(one, ['d@x']), undefined, 'already blocked: no change');
  const fewer = removeBlocks(one, ['c@x', 'b@x'])!;
  assert.deepEqual(blocklistOf(fewer), ['d@x']);
  assert.ok(fewer.some((i) => i.value === 'b@x'), 'a deny with kinds is not a block item');
  assert.deepEqual(blocklistOf(removeBlocks(fewer, 'all')), []);
  assert.equal(removeBlocks(base, 'all'), undefined);
  // Orders near the unsignedInt limit are renumbered instead of overflowing.
  const high = addBlocks([{ action: 'allow', order: 0 }, { action: 'deny', order: 0xffffffff }], ['e@x'])!;
  assert.ok(high.every((i) => i.order <= 0xffffffff));
  assert.deepEqual([...high].sort((x, y) => x.order - y.order).map((i) => i.value ?? i.action), ['e@x', 'allow', 'deny']);
});
