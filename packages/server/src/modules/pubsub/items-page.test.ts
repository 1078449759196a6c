// RSM pages over a node's items (items-page.ts): forwards, backwards from the end, index jumps,
// unknown anchors, the <set/> describing each page.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { StanzaError } from '@magpie/core/protocol/errors';
import { pageItems } from './items-page.js';

const all = Array.from({ length: 10 }, (_, i) => ({ id: `i${i}` }));
const ids = (p: { items: { id: string }[] }) => p.items.map((x) => x.id);

it('pages forwards from the oldest and after an id', () => {
  const p1 = pageItems(all, { max: 3 });
  assert.deepEqual(ids(p1), ['i0', 'i1', 'i2']);
  assert.deepEqual(p1.rsm, { count: 10, first: 'i0', firstIndex: 0, last: 'i2' });
  const p2 = pageItems(all, { max: 3, after: 'i2' });
  assert.deepEqual([ids(p2), p2.rsm.firstIndex], [['i3', 'i4', 'i5'], 3]);
  const end = pageItems(all, { max: 3, after: 'i9' });
  assert.deepEqual([ids(end), end.rsm], [[], { count: 10 }]);
});

it('pages backwards: an empty before is the newest page', () => {
  const last = pageItems(all, { max: 4, before: '' });
  assert.deepEqual([ids(last), last.rsm.firstIndex], [['i6', 'i7', 'i8', 'i9'], 6]);
  const prev = pageItems(all, { max: 4, before: 'i6' });
  assert.deepEqual(ids(prev), ['i2', 'i3', 'i4', 'i5']);
  assert.deepEqual(ids(pageItems(all, { max: 4, before: 'i2' })), ['i0', 'i1']);
});

it('jumps to an index; past the end is an empty page with the count', () => {
  assert.deepEqual(ids(pageItems(all, { max: 2, index: 7 })), ['i7', 'i8']);
  assert.equal(pageItems(all, { max: 2, index: 7 }).rsm.firstIndex, 7);
  assert.deepEqual(pageItems(all, { max: 2, index: 10 }).rsm, { count: 10 });
  assert.deepEqual(ids(pageItems(all, { max: 0 })), []);
  assert.equal(pageItems(all, {}).items.length, 10);
});

it('unknown anchors are item-not-found; index with an anchor is bad-request', () => {
  const cond = (f: () => unknown) => { try { f(); return 'none'; } catch (e) { return (e as StanzaError).condition; } };
  assert.equal(cond(() => pageItems(all, { after: 'nope' })), 'item-not-found');
  assert.equal(cond(() => pageItems(all, { before: 'nope' })), 'item-not-found');
  assert.equal(cond(() => pageItems(all, { index: 2, after: 'i1' })), 'bad-request');
});
