// Archive half of the storage contract (see ./contract.ts). These tests pin down the paging
// semantics MAM (XEP-0313) and RSM (XEP-0059) rely on: archive order is append order; after/
// before are exclusive positions given by id; `reverse` returns the LAST `limit` items in
// ascending order; `complete` looks only in the paging direction; `count` ignores paging.

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError, type ArchiveItem, type ArchiveQuery, type Storage } from './storage.js';

/** Asserts that `p` rejects with a StorageError (optionally with `code`), never another error type. */
export async function rejectsStorage(p: Promise<unknown>, code?: string): Promise<StorageError> {
  try { await p; } catch (err) {
    assert.ok(err instanceof StorageError, `expected StorageError, got ${String(err)}`);
    if (code !== undefined) assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail('expected a StorageError rejection');
}

export interface Ctx { s: Storage; host: () => string; open: () => Promise<Storage> }

const item = (i: number, over: Partial<ArchiveItem> = {}): Omit<ArchiveItem, 'id'> & { id?: string } =>
  ({ when: 1_700_000_000_000 + i * 1000, with: `peer${i % 3}@example.net`, payload: `<message id="${i}"><body>${i}</body></message>`, ...over });

async function fill(s: Storage, h: string, n: number, store = 'mam'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await s.archive.append(h, 'u', store, item(i, { id: `id-${i}` })));
  return ids;
}

const ids = (items: ArchiveItem[]): string[] => items.map((i) => i.id);

export function archiveContract(ctx: Ctx): void {
  describe('archive', () => {
    it('append keeps a given id and generates unique URL-safe ids otherwise', async () => {
      const h = ctx.host();
      assert.equal(await ctx.s.archive.append(h, 'u', 'mam', item(0, { id: 'given' })), 'given');
      const gen = new Set<string>();
      for (let i = 0; i < 200; i++) gen.add(await ctx.s.archive.append(h, 'u', 'mam', item(i)));
      assert.equal(gen.size, 200);
      for (const id of gen) assert.match(id, /^[A-Za-z0-9_-]{16,}$/);
      await rejectsStorage(ctx.s.archive.append(h, 'u', 'mam', item(1, { id: 'given' })), 'conflict');
      // Ids are unique per archive, not globally.
      assert.equal(await ctx.s.archive.append(h, 'u', 'offline', item(1, { id: 'given' })), 'given');
      assert.equal(await ctx.s.archive.append(h, 'U', 'mam', item(1, { id: 'given' })), 'given');
      assert.equal(await ctx.s.archive.count(h, 'u', 'mam'), 201);
      await rejectsStorage(ctx.s.archive.append(h, 'u', 'mam', item(1, { when: 1.5 })), 'invalid');
    });

    it('items round-trip exactly (unicode payloads, meta absent vs null vs object)', async () => {
      const h = ctx.host();
      const items: ArchiveItem[] = [
        { id: 'a', when: 0, with: '', payload: '' },
        { id: 'b', when: 1, with: 'Ünï@例え.jp', payload: '<body>😀 中文 עברית e\u0301 &amp; &lt;</body>', meta: null },
        { id: 'c', when: 8_640_000_000_000_000, with: 'x@y/z', payload: '\u{10FFFF}\uFFFD\n\r\t', meta: { type: 'chat', dir: 'in', n: [1, { z: '' }] } },
        { id: 'd', when: -5, with: 'x@y', payload: 'x'.repeat(100_000), meta: 'str' },
      ];
      for (const it of items) await ctx.s.archive.append(h, 'u', 'mam', it);
      const page = await ctx.s.archive.query(h, 'u', 'mam', {});
      assert.deepEqual(page, { items, complete: true, count: 4 });
      assert.equal('meta' in page.items[0]!, false);
    });

    it('archive order is append order, not `when` order', async () => {
      const h = ctx.host();
      for (const [id, when] of [['x', 30], ['y', 10], ['z', 20]] as const) await ctx.s.archive.append(h, 'u', 'mam', { id, when, with: '', payload: id });
      assert.deepEqual(ids((await ctx.s.archive.query(h, 'u', 'mam', {})).items), ['x', 'y', 'z']);
      assert.deepEqual(ids((await ctx.s.archive.query(h, 'u', 'mam', { start: 15 })).items), ['x', 'z']);
      assert.deepEqual(ids((await ctx.s.archive.query(h, 'u', 'mam', { after: 'x', end: 25 })).items), ['y', 'z']);
    });

    it('pages forwards and backwards through 1,000 items, each seen exactly once, in order', async () => {
      const h = ctx.host();
      const all = await fill(ctx.s, h, 1000);
      const forward: string[] = [];
      let q: ArchiveQuery = { limit: 37 };
      for (;;) {
        const p = await ctx.s.archive.query(h, 'u', 'mam', q);
        assert.equal(p.count, 1000);
        forward.push(...ids(p.items));
        if (p.complete) break;
        assert.equal(p.items.length, 37);
        q = { limit: 37, after: p.items.at(-1)!.id };
      }
      assert.deepEqual(forward, all);
      const backward: string[][] = [];
      q = { limit: 37, reverse: true };
      for (;;) {
        const p = await ctx.s.archive.query(h, 'u', 'mam', q);
        assert.equal(p.count, 1000);
        backward.unshift(ids(p.items)); // each page is ascending; pages arrive newest first
        if (p.complete) break;
        q = { limit: 37, reverse: true, before: p.items[0]!.id };
      }
      assert.deepEqual(backward.flat(), all);
      assert.equal(backward[0]!.length, 1000 % 37);
      // The last page going forwards is exactly full: complete must still be true, found by looking ahead.
      const exact = await ctx.s.archive.query(h, 'u', 'mam', { after: all[959], limit: 40 });
      assert.deepEqual(exact, { items: exact.items, complete: true, count: 1000 });
      assert.equal(exact.items.length, 40);
    });

    it('reverse returns the last `limit` items (before `before`) in ascending order', async () => {
      const h = ctx.host();
      const all = await fill(ctx.s, h, 20);
      let p = await ctx.s.archive.query(h, 'u', 'mam', { reverse: true, limit: 5 });
      assert.deepEqual(p, { items: p.items, complete: false, count: 20 });
      assert.deepEqual(ids(p.items), all.slice(15));
      p = await ctx.s.archive.query(h, 'u', 'mam', { reverse: true, limit: 5, before: all[7] });
      assert.deepEqual([ids(p.items), p.complete], [all.slice(2, 7), false]);
      p = await ctx.s.archive.query(h, 'u', 'mam', { reverse: true, limit: 5, before: all[5] });
      assert.deepEqual([ids(p.items), p.complete], [all.slice(0, 5), true]);
      p = await ctx.s.archive.query(h, 'u', 'mam', { reverse: true });
      assert.deepEqual([ids(p.items), p.complete], [all, true]);
      p = await ctx.s.archive.query(h, 'u', 'mam', { reverse: true, limit: 5, after: all[12] });
      assert.deepEqual([ids(p.items), p.complete], [all.slice(15), false]);
      p = await ctx.s.archive.query(h, 'u', 'mam', { limit: 5, after: all[3], before: all[7] });
      assert.deepEqual([ids(p.items), p.complete], [all.slice(4, 7), true]);
      // limit 0: nothing returned, but count and "more exist" still answered (RSM <max>0</max>).
      p = await ctx.s.archive.query(h, 'u', 'mam', { limit: 0 });
      assert.deepEqual(p, { items: [], complete: false, count: 20 });
      p = await ctx.s.archive.query(h, 'u', 'mam', { limit: 0, after: all[19] });
      assert.deepEqual(p, { items: [], complete: true, count: 20 });
    });

    it('filters with/start/end/ids combine with each other and with paging; count ignores paging', async () => {
      const h = ctx.host();
      const all = await fill(ctx.s, h, 30); // with = peer(i % 3), when = T + i s
      const T = 1_700_000_000_000;
      const sel = (f: (i: number) => boolean): string[] => all.filter((_, i) => f(i));
      const q = (x: ArchiveQuery) => ctx.s.archive.query(h, 'u', 'mam', x);
      let p = await q({ with: 'peer1@example.net' });
      assert.deepEqual([ids(p.items), p.count, p.complete], [sel((i) => i % 3 === 1), 10, true]);
      assert.equal((await q({ with: 'PEER1@example.net' })).count, 0);
      p = await q({ start: T + 10_000, end: T + 19_000 }); // both inclusive
      assert.deepEqual(ids(p.items), sel((i) => i >= 10 && i <= 19));
      p = await q({ start: T + 10_500, end: T + 18_999.5 }); // fractional bounds stay inclusive of whole ms
      assert.deepEqual(ids(p.items), sel((i) => i >= 11 && i <= 18));
      p = await q({ with: 'peer2@example.net', start: T + 5000, end: T + 25_000, limit: 3 });
      assert.deepEqual([ids(p.items), p.count, p.complete], [['id-5', 'id-8', 'id-11'], 7, false]);
      p = await q({ with: 'peer2@example.net', start: T + 5000, end: T + 25_000, limit: 3, after: 'id-11' });
      assert.deepEqual([ids(p.items), p.count, p.complete], [['id-14', 'id-17', 'id-20'], 7, false]);
      p = await q({ with: 'peer2@example.net', start: T + 5000, end: T + 25_000, limit: 3, reverse: true, before: 'id-14' });
      assert.deepEqual([ids(p.items), p.count, p.complete], [['id-5', 'id-8', 'id-11'], 7, true]);
      // The after/before anchor need not match the filters itself.
      p = await q({ with: 'peer0@example.net', after: 'id-4', limit: 2 });
      assert.deepEqual([ids(p.items), p.count], [['id-6', 'id-9'], 10]);
      p = await q({ ids: ['id-3', 'id-1', 'nope', 'id-20'] });
      assert.deepEqual([ids(p.items), p.count], [['id-1', 'id-3', 'id-20'], 3]);
      p = await q({ ids: ['id-3', 'id-1', 'id-4', 'id-20'], with: 'peer1@example.net', reverse: true, limit: 1 });
      assert.deepEqual([ids(p.items), p.count, p.complete], [['id-4'], 2, false]);
      assert.deepEqual(await q({ ids: [] }), { items: [], complete: true, count: 0 });
      assert.equal((await q({ ids: all.slice(0, 25).concat(Array.from({ length: 5000 }, (_, i) => `x${i}`)) })).count, 25);
    });

    it('an unknown after/before id is item-not-found (also an id of another archive)', async () => {
      const h = ctx.host();
      await fill(ctx.s, h, 3);
      await ctx.s.archive.append(h, 'other', 'mam', item(9, { id: 'foreign' }));
      for (const q of [{ after: 'nope' }, { before: 'nope' }, { after: 'foreign' }, { before: 'ID-1' }, { after: 'id-1', before: 'nope', reverse: true }]) {
        await rejectsStorage(ctx.s.archive.query(h, 'u', 'mam', q), 'item-not-found');
      }
    });

    it('delete by ids / end / with / all, returning how many', async () => {
      const h = ctx.host();
      const all = await fill(ctx.s, h, 12);
      const T = 1_700_000_000_000;
      await fill(ctx.s, h, 2, 'other');
      const del = (q: { ids?: string[]; end?: number; with?: string }) => ctx.s.archive.delete(h, 'u', 'mam', q);
      assert.equal(await del({ ids: [] }), 0);
      assert.equal(await del({ ids: ['id-0', 'id-1', 'missing'] }), 2);
      assert.equal(await del({ end: T + 3000 }), 2); // id-2, id-3 (inclusive)
      assert.equal(await del({ with: 'peer1@example.net', end: T + 7000 }), 2); // id-4, id-7
      assert.equal(await del({ with: 'peer2@example.net' }), 3); // id-5, id-8, id-11
      assert.deepEqual(ids((await ctx.s.archive.query(h, 'u', 'mam', {})).items), ['id-6', 'id-9', 'id-10']);
      assert.equal(await del({}), 3);
      assert.equal(await ctx.s.archive.count(h, 'u', 'mam'), 0);
      assert.equal(await ctx.s.archive.count(h, 'u', 'other'), 2);
      assert.equal(all.length, 12);
    });

    it('take reads and deletes in append order, with and without limit', async () => {
      const h = ctx.host();
      const all = await fill(ctx.s, h, 10);
      assert.deepEqual(ids(await ctx.s.archive.take(h, 'u', 'mam', 3)), all.slice(0, 3));
      assert.equal(await ctx.s.archive.count(h, 'u', 'mam'), 7);
      assert.deepEqual(await ctx.s.archive.take(h, 'u', 'mam', 0), []);
      const rest = await ctx.s.archive.take(h, 'u', 'mam');
      assert.deepEqual(ids(rest), all.slice(3));
      assert.deepEqual(rest[0], { id: 'id-3', ...item(3) });
      assert.deepEqual(await ctx.s.archive.take(h, 'u', 'mam'), []);
      assert.equal(await ctx.s.archive.count(h, 'u', 'mam'), 0);
    });

    it('concurrent takes never return the same item twice and lose nothing', async () => {
      const h = ctx.host();
      const all = await fill(ctx.s, h, 300);
      // A second instance shares the database (file or server), unless it is a private :memory: one.
      const s2 = await ctx.open();
      const others = (await s2.archive.count(h, 'u', 'mam')) === 300 ? [s2, s2] : [];
      const takers = [ctx.s, ctx.s, ctx.s, ...others];
      const seen: string[] = [];
      for (let round = 0; round < 6; round++) {
        // Early rounds: every taker limited, so the queue is split between them; later rounds
        // mix in unlimited takes. Appends race with the takes too.
        const appends = Array.from({ length: 5 }, (_, i) => `r${round}-${i}`);
        all.push(...appends);
        const [results] = await Promise.all([
          Promise.all(takers.map((s, i) => s.archive.take(h, 'u', 'mam', round < 3 || i % 2 ? 7 : undefined))),
          (async () => { for (const id of appends) await ctx.s.archive.append(h, 'u', 'mam', item(1, { id })); })(),
        ]);
        for (const r of results) {
          const got = ids(r);
          assert.deepEqual(got, [...got].sort((a, b) => all.indexOf(a) - all.indexOf(b)), 'each take is in append order');
          seen.push(...got);
        }
      }
      seen.push(...ids(await ctx.s.archive.take(h, 'u', 'mam')));
      assert.equal(new Set(seen).size, seen.length, 'no duplicates');
      assert.deepEqual([...seen].sort(), [...all].sort(), 'nothing lost');
    });

    it('count is per host/user/store and case-sensitive', async () => {
      const h = ctx.host();
      await fill(ctx.s, h, 4);
      await ctx.s.archive.append(h, 'U', 'mam', item(1));
      await ctx.s.archive.append(h, 'u', 'MAM', item(1));
      assert.deepEqual([await ctx.s.archive.count(h, 'u', 'mam'), await ctx.s.archive.count(h, 'U', 'mam'),
        await ctx.s.archive.count(h, 'u', 'MAM'), await ctx.s.archive.count(h, 'x', 'mam')], [4, 1, 1, 0]);
    });
  });
}
