// The storage contract: one suite of node:test tests that every adapter must pass, so that the
// SQLite and PostgreSQL adapters are interchangeable (sqlite/sqlite.test.ts and
// postgres/postgres.test.ts call storageContract()). This file covers lifecycle, accounts, kv
// and map; ./contract-archive.ts covers the archive.
//
// Isolation: one storage is opened for the whole suite and every test works under its own
// host name, so tests cannot see each other's rows even on a shared database. Tests that need
// their own instance (migrate, close) call `open` again; every instance is closed at the end.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Json, Storage, StoredCredentials } from './storage.js';
import { archiveContract, rejectsStorage, type Ctx } from './contract-archive.js';

export { rejectsStorage };

const creds = (n: number): StoredCredentials => ({
  scram: {
    'SHA-1': { salt: `c2FsdA${n}==`, iterations: 4096, storedKey: 'c3RvcmVk', serverKey: 'c2VydmVy' },
    'SHA-256': { salt: 'QUJD', iterations: 10000 + n, storedKey: 'eA==', serverKey: 'eQ==' },
  },
  digestMd5: 'd41d8cd98f00b204e9800998ecf8427e',
});

/** Values that must round-trip exactly (also compared as JSON text, which checks key order). */
const JSON_VALUES: Json[] = [
  null, true, false, 0, -1.5, 1e21, Number.MAX_SAFE_INTEGER, '', 'plain', 'ünïcødé 😀 中文 עברית \u0301 <&"\'> \\ \n\t', 'nul \u0000 and lone surrogate \ud800',
  [], [1, 'two', null, [3], { four: 4 }],
  {}, { z: 1, a: 2, nested: { deep: { deeper: [{ x: '' }] }, empty: {} }, 'key with spaces': null, 'ключ': 'значение' },
];

export function storageContract(name: string, open: () => Promise<Storage>, cleanup?: () => Promise<void>): void {
  describe(`storage contract: ${name}`, () => {
    const opened: Storage[] = [];
    let n = 0;
    const ctx: Ctx = {
      s: undefined as unknown as Storage,
      host: () => `h${++n}.example`,
      open: async () => { const s = await open(); opened.push(s); return s; },
    };
    before(async () => { ctx.s = await ctx.open(); });
    after(async () => {
      for (const s of opened) await s.close();
      await cleanup?.();
    });

    describe('lifecycle', () => {
      it('migrate is idempotent and reports the schema version', async () => {
        const v = await ctx.s.schemaVersion();
        assert.ok(Number.isInteger(v) && v >= 1, `schema version ${v}`);
        await ctx.s.migrate();
        await ctx.s.migrate();
        assert.equal(await ctx.s.schemaVersion(), v);
        // Two instances migrating at once (two servers starting together) must both succeed.
        const [a, b] = await Promise.all([ctx.open(), ctx.open()]);
        await Promise.all([a.migrate(), b.migrate(), a.migrate()]);
        assert.equal(await a.schemaVersion(), v);
        assert.equal(await b.schemaVersion(), v);
      });

      it('calls after close() fail with StorageError code closed, close() twice is fine', async () => {
        const s = await ctx.open();
        const h = ctx.host();
        await s.kv.set(h, 'u', 'st', 1);
        await s.close();
        await s.close();
        await rejectsStorage(s.kv.get(h, 'u', 'st'), 'closed');
        await rejectsStorage(s.kv.set(h, 'u', 'st', 2), 'closed');
        await rejectsStorage(s.accounts.create(h, 'u', creds(1)), 'closed');
        await rejectsStorage(s.accounts.list(), 'closed');
        await rejectsStorage(s.map.setMany(h, 'u', 'st', [['k', 1]]), 'closed');
        await rejectsStorage(s.map.getAll(h, 'u', 'st'), 'closed');
        await rejectsStorage(s.archive.append(h, 'u', 'st', { when: 1, with: '', payload: '' }), 'closed');
        await rejectsStorage(s.archive.query(h, 'u', 'st', {}), 'closed');
        await rejectsStorage(s.archive.take(h, 'u', 'st'), 'closed');
        await rejectsStorage(s.accounts.delete(h, 'u'), 'closed');
        await rejectsStorage(s.migrate(), 'closed');
        await rejectsStorage(s.schemaVersion(), 'closed');
      });
    });

    describe('accounts', () => {
      it('create, get, duplicate create, setCredentials', async () => {
        const h = ctx.host();
        const t0 = Date.now();
        assert.equal(await ctx.s.accounts.create(h, 'alice', creds(1)), true);
        assert.equal(await ctx.s.accounts.create(h, 'alice', creds(2)), false);
        const a = await ctx.s.accounts.get(h, 'alice');
        assert.ok(a);
        assert.deepEqual({ ...a, createdAt: 0 }, { host: h, user: 'alice', credentials: creds(1), createdAt: 0 });
        assert.ok(a.createdAt >= t0 - 1000 && a.createdAt <= Date.now() + 1000);
        assert.equal(await ctx.s.accounts.get(h, 'bob'), undefined);
        assert.equal(await ctx.s.accounts.setCredentials(h, 'alice', creds(3)), true);
        assert.deepEqual((await ctx.s.accounts.get(h, 'alice'))?.credentials, creds(3));
        assert.equal(await ctx.s.accounts.setCredentials(h, 'nobody', creds(3)), false);
        assert.equal(await ctx.s.accounts.get(h, 'nobody'), undefined);
      });

      it('names are case-sensitive exact strings; list is ordered by host then user', async () => {
        const h1 = ctx.host(), h2 = ctx.host();
        for (const [h, u] of [[h2, 'b'], [h1, 'alice'], [h1, 'Alice'], [h1, ''], [h2, 'a'], [h1, 'alice ']] as const) {
          assert.equal(await ctx.s.accounts.create(h, u, creds(1)), true, `${h}/${u}`);
        }
        assert.equal(await ctx.s.accounts.get(h1, 'ALICE'), undefined);
        assert.equal(await ctx.s.accounts.get(h1.toUpperCase(), 'alice'), undefined);
        assert.deepEqual(await ctx.s.accounts.list(h1), ['', 'Alice', 'alice', 'alice '].map((user) => ({ host: h1, user })));
        const all = (await ctx.s.accounts.list()).filter((r) => r.host === h1 || r.host === h2);
        assert.deepEqual(all, [
          ...['', 'Alice', 'alice', 'alice '].map((user) => ({ host: h1, user })),
          { host: h2, user: 'a' }, { host: h2, user: 'b' },
        ]);
        assert.deepEqual(await ctx.s.accounts.list('no-such-host.example'), []);
      });

      it('delete removes the account and every kv/map/archive row of that user on that host only', async () => {
        const h = ctx.host(), other = ctx.host();
        for (const [hh, u] of [[h, 'gone'], [h, 'kept'], [other, 'gone']] as const) {
          await ctx.s.accounts.create(hh, u, creds(1));
          await ctx.s.kv.set(hh, u, 'vcard', { fn: u });
          await ctx.s.map.set(hh, u, 'roster', 'x@y', { sub: 'both' });
          await ctx.s.archive.append(hh, u, 'mam', { when: 1, with: 'x@y', payload: '<m/>' });
        }
        await ctx.s.kv.set(h, 'Gone', 'vcard', 'case differs');
        assert.equal(await ctx.s.accounts.delete(h, 'gone'), true);
        assert.equal(await ctx.s.accounts.get(h, 'gone'), undefined);
        assert.equal(await ctx.s.kv.get(h, 'gone', 'vcard'), undefined);
        assert.equal((await ctx.s.map.getAll(h, 'gone', 'roster')).size, 0);
        assert.equal(await ctx.s.archive.count(h, 'gone', 'mam'), 0);
        for (const [hh, u] of [[h, 'kept'], [other, 'gone']] as const) {
          assert.ok(await ctx.s.accounts.get(hh, u));
          assert.deepEqual(await ctx.s.kv.get(hh, u, 'vcard'), { fn: u });
          assert.deepEqual(await ctx.s.map.get(hh, u, 'roster', 'x@y'), { sub: 'both' });
          assert.equal(await ctx.s.archive.count(hh, u, 'mam'), 1);
        }
        assert.equal(await ctx.s.kv.get(h, 'Gone', 'vcard'), 'case differs');
        assert.equal(await ctx.s.accounts.delete(h, 'gone'), false);
      });
    });

    describe('account locks', () => {
      /** Read-modify-write of a kv counter with a pause in between, `n` at once under the lock. */
      const increments = (st: Storage, host: string, n: number): Promise<void[]> => Promise.all(Array.from({ length: n }, () =>
        st.withAccountLock(host, 'u', 'test', async () => {
          const v = (await st.kv.get<number>(host, 'u', 'counter')) ?? 0;
          await new Promise((r) => setTimeout(r, 2));
          await st.kv.set(host, 'u', 'counter', v + 1);
        })));

      it('serialises holders of one (scope, host, user): no lost update', async () => {
        const h = ctx.host();
        await increments(ctx.s, h, 20);
        assert.equal(await ctx.s.kv.get(h, 'u', 'counter'), 20);
      });

      it('other keys do not wait, fn\'s own error propagates unchanged, and the lock is released after it', async () => {
        const h = ctx.host();
        let release!: () => void;
        const held = ctx.s.withAccountLock(h, 'u', 'test', () => new Promise<void>((r) => { release = r; }));
        await new Promise((r) => setTimeout(r, 20));
        // Another user, another scope: both run while the first lock is held.
        assert.equal(await ctx.s.withAccountLock(h, 'v', 'test', async () => 'other user'), 'other user');
        assert.equal(await ctx.s.withAccountLock(h, 'u', 'other-scope', async () => 'other scope'), 'other scope');
        release();
        await held;
        class Mine extends Error {}
        await assert.rejects(ctx.s.withAccountLock(h, 'u', 'test', async () => { throw new Mine('boom'); }), (e: unknown) => e instanceof Mine);
        assert.equal(await ctx.s.withAccountLock(h, 'u', 'test', async () => 'free again'), 'free again');
      });
    });

    describe('kv', () => {
      it('JSON values round-trip exactly; null is a value, undefined deletes', async () => {
        const h = ctx.host();
        assert.equal(await ctx.s.kv.get(h, 'u', 'st'), undefined);
        for (const v of JSON_VALUES) {
          await ctx.s.kv.set(h, 'u', 'st', v);
          const got = await ctx.s.kv.get(h, 'u', 'st');
          assert.deepEqual(got, v);
          assert.equal(JSON.stringify(got), JSON.stringify(v)); // key order preserved too
        }
        await ctx.s.kv.set(h, 'u', 'st', null);
        assert.equal(await ctx.s.kv.get(h, 'u', 'st'), null);
        await ctx.s.kv.set(h, 'u', 'st', undefined);
        assert.equal(await ctx.s.kv.get(h, 'u', 'st'), undefined);
        await ctx.s.kv.set(h, 'u', 'st', undefined); // deleting nothing is fine
      });

      it('host, user and store are separate, case-sensitive keys', async () => {
        const h = ctx.host();
        await ctx.s.kv.set(h, 'u', 'st', 'a');
        await ctx.s.kv.set(h, 'U', 'st', 'b');
        await ctx.s.kv.set(h, 'u', 'ST', 'c');
        await ctx.s.kv.set(h, '', 'st', 'host-level');
        assert.deepEqual([await ctx.s.kv.get(h, 'u', 'st'), await ctx.s.kv.get(h, 'U', 'st'), await ctx.s.kv.get(h, 'u', 'ST'),
          await ctx.s.kv.get(h, '', 'st'), await ctx.s.kv.get(h.toUpperCase(), 'u', 'st')], ['a', 'b', 'c', 'host-level', undefined]);
      });

      it('a value that is not JSON is rejected with StorageError', async () => {
        const h = ctx.host();
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        await rejectsStorage(ctx.s.kv.set(h, 'u', 'st', cyclic as Json), 'invalid');
        await rejectsStorage(ctx.s.kv.set(h, 'u', 'st', 10n as unknown as Json), 'invalid');
        assert.equal(await ctx.s.kv.get(h, 'u', 'st'), undefined);
      });
    });

    describe('map', () => {
      it('get/set/delete per key, getAll in key order, clear', async () => {
        const h = ctx.host();
        for (const [i, k] of ['b', 'B', '10', 'a', '9', 'A', 'é', ''].entries()) await ctx.s.map.set(h, 'u', 'm', k, { i });
        await ctx.s.map.set(h, 'u', 'other', 'a', 'other store');
        assert.deepEqual(await ctx.s.map.get(h, 'u', 'm', 'é'), { i: 6 });
        assert.equal(await ctx.s.map.get(h, 'u', 'm', 'missing'), undefined);
        const all = await ctx.s.map.getAll(h, 'u', 'm');
        assert.ok(all instanceof Map);
        assert.deepEqual([...all.keys()], ['', '10', '9', 'A', 'B', 'a', 'b', 'é']); // code-point order
        assert.deepEqual(all.get('A'), { i: 5 });
        await ctx.s.map.set(h, 'u', 'm', 'A', null);
        assert.equal(await ctx.s.map.get(h, 'u', 'm', 'A'), null);
        await ctx.s.map.set(h, 'u', 'm', 'A', undefined);
        assert.equal(await ctx.s.map.get(h, 'u', 'm', 'A'), undefined);
        assert.equal((await ctx.s.map.getAll(h, 'u', 'm')).size, 7);
        for (const v of JSON_VALUES) {
          await ctx.s.map.set(h, 'u', 'm', 'v', v);
          assert.equal(JSON.stringify(await ctx.s.map.get(h, 'u', 'm', 'v')), JSON.stringify(v));
        }
        await ctx.s.map.clear(h, 'u', 'm');
        assert.equal((await ctx.s.map.getAll(h, 'u', 'm')).size, 0);
        assert.equal(await ctx.s.map.get(h, 'u', 'other', 'a'), 'other store');
      });

      it('setMany applies sets and deletes in order, atomically', async () => {
        const h = ctx.host();
        await ctx.s.map.setMany(h, 'u', 'm', [['a', 1], ['b', 2], ['c', 3]]);
        await ctx.s.map.setMany(h, 'u', 'm', [['a', undefined], ['b', { x: [1] }], ['d', null], ['d', 'last wins']]);
        assert.deepEqual([...(await ctx.s.map.getAll(h, 'u', 'm')).entries()], [['b', { x: [1] }], ['c', 3], ['d', 'last wins']]);
        // One bad value: nothing of the batch is applied.
        await rejectsStorage(ctx.s.map.setMany(h, 'u', 'm', [['c', undefined], ['e', 5], ['f', 1n as unknown as Json]]));
        assert.deepEqual([...(await ctx.s.map.getAll(h, 'u', 'm')).keys()], ['b', 'c', 'd']);
        await ctx.s.map.setMany(h, 'u', 'm', []);
        assert.equal((await ctx.s.map.getAll(h, 'u', 'm')).size, 3);
      });
    });

    archiveContract(ctx);
  });
}
