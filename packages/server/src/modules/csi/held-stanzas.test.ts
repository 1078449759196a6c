import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import { HeldStanzas } from './held-stanzas.js';

const el = (id: string) => parseFragment(`<presence xmlns='jabber:client' id='${id}'/>`);
const ids = (h: HeldStanzas) => h.take().map((e) => e.attr('id'));

it('keeps order, collapses by key to the latest (moved to the end), and empties on take', () => {
  const h = new HeldStanzas();
  assert.equal(h.add(el('p1'), 'a'), false);
  h.add(el('m1'));
  h.add(el('p2'), 'b');
  assert.equal(h.add(el('p3'), 'a'), true);
  assert.equal(h.size, 3);
  assert.deepEqual(ids(h), ['m1', 'p2', 'p3']);
  assert.equal(h.size, 0);
  assert.deepEqual(ids(h), []);
});

it('stays compact when one sender flaps', () => {
  const h = new HeldStanzas();
  h.add(el('x'));
  for (let i = 0; i < 10_000; i++) h.add(el('p' + i), 'flapper');
  h.add(el('y'), 'other');
  assert.equal(h.size, 3);
  assert.ok((h as unknown as { slots: unknown[] }).slots.length < 100, 'holes compacted');
  assert.deepEqual(ids(h), ['x', 'p9999', 'y']);
  h.add(el('z'), 'flapper');
  assert.deepEqual(ids(h), ['z'], 'keys reset after take');
});
