import { it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '../xml/parser.js';
import { buildRsm, NS_RSM, parseRsm, RsmError } from './rsm.js';

const set = (inner: string) => parseFragment(`<set xmlns='${NS_RSM}'>${inner}</set>`);

it('parses max/after/before/index, an empty <before/> meaning the last page', () => {
  assert.equal(parseRsm(undefined), undefined);
  assert.deepEqual(parseRsm(set('')), {});
  assert.deepEqual(parseRsm(set('<max>10</max><after>abc</after>')), { max: 10, after: 'abc' });
  assert.deepEqual(parseRsm(set('<max>0</max><before/>')), { max: 0, before: '' });
  assert.deepEqual(parseRsm(set('<before>x y</before><index>3</index>')), { before: 'x y', index: 3 });
});

it('refuses malformed numbers and an empty <after/>', () => {
  for (const bad of ['<max>-1</max>', '<max>ten</max>', '<max></max>', '<index>1.5</index>', '<max>99999999999</max>', '<after/>']) {
    assert.throws(() => parseRsm(set(bad)), RsmError, bad);
  }
  assert.throws(() => parseRsm(parseFragment(`<set xmlns='other'/>`)), RsmError);
});

it('builds the answer: first with index, last, count; only count for an empty page', () => {
  const full = buildRsm({ first: 'a', firstIndex: 0, last: 'b', count: 20 });
  assert.equal(full.toString(), `<set xmlns="${NS_RSM}"><first index="0">a</first><last>b</last><count>20</count></set>`);
  assert.equal(buildRsm({ count: 0 }).toString(), `<set xmlns="${NS_RSM}"><count>0</count></set>`);
  assert.equal(buildRsm({ first: 'a', last: 'a' }).toString(), `<set xmlns="${NS_RSM}"><first>a</first><last>a</last></set>`);
});
