// Runs the storage contract against a REAL PostgreSQL, each run in a fresh schema
// magpie_test_<random> dropped afterwards, plus PostgreSQL specifics: failure modes (unreachable
// server, unknown database, a connection killed under the pool), schema isolation, concurrent
// first-time migration, and query plans proving the archive indexes are used.
//
// Server: $MAGPIE_TEST_PG_URL if set, else postgres://postgres@127.0.0.1:5432/test, else the same as
// the current OS user. Unreachable ⇒ the suite is skipped with a message — except under
// CI=true, where a missing database must fail loudly rather than pass silently.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import pg from 'pg';
import { storageContract } from '../contract.js';
import { openStorage } from '../index.js';
import { pageSql } from '../archive-sql.js';
import { StorageError, type Storage } from '../storage.js';
import type { PostgresStorage } from './postgres.js';

const candidates = process.env.MAGPIE_TEST_PG_URL ? [process.env.MAGPIE_TEST_PG_URL]
  : ['postgres://postgres@127.0.0.1:5432/test', `postgres://${encodeURIComponent(userInfo().username)}@127.0.0.1:5432/test`];

async function reachable(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  c.on('error', () => undefined);
  try { await c.connect(); await c.query('SELECT 1'); return true; } catch { return false; } finally { await c.end().catch(() => undefined); }
}

let url: string | undefined;
for (const u of candidates) if (await reachable(u)) { url = u; break; }

/** Runs SQL on a throwaway admin connection (schema drops, killing backends). */
async function admin<R extends pg.QueryResultRow>(sql: string, values: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try { return (await c.query<R>(sql, values)).rows; } finally { await c.end(); }
}

const newSchema = (): string => `magpie_test_${randomBytes(6).toString('hex')}`;
const schemas: string[] = [];
after(async () => { for (const s of schemas) await admin(`DROP SCHEMA IF EXISTS "${s}" CASCADE`); });

function openIn(schema: string, log?: (level: string, msg: string, obj?: Record<string, unknown>) => void): Promise<Storage> {
  if (!schemas.includes(schema)) schemas.push(schema);
  return openStorage({ type: 'postgres', url: url!, schema, poolSize: 4 }, log ? { log } : {});
}

describe('postgres failure modes (no server needed)', () => {
  it('an unreachable server is a clear StorageError within seconds, not a crash', async () => {
    const stray: unknown[] = [];
    const onStray = (e: unknown): void => { stray.push(e); };
    process.on('unhandledRejection', onStray);
    process.on('uncaughtException', onStray);
    try {
      const t0 = Date.now();
      const err = await openStorage({ type: 'postgres', url: 'postgres://magpie:secret@127.0.0.1:1/test' }).then(
        () => assert.fail('should not open'), (e: unknown) => e);
      assert.ok(err instanceof StorageError, String(err));
      assert.equal(err.code, 'unavailable');
      assert.match(err.message, /PostgreSQL at 127\.0\.0\.1:1\/test is unavailable/);
      assert.doesNotMatch(err.message, /secret/);
      assert.ok(Date.now() - t0 < 6000);
      await new Promise((r) => setTimeout(r, 100)); // let any stray event surface
      assert.deepEqual(stray, []);
    } finally {
      process.off('unhandledRejection', onStray);
      process.off('uncaughtException', onStray);
    }
  });

  it('an invalid schema name is refused', async () => {
    await assert.rejects(openStorage({ type: 'postgres', url: 'postgres://127.0.0.1:1/x', schema: 'Bad; DROP' }),
      (e: unknown) => e instanceof StorageError && e.code === 'invalid');
  });
});

if (!url) {
  const msg = `PostgreSQL not reachable (tried ${candidates.join(', ')}); set MAGPIE_TEST_PG_URL`;
  if (process.env.CI === 'true') {
    it('PostgreSQL is required under CI', () => { assert.fail(msg); });
  } else {
    console.log(`# skipping PostgreSQL storage tests: ${msg}`);
    describe('storage contract: postgres', { skip: msg }, () => undefined);
  }
} else {
  const schema = newSchema();
  storageContract('postgres', () => openIn(schema));

  describe('postgres specifics', () => {
    it('tables live in the configured schema only', async () => {
      const s = newSchema();
      await (await openIn(s)).close();
      const rows = await admin<{ table_name: string }>('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [s]);
      assert.deepEqual(rows.map((r) => r.table_name), ['accounts', 'archive', 'kv', 'magpie_schema_version', 'map']);
    });

    it('first-time migration by several processes at once applies each version once', async () => {
      const s = newSchema();
      const all = await Promise.all([openIn(s), openIn(s), openIn(s)]);
      try {
        for (const x of all) assert.equal(await x.schemaVersion(), 2);
        assert.deepEqual(await admin(`SELECT version FROM "${s}".magpie_schema_version ORDER BY version`), [{ version: 1 }, { version: 2 }]);
      } finally { for (const x of all) await x.close(); }
    });

    it('account locks hold between two processes on one database (cluster nodes), and a wait is bounded', async () => {
      const sch = newSchema();
      const a = await openIn(sch);
      const b = await openStorage({ type: 'postgres', url: url!, schema: sch, poolSize: 4, lockTimeoutMs: 300 });
      try {
        // Read-modify-write of one counter, 2 x 25 at once through two storages: none lost.
        const bump = (st: Storage) => st.withAccountLock('h', 'u', 'test', async () => {
          const v = (await st.kv.get<number>('h', 'u', 'counter')) ?? 0;
          await new Promise((r) => setTimeout(r, 2));
          await st.kv.set('h', 'u', 'counter', v + 1);
        });
        await Promise.all(Array.from({ length: 25 }, () => [bump(a), bump(b)]).flat());
        assert.equal(await a.kv.get('h', 'u', 'counter'), 50);
        // A holder that does not let go: the other process gives up after lockTimeoutMs.
        let release!: () => void;
        const held = a.withAccountLock('h', 'u', 'test', () => new Promise<void>((r) => { release = r; }));
        await new Promise((r) => setTimeout(r, 100));
        const t0 = Date.now();
        await assert.rejects(b.withAccountLock('h', 'u', 'test', async () => 'never'), (e: unknown) => e instanceof StorageError);
        assert.ok(Date.now() - t0 < 5000);
        release();
        await held;
        assert.equal(await b.withAccountLock('h', 'u', 'test', async () => 'after'), 'after');
      } finally { await a.close(); await b.close(); }
    });

    it('an unknown database is a clear StorageError', async () => {
      const bad = new URL(url!);
      bad.pathname = '/magpie_no_such_db';
      await assert.rejects(openStorage({ type: 'postgres', url: bad.toString() }),
        (e: unknown) => e instanceof StorageError && e.code === 'unavailable' && /magpie_no_such_db/.test(e.message));
    });

    it('a pooled connection killed while idle is logged, and the next call reconnects', async () => {
      const logs: string[] = [];
      const s = await openIn(newSchema(), (level, msg) => logs.push(`${level}: ${msg}`)) as PostgresStorage;
      try {
        const [{ pid }] = (await s.pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
        await admin('SELECT pg_terminate_backend($1)', [pid]);
        // Wait for that line itself: opening the storage logs other lines (migrations) first.
        const idleLogged = () => logs.some((l) => l.startsWith('error: PostgreSQL idle connection'));
        for (let i = 0; i < 150 && !idleLogged(); i++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(idleLogged(), logs.join('\n'));
        await s.kv.set('h', 'u', 'st', { ok: true });
        assert.deepEqual(await s.kv.get('h', 'u', 'st'), { ok: true });
      } finally { await s.close(); }
    });

    it('archive queries are driven by the indexes', async () => {
      const s = await openIn(newSchema()) as PostgresStorage;
      try {
        // Enough rows, spread over users and peers, for the planner to prefer an index.
        await s.pool.query(`INSERT INTO archive (host, username, store, id, when_ms, with_jid, payload)
          SELECT 'h', 'u' || (g % 50), 'mam', 'id' || g, g, 'p' || (g % 7), 'x' FROM generate_series(1, 50000) g`);
        await s.pool.query('ANALYZE archive');
        const plan = async (q: Parameters<typeof pageSql>[4], beforeSeq?: number): Promise<string> => {
          const b = pageSql('postgres', 'h', 'u3', 'mam', q, undefined, beforeSeq);
          const rows = (await s.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${b.text}`, b.values)).rows;
          return rows.map((r) => r['QUERY PLAN']).join('\n');
        };
        for (const [q, before] of [[{ with: 'p3', limit: 50 }], [{ with: 'p3', limit: 50, reverse: true }], [{ with: 'p3', limit: 50, reverse: true }, 40000]] as const) {
          const p = await plan(q, before);
          assert.match(p, /archive_with_seq/, p);
          assert.doesNotMatch(p, /Sort/, p);
        }
        const p = await plan({ limit: 50, reverse: true });
        assert.match(p, /archive_seq/, p);
      } finally { await s.close(); }
    });
  });
}
