// PostgreSQL adapter: the stores on top of ./pg-pool.ts, for deployments that run several
// Magpie processes against one database or want a managed database.
//
// Unlike SQLite, calls really do run concurrently (one pool connection each), so every
// read-modify-write is a single statement (INSERT ... ON CONFLICT) or a transaction, and the
// two operations whose correctness depends on serialisation take advisory transaction locks:
// migrate() (so two servers starting together do not both apply version N) and archive take()
// (so two deliveries of the same offline queue neither duplicate nor skip items — the second
// waits for the first to commit, then its DELETE sees what is left, in order, honouring limit).
// Lock keys are (class, hashtext(name)): a hash collision only costs extra serialisation.

import {
  StorageError, type AccountRecord, type AccountStore, type ArchivePage, type ArchiveQuery, type ArchiveStore,
  type Json, type KeyValueStore, type MapStore, type Storage, type StoredCredentials,
} from '../storage.js';
import {
  checkKey, checkMigrations, checkQuery, closedError, decodeJson, encodeJson, prepareItem, rowToItem, type ArchiveRow, type StorageLog,
} from '../common.js';
import { countSql, deleteSql, finishPage, INSERT_SQL, isTimeWindow, pageSql, purgeSql, seqOfId, takeSql } from '../archive-sql.js';
import { PgConnection, SCHEMA_RE } from './pg-pool.js';
import { migrations } from './migrations.js';
import { PgAccountLocks } from './account-lock.js';
import { KeyedLock } from '../../util/keyed-lock.js';
import type pg from 'pg';

const LATEST = checkMigrations(migrations);
const LOCK_MIGRATE = 0x4d61_6701; // advisory lock classes ("Mag" + n), arbitrary but fixed
const LOCK_TAKE = 0x4d61_6702;
/** Time windows up to this many rows are read from the when index first (see pageSql). */
const WINDOW_FIRST_MAX = 20_000;

export interface PgOptions { url: string; schema?: string; poolSize?: number; lockPoolSize?: number; lockTimeoutMs?: number; sharedLocks?: boolean; log?: StorageLog }

/** Defaults of the per-account lock pool (./account-lock.ts). */
const LOCK_POOL_SIZE = 4;
const LOCK_TIMEOUT_MS = 30_000;

export class PostgresStorage implements Storage {
  readonly kind = 'postgres' as const;
  readonly conn: PgConnection;
  private lockConn: PgConnection | undefined;
  private readonly locks: PgAccountLocks;
  /** sharedLocks: false — one server on this database: an in-process lock is enough. */
  private readonly localLocks: KeyedLock | undefined;
  private readonly schema: string | undefined;
  private readonly log: StorageLog | undefined;

  constructor(opts: PgOptions) {
    if (opts.schema !== undefined && !SCHEMA_RE.test(opts.schema)) {
      throw new StorageError(`invalid PostgreSQL schema name ${JSON.stringify(opts.schema)} (lowercase letters, digits, _)`, undefined, 'invalid');
    }
    this.schema = opts.schema;
    this.log = opts.log;
    this.conn = new PgConnection(opts.url, opts);
    this.locks = new PgAccountLocks(() => {
      if (this.conn.isClosed) throw closedError('PostgreSQL');
      // Opened at the first lock: a deployment whose modules never lock pays nothing.
      this.lockConn ??= new PgConnection(opts.url, { schema: opts.schema, poolSize: opts.lockPoolSize ?? LOCK_POOL_SIZE, log: opts.log });
      return this.lockConn;
    }, { schema: opts.schema, timeoutMs: opts.lockTimeoutMs ?? LOCK_TIMEOUT_MS });
    this.localLocks = opts.sharedLocks === false ? new KeyedLock() : undefined;
  }

  withAccountLock<T>(host: string, user: string, scope: string, fn: () => Promise<T>): Promise<T> {
    if (this.localLocks) return this.localLocks.run(`${scope}\u0000${host}\u0000${user}`, fn);
    return this.locks.run(host, user, scope, fn);
  }

  /** The raw pool, for tests (EXPLAIN, killing a backend) and diagnostics only. */
  get pool(): pg.Pool { return this.conn.pool; }

  async migrate(): Promise<void> {
    await this.conn.tx('PostgreSQL migration', async (c) => {
      await this.conn.query('migration lock', 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_MIGRATE, this.schema ?? ''], c);
      // Check before creating: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when
      // the schema exists, and a locked-down role may only own its schema.
      if (this.schema && (await this.conn.query('schema check', 'SELECT 1 FROM pg_namespace WHERE nspname = $1', [this.schema], c)).length === 0) {
        await this.conn.exec('create schema', `CREATE SCHEMA "${this.schema}"`, [], c);
      }
      await this.conn.exec('version table', 'CREATE TABLE IF NOT EXISTS magpie_schema_version (version integer PRIMARY KEY, applied_at bigint NOT NULL)', [], c);
      const current = await this.version(c);
      if (current > LATEST) throw new StorageError(`PostgreSQL schema version ${current} is newer than this Magpie supports (${LATEST}); refusing to downgrade`);
      for (const m of migrations.slice(current)) {
        await this.conn.exec(`migration ${m.version}`, m.up, [], c);
        await this.conn.exec('record migration', 'INSERT INTO magpie_schema_version (version, applied_at) VALUES ($1, $2)', [m.version, Date.now()], c);
        this.log?.('info', 'storage migration applied', { kind: 'postgres', schema: this.schema, version: m.version });
      }
    });
  }

  private async version(c?: pg.PoolClient): Promise<number> {
    const [row] = await this.conn.query<{ v: number | null }>('schema version',
      "SELECT CASE WHEN to_regclass('magpie_schema_version') IS NULL THEN 0 ELSE (SELECT coalesce(max(version), 0) FROM magpie_schema_version) END AS v", [], c);
    return row?.v ?? 0;
  }

  async schemaVersion(): Promise<number> { return this.version(); }

  async close(): Promise<void> { await this.conn.end(); await this.lockConn?.end(); }

  readonly accounts: AccountStore = {
    create: async (host, user, credentials) => {
      checkKey(host, user);
      return (await this.conn.exec('account create', 'INSERT INTO accounts (host, username, credentials, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
        [host, user, encodeJson(credentials as unknown as Json), Date.now()])) === 1;
    },
    get: async (host, user): Promise<AccountRecord | undefined> => {
      const [r] = await this.conn.query<{ credentials: string; created_at: number }>('account get',
        'SELECT credentials, created_at FROM accounts WHERE host = $1 AND username = $2', [host, user]);
      return r && { host, user, credentials: decodeJson<StoredCredentials>(r.credentials), createdAt: r.created_at };
    },
    setCredentials: async (host, user, credentials) => (await this.conn.exec('account update',
      'UPDATE accounts SET credentials = $3 WHERE host = $1 AND username = $2', [host, user, encodeJson(credentials as unknown as Json)])) > 0,
    // Cascade by hand (no foreign keys: host-level and remote users' data have no account row).
    delete: async (host, user) => this.conn.tx('account delete', async (c) => {
      for (const t of ['kv', 'map', 'archive']) await this.conn.exec('account delete', `DELETE FROM ${t} WHERE host = $1 AND username = $2`, [host, user], c);
      return (await this.conn.exec('account delete', 'DELETE FROM accounts WHERE host = $1 AND username = $2', [host, user], c)) > 0;
    }),
    list: async (host) => host === undefined
      ? this.conn.query('account list', 'SELECT host, username AS user FROM accounts ORDER BY host, username')
      : this.conn.query('account list', 'SELECT host, username AS user FROM accounts WHERE host = $1 ORDER BY username', [host]),
  };

  readonly kv: KeyValueStore = {
    get: async <T extends Json>(host: string, user: string, store: string): Promise<T | undefined> => {
      const [r] = await this.conn.query<{ value: string }>('kv get', 'SELECT value FROM kv WHERE host = $1 AND username = $2 AND store = $3', [host, user, store]);
      return r ? decodeJson<T>(r.value) : undefined;
    },
    set: async (host, user, store, value) => {
      checkKey(host, user, store);
      if (value === undefined) await this.conn.exec('kv set', 'DELETE FROM kv WHERE host = $1 AND username = $2 AND store = $3', [host, user, store]);
      else await this.conn.exec('kv set', 'INSERT INTO kv (host, username, store, value) VALUES ($1, $2, $3, $4) ON CONFLICT (host, username, store) DO UPDATE SET value = excluded.value',
        [host, user, store, encodeJson(value)]);
    },
  };

  private async mapWrite(host: string, user: string, store: string, key: string, text: string | undefined, c?: pg.PoolClient): Promise<void> {
    if (text === undefined) await this.conn.exec('map set', 'DELETE FROM map WHERE host = $1 AND username = $2 AND store = $3 AND key = $4', [host, user, store, key], c);
    else await this.conn.exec('map set', 'INSERT INTO map (host, username, store, key, value) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (host, username, store, key) DO UPDATE SET value = excluded.value',
      [host, user, store, key, text], c);
  }

  readonly map: MapStore = {
    get: async <T extends Json>(host: string, user: string, store: string, key: string): Promise<T | undefined> => {
      const [r] = await this.conn.query<{ value: string }>('map get', 'SELECT value FROM map WHERE host = $1 AND username = $2 AND store = $3 AND key = $4', [host, user, store, key]);
      return r ? decodeJson<T>(r.value) : undefined;
    },
    set: async (host, user, store, key, value) => {
      checkKey(host, user, store, key);
      await this.mapWrite(host, user, store, key, value === undefined ? undefined : encodeJson(value));
    },
    getAll: async <T extends Json>(host: string, user: string, store: string) => {
      const rows = await this.conn.query<{ key: string; value: string }>('map getAll',
        'SELECT key, value FROM map WHERE host = $1 AND username = $2 AND store = $3 ORDER BY key', [host, user, store]);
      return new Map(rows.map((r) => [r.key, decodeJson<T>(r.value)] as const));
    },
    clear: async (host, user, store) => { await this.conn.exec('map clear', 'DELETE FROM map WHERE host = $1 AND username = $2 AND store = $3', [host, user, store]); },
    setMany: async (host, user, store, entries) => {
      checkKey(host, user, store);
      // Encode everything first: a bad value must reject the whole batch before any write.
      const encoded = entries.map(([k, v]) => { checkKey(k); return [k, v === undefined ? undefined : encodeJson(v)] as const; });
      await this.conn.tx('map setMany', async (c) => { for (const [k, text] of encoded) await this.mapWrite(host, user, store, k, text, c); });
    },
  };

  readonly archive: ArchiveStore = {
    append: async (host, user, store, item) => {
      checkKey(host, user, store);
      const it = prepareItem(item);
      await this.conn.exec(`archive append (id ${it.id})`, INSERT_SQL('postgres'),
        [host, user, store, it.id, it.when, it.with, it.payload, it.metaText, it.withResource ?? '']);
      return it.id;
    },
    appendMany: async (host, user, store, items) => {
      checkKey(host, user, store);
      const all = items.map(prepareItem);
      if (all.length === 0) return [];
      // One statement over arrays (unnest keeps order, so seq follows the list): a round trip
      // per item would make bulk imports take minutes.
      await this.conn.exec('archive appendMany', `INSERT INTO archive (host, username, store, id, when_ms, with_jid, payload, meta, with_resource)
        SELECT $1, $2, $3, t.id, t.w, t.j, t.p, t.m::json, t.r FROM unnest($4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[])
        WITH ORDINALITY AS t(id, w, j, p, m, r, n) ORDER BY t.n`,
      [host, user, store, all.map((i) => i.id), all.map((i) => i.when), all.map((i) => i.with), all.map((i) => i.payload),
        all.map((i) => i.metaText), all.map((i) => i.withResource ?? '')]);
      return all.map((i) => i.id);
    },
    appendRows: async (rows) => {
      const all = rows.map((r) => { checkKey(r.host, r.user, r.store); return { ...r, it: prepareItem(r.item) }; });
      if (all.length === 0) return;
      // One statement for every row (ORDER BY the ordinality keeps list order, so seq follows it).
      await this.conn.exec('archive appendRows', `INSERT INTO archive (host, username, store, id, when_ms, with_jid, payload, meta, with_resource)
        SELECT t.h, t.u, t.s, t.id, t.w, t.j, t.p, t.m::json, t.r FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[])
        WITH ORDINALITY AS t(h, u, s, id, w, j, p, m, r, n) ORDER BY t.n`,
      [all.map((r) => r.host), all.map((r) => r.user), all.map((r) => r.store), all.map((r) => r.it.id), all.map((r) => r.it.when),
        all.map((r) => r.it.with), all.map((r) => r.it.payload), all.map((r) => r.it.metaText), all.map((r) => r.it.withResource ?? '')]);
    },
    query: async (host, user, store, q: ArchiveQuery): Promise<ArchivePage> => {
      checkQuery(q);
      const seq = async (id: string | undefined): Promise<number | undefined> => {
        if (id === undefined) return undefined;
        const s = seqOfId('postgres', host, user, store, id);
        const [r] = await this.conn.query<{ seq: number }>('archive query', s.text, s.values);
        if (!r) throw new StorageError(`no archive item with id ${id}`, undefined, 'item-not-found');
        return r.seq;
      };
      const [after, before] = await Promise.all([seq(q.after), seq(q.before)]);
      const c = countSql('postgres', host, user, store, q, q.countUpTo);
      // A time window: count it first (bounded, from the when index) to pick the plan (pageSql).
      let windowFirst = false;
      let known: number | undefined;
      if (isTimeWindow(q)) {
        const w = countSql('postgres', host, user, store, q, WINDOW_FIRST_MAX);
        const n = (await this.conn.query<{ n: number }>('archive window count', w.text, w.values))[0]?.n ?? 0;
        windowFirst = n <= WINDOW_FIRST_MAX;
        if (q.countUpTo !== undefined && q.countUpTo <= WINDOW_FIRST_MAX) known = Math.min(n, q.countUpTo + 1);
        else if (windowFirst) known = n;
      }
      const p = pageSql('postgres', host, user, store, q, after, before, windowFirst);
      // Page and count on two connections in parallel: RSM allows the count to be approximate,
      // so one round trip of latency beats a snapshot-consistent transaction.
      const [rows, [n]] = await Promise.all([
        this.conn.query<ArchiveRow>('archive query', p.text, p.values),
        known !== undefined ? Promise.resolve([{ n: known }]) : this.conn.query<{ n: number }>('archive count', c.text, c.values),
      ]);
      const page = finishPage(rows, q);
      return { items: page.rows.map(rowToItem), complete: page.complete, count: n?.n ?? 0 };
    },
    delete: async (host, user, store, q) => {
      if (q.end !== undefined) checkQuery({ end: q.end });
      const d = deleteSql('postgres', host, user, store, q);
      return this.conn.exec('archive delete', d.text, d.values);
    },
    purge: async (store, end, limit) => {
      checkQuery({ end, limit });
      const d = purgeSql('postgres', store, end, limit);
      return this.conn.exec('archive purge', d.text, d.values);
    },
    take: async (host, user, store, limit) => {
      if (limit !== undefined) checkQuery({ limit });
      return this.conn.tx('archive take', async (c) => {
        await this.conn.query('take lock', 'SELECT pg_advisory_xact_lock($1, hashtext($2))', [LOCK_TAKE, JSON.stringify([host, user, store])], c);
        const t = takeSql('postgres', host, user, store, limit);
        const rows = await this.conn.query<ArchiveRow>('archive take', t.text, t.values, c);
        return rows.sort((a, b) => a.seq - b.seq).map(rowToItem);
      });
    },
    count: async (host, user, store) => {
      const c = countSql('postgres', host, user, store, {});
      return (await this.conn.query<{ n: number }>('archive count', c.text, c.values))[0]?.n ?? 0;
    },
  };
}
