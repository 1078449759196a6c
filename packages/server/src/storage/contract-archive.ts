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
      // A paged time window (PostgreSQL reads it from the when index first): same answers.
      p = await q({ start: T + 10_000, end: T + 19_000, limit: 4 });
      assert.deepEqual([ids(p.items), p.count, p.complete], [sel((i) => i >= 10 && i <= 13), 10, false]);
      p = await q({ start: T + 10_000, end: T + 19_000, limit: 4, reverse: true, before: 'id-18', countUpTo: 5 });
      assert.deepEqual([ids(p.items), p.count, p.complete], [sel((i) => i >= 14 && i <= 17), 6, false]);
      p = await q({ start: T + 10_000, limit: 30, after: 'id-25' });
      assert.deepEqual([ids(p.items), p.count, p.complete], [sel((i) => i >= 26), 20, true]);
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

    it('withResource round-trips and filters within `with` (XEP-0313 full-JID with)', async () => {
      const h = ctx.host();
      await ctx.s.archive.append(h, 'u', 'mam', { id: 'a', when: 1, with: 'p@x', withResource: 'phone', payload: 'a' });
      await ctx.s.archive.append(h, 'u', 'mam', { id: 'b', when: 2, with: 'p@x', payload: 'b' });
      await ctx.s.archive.append(h, 'u', 'mam', { id: 'c', when: 3, with: 'p@x', withResource: 'laptop', payload: 'c' });
      await ctx.s.archive.append(h, 'u', 'mam', { id: 'd', when: 4, with: 'q@x', withResource: 'phone', payload: 'd' });
      await ctx.s.archive.append(h, 'u', 'mam', { id: 'e', when: 5, with: 'p@x', withResource: '', payload: 'e' });
      const all = await ctx.s.archive.query(h, 'u', 'mam', {});
      assert.deepEqual(all.items.map((i) => i.withResource), ['phone', undefined, 'laptop', 'phone', undefined]);
      assert.equal('withResource' in all.items[4]!, false, "'' is stored as no resource");
      let p = await ctx.s.archive.query(h, 'u', 'mam', { with: 'p@x', withResource: 'phone' });
      assert.deepEqual([ids(p.items), p.count], [['a'], 1]);
      p = await ctx.s.archive.query(h, 'u', 'mam', { with: 'p@x' });
      assert.deepEqual([ids(p.items), p.count], [['a', 'b', 'c', 'e'], 4]);
      p = await ctx.s.archive.query(h, 'u', 'mam', { with: 'p@x', withResource: 'PHONE' });
      assert.equal(p.count, 0);
    });

    it('countUpTo bounds the count without changing the page', async () => {
      const h = ctx.host();
      const all = await fill(ctx.s, h, 30);
      let p = await ctx.s.archive.query(h, 'u', 'mam', { limit: 5, reverse: true, countUpTo: 10 });
      assert.deepEqual([ids(p.items), p.count, p.complete], [all.slice(25), 11, false]);
      p = await ctx.s.archive.query(h, 'u', 'mam', { with: 'peer1@example.net', limit: 5, countUpTo: 10 });
      assert.equal(p.count, 10, 'exact when within the bound');
      p = await ctx.s.archive.query(h, 'u', 'mam', { limit: 5, countUpTo: 0 });
      assert.deepEqual([p.items.length, p.count], [5, 1]);
      await rejectsStorage(ctx.s.archive.query(h, 'u', 'mam', { countUpTo: -1 }), 'invalid');
    });

    it('appendMany appends in order atomically; a bad item writes nothing', async () => {
      const h = ctx.host();
      assert.deepEqual(await ctx.s.archive.appendMany(h, 'u', 'mam', []), []);
      const got = await ctx.s.archive.appendMany(h, 'u', 'mam', [item(0, { id: 'm0' }), item(1, { withResource: 'r', meta: { d: 'in' } }), item(2, { id: 'm2' })]);
      assert.equal(got.length, 3);
      assert.deepEqual([got[0], got[2]], ['m0', 'm2']);
      const page = await ctx.s.archive.query(h, 'u', 'mam', {});
      assert.deepEqual(ids(page.items), got);
      assert.deepEqual(page.items[1], { id: got[1], ...item(1, { withResource: 'r', meta: { d: 'in' } }) });
      await rejectsStorage(ctx.s.archive.appendMany(h, 'u', 'mam', [item(3, { id: 'm3' }), item(4, { when: 0.5 })]), 'invalid');
      await rejectsStorage(ctx.s.archive.appendMany(h, 'u', 'mam', [item(3, { id: 'm3' }), item(4, { id: 'm0' })]), 'conflict');
      assert.equal(await ctx.s.archive.count(h, 'u', 'mam'), 3);
    });

    it('appendRows writes rows of several users and stores in one go, in order per user; a bad row writes nothing', async () => {
      const h = ctx.host();
      await ctx.s.archive.appendRows([]);
      await ctx.s.archive.appendRows([
        { host: h, user: 'a', store: 'mam', item: item(0, { id: 'a0' }) },
        { host: h, user: 'b', store: 'mam', item: item(1, { id: 'b0', withResource: 'r' }) },
        { host: h, user: 'a', store: 'mam', item: item(2, { id: 'a1', meta: { d: 'out' } }) },
        { host: h, user: 'a', store: 'other', item: item(3, { id: 'x0' }) },
      ]);
      assert.deepEqual(ids((await ctx.s.archive.query(h, 'a', 'mam', {})).items), ['a0', 'a1']);
      assert.deepEqual((await ctx.s.archive.query(h, 'b', 'mam', {})).items, [{ id: 'b0', ...item(1, { withResource: 'r' }) }]);
      assert.deepEqual(ids((await ctx.s.archive.query(h, 'a', 'other', {})).items), ['x0']);
      await rejectsStorage(ctx.s.archive.appendRows([{ host: h, user: 'c', store: 'mam', item: item(4, { id: 'c0' }) },
        { host: h, user: 'c', store: 'mam', item: item(5, { id: 'c0' }) }]), 'conflict');
      assert.equal(await ctx.s.archive.count(h, 'c', 'mam'), 0, 'atomic');
    });

    it('delete before an item removes the oldest ones only; an unknown id deletes nothing', async () => {
      const h = ctx.host();
      const all = await fill(ctx.s, h, 10);
      assert.equal(await ctx.s.archive.delete(h, 'u', 'mam', { before: 'nope' }), 0);
      assert.equal(await ctx.s.archive.delete(h, 'u', 'mam', { before: all[4] }), 4);
      assert.deepEqual(ids((await ctx.s.archive.query(h, 'u', 'mam', {})).items), all.slice(4));
      assert.equal(await ctx.s.archive.delete(h, 'u', 'mam', { before: all[8], with: 'peer1@example.net' }), 2); // id-4, id-7
    });

    it('purge deletes one store up to `end` across hosts and users, in bounded batches', async () => {
      const h1 = ctx.host(), h2 = ctx.host();
      const store = `purge${Math.random().toString(36).slice(2, 8)}`;
      for (const [h, u] of [[h1, 'a'], [h1, 'b'], [h2, 'a']] as const) {
        for (let i = 0; i < 5; i++) await ctx.s.archive.append(h, u, store, { when: 1000 + i, with: '', payload: `${i}` });
        await ctx.s.archive.append(h, u, 'keep', { when: 1000, with: '', payload: 'k' });
      }
      assert.equal(await ctx.s.archive.purge(store, 1002, 4), 4);
      assert.equal(await ctx.s.archive.purge(store, 1002, 4), 4);
      assert.equal(await ctx.s.archive.purge(store, 1002, 4), 1);
      assert.equal(await ctx.s.archive.purge(store, 1002, 4), 0);
      for (const [h, u] of [[h1, 'a'], [h1, 'b'], [h2, 'a']] as const) {
        const left = (await ctx.s.archive.query(h, u, store, {})).items.map((i) => i.when);
        assert.deepEqual(left, [1003, 1004]);
        assert.equal(await ctx.s.archive.count(h, u, 'keep'), 1);
      }
      await rejectsStorage(ctx.s.archive.purge(store, Number.NaN, 4), 'invalid');
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
