// SQLite adapter (the embedded default) on better-sqlite3.
//
// better-sqlite3 is synchronous: every call runs to completion on the event loop, so within
// one process no two storage operations ever interleave, and "atomic" only has to hold
// against other processes — hence BEGIN IMMEDIATE for writes that read first (migrate) and
// single statements or db.transaction() elsewhere. Calls are cheap (microseconds with WAL and
// synchronous=NORMAL, which fsyncs at checkpoints rather than on every commit; a crash can lose
// the last commits but never corrupts), so blocking the loop is a fair trade for simplicity.
// Methods are `async` only to honour the Promise-based interface; a throw becomes a rejection.
//
// Statements are prepared once per distinct SQL text and cached: the archive builder emits a
// bounded set of shapes (ids lists are one json_each parameter), so the cache stays small.
//
// We deliberately never ANALYZE. Measured on 1,000,000 archive rows: without statistics the
// planner takes the index with the narrowest equality/range prefix — (…, with_jid, seq) for
// "last 50 with X" (~2 ms incl. count), (…, when_ms) for "since <recent start>" (<1 ms) — while
// sampled statistics (analysis_limit) made it scan by seq for recent starts (~200 ms) and a full
// ANALYZE costs seconds at startup. Only a rare wide start range stays slow-ish (~150 ms).
//
// Archive rows carry an integer archive key (schema v3, table `archives`). Writes take it from
// a bounded in-memory map, created on first use; reads look it up inside their statement
// (../archive-sql.ts). A committed key is never reused (AUTOINCREMENT; keys created in a write
// that rolls back are dropped from the map with it) and the archive table's foreign key
// refuses one deleted meanwhile, so a stale cached key (an account deleted by `magpie deluser`
// in another process) fails the insert, which is retried once with a fresh key, instead of
// writing rows nobody owns.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  StorageError, type AccountRecord, type AccountStore, type ArchiveItem, type ArchivePage, type ArchiveQuery,
  type ArchiveStore, type Json, type KeyValueStore, type MapStore, type Storage, type StoredCredentials,
} from '../storage.js';
import {
  checkKey, checkMigrations, checkQuery, closedError, decodeJson, encodeJson, prepareItem, rowToItem, wrap,
  type ArchiveRow, type StorageLog,
} from '../common.js';
import { countSql, deleteSql, finishPage, INSERT_SQL, pageSql, purgeSql, seqOfId, takeSql, type BuiltSql } from '../archive-sql.js';
import { migrations } from './migrations.js';
import { KeyedLock } from '../../util/keyed-lock.js';

const LATEST = checkMigrations(migrations);

/** An archive append waiting for the group commit. */
interface PendingAppend {
  host: string; user: string; store: string;
  it: ReturnType<typeof prepareItem>;
  resolve(id: string): void;
  reject(e: unknown): void;
}
const MAX_BATCH = 500;

export interface SqliteOptions {
  /**
   * appendRows commits a batch in transactions of at most this many rows and lets the event
   * loop run between them: the archive's write-behind batches reach thousands of rows under
   * load, and one transaction of 3,000 rows held the loop ~0.3 s (bench/RESULTS.md).
   */
  archiveWriteChunk?: number;
  /** Archive keys kept in memory (host, user, store → integer key). */
  archiveKeyCache?: number;
}
export const SQLITE_DEFAULTS = { archiveWriteChunk: 500, archiveKeyCache: 20_000 } as const;
/** Code-unit order; only grouping matters, not which order the groups come in. */
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const;
  /** The raw handle, for tests (EXPLAIN QUERY PLAN) and diagnostics only. */
  readonly database: Database.Database;
  private readonly cache = new Map<string, Database.Statement>();
  private closed = false;
  // One process owns an SQLite database (cluster mode refuses SQLite), so an in-process lock
  // serialises every holder.
  private readonly locks = new KeyedLock();

  private readonly chunk: number;
  private readonly keyCacheMax: number;

  constructor(path: string, private readonly log?: StorageLog, options: SqliteOptions = {}) {
    this.chunk = options.archiveWriteChunk ?? SQLITE_DEFAULTS.archiveWriteChunk;
    this.keyCacheMax = options.archiveKeyCache ?? SQLITE_DEFAULTS.archiveKeyCache;
    const memory = path === ':memory:' || path === '';
    try {
      // A fresh install points at ./data/magpie.sqlite before ./data exists.
      if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
      this.database = new Database(path);
      this.database.pragma('journal_mode = WAL'); // readers never block the writer; :memory: stays 'memory'
      this.database.pragma('synchronous = NORMAL');
      this.database.pragma('busy_timeout = 5000'); // another process mid-write: wait, don't fail
      this.database.pragma('foreign_keys = ON');
    } catch (err) {
      throw wrap(`cannot open SQLite database ${path}`, err, 'unavailable');
    }
  }

  /** Runs `fn` against a live database, turning every driver error into a StorageError. */
  private guard<T>(what: string, fn: () => T): T {
    if (this.closed) throw closedError('SQLite');
    // Every other operation sees the appends queued before it (one total order, as if each
    // append had been written at once).
    if (this.pendingAppends.length && !this.flushing) this.flushAppends();
    try { return fn(); } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw wrap(what, err, 'conflict');
      if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw wrap(what, err, 'unavailable');
      throw wrap(what, err);
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.cache.get(sql);
    if (!s) { s = this.database.prepare(sql); this.cache.set(sql, s); }
    return s;
  }

  private all<R>(q: BuiltSql): R[] { return this.stmt(q.text).all(...q.values) as R[]; }

  // Archive keys: first-in-first-out beyond keyCacheMax (a miss costs one indexed SELECT).
  private readonly keys = new Map<string, number>();

  /** The archive's integer key, created on first use. Call inside a write transaction. */
  private keyOf(host: string, user: string, store: string, name = `${host}\u0000${user}\u0000${store}`): number {
    const hit = this.keys.get(name);
    if (hit !== undefined) return hit;
    const find = this.stmt('SELECT id FROM archives WHERE host = ? AND username = ? AND store = ?');
    let row = find.get(host, user, store) as { id: number } | undefined;
    if (!row) {
      const made = this.stmt('INSERT INTO archives (host, username, store) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(host, user, store).changes;
      row = find.get(host, user, store) as { id: number };
      if (made) this.keysMade?.push(name);
    }
    if (this.keys.size >= this.keyCacheMax) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(name, row.id);
    return row.id;
  }

  // Keys created inside the archive write transaction running now. If it rolls back, so does
  // their creation, and AUTOINCREMENT would hand the same integer to the next new archive: a
  // key still cached for the old name would then write into someone else's archive.
  private keysMade: string[] | undefined;

  /** An archive write transaction: on rollback, forgets the keys created in it. */
  private archiveWrite<T>(fn: () => T): T {
    const outer = this.keysMade;
    const made: string[] = [];
    this.keysMade = made;
    try { return this.database.transaction(fn)(); } catch (e) {
      for (const k of made) this.keys.delete(k);
      throw e;
    } finally { this.keysMade = outer; }
  }

  /** One archive row; a cached key deleted meanwhile by another process is looked up again. */
  private insertRow(host: string, user: string, store: string, it: ReturnType<typeof prepareItem>): void {
    const st = this.stmt(INSERT_SQL('sqlite'));
    const name = `${host}\u0000${user}\u0000${store}`;
    const run = (): void => { st.run(this.keyOf(host, user, store, name), it.id, it.when, it.with, it.payload, it.metaText, it.withResource ?? ''); };
    try { run(); } catch (e) {
      if ((e as { code?: string }).code !== 'SQLITE_CONSTRAINT_FOREIGNKEY') throw e;
      this.keys.delete(name);
      run();
    }
  }

  private forgetKeys(host: string, user: string): void {
    const prefix = `${host}\u0000${user}\u0000`;
    for (const k of this.keys.keys()) if (k.startsWith(prefix)) this.keys.delete(k);
  }

  withAccountLock<T>(host: string, user: string, scope: string, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(`${scope}\u0000${host}\u0000${user}`, fn);
  }

  async migrate(): Promise<void> {
    this.guard('SQLite migration failed', () => {
      this.database.transaction(() => {
        this.database.exec('CREATE TABLE IF NOT EXISTS magpie_schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
        const current = this.currentVersion();
        if (current > LATEST) throw new StorageError(`SQLite schema version ${current} is newer than this Magpie supports (${LATEST}); refusing to downgrade`);
        for (const m of migrations.slice(current)) {
          this.database.exec(m.up);
          this.stmt('INSERT INTO magpie_schema_version (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
          this.log?.('info', 'storage migration applied', { kind: 'sqlite', version: m.version });
        }
      }).immediate(); // take the write lock up front: two processes migrating cannot both read "v0"
    });
  }

  private currentVersion(): number {
    const row = this.stmt('SELECT max(version) AS v FROM magpie_schema_version').get() as { v: number | null };
    return row.v ?? 0;
  }

  async schemaVersion(): Promise<number> {
    return this.guard('SQLite schema version', () => {
      const exists = this.database.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'magpie_schema_version'").get();
      return exists ? this.currentVersion() : 0;
    });
  }

  // Group commit of archive appends. One INSERT is cheap, its commit is not: in WAL mode each
  // commit writes every page it touched (the table and its archive indexes) to the log,
  // about 0.65 ms here against 0.09 ms per item when 50 share a transaction
  // (bench/work/store-ops.ts; every message is archived twice by XEP-0313 and offline storage
  // appends too). Appends queued in one turn of the event loop commit together; each promise
  // resolves once its row is committed, so durability is what it was.
  private pendingAppends: PendingAppend[] = [];
  private flushing = false;

  private flushAppends(): void {
    const batch = this.pendingAppends;
    this.pendingAppends = [];
    if (!batch.length) return;
    this.flushing = true;
    try {
      const insert = (p: PendingAppend): void => { this.insertRow(p.host, p.user, p.store, p.it); };
      try {
        this.archiveWrite(() => { for (const p of batch) insert(p); });
        for (const p of batch) p.resolve(p.it.id);
      } catch {
        // One bad row (a duplicate id) must not fail the others: write them one by one.
        for (const p of batch) {
          try { this.guard(`archive append (id ${p.it.id})`, () => insert(p)); p.resolve(p.it.id); } catch (e) { p.reject(e); }
        }
      }
    } finally { this.flushing = false; }
  }

  // appendRows calls, chained: a batch written in several transactions finishes before the next
  // batch starts, so batches commit in call order and close() can wait for the last one. With
  // none in flight the first chunk is written at once, so an operation issued right after the
  // call sees a batch of up to one chunk, as it did when appendRows was one transaction.
  private rowWrites: Promise<void> = Promise.resolve();
  private rowsInFlight = 0;
  private closing: Promise<void> | undefined;

  private async writeRows(all: { host: string; user: string; store: string; it: ReturnType<typeof prepareItem> }[]): Promise<void> {
    for (let i = 0; i < all.length; i += this.chunk) {
      // Other callbacks (stanzas, timers, queries) run between chunks; a query of the archive
      // itself still sees the whole batch, since the archiver awaits appendRows before querying.
      if (i > 0) await new Promise((r) => setImmediate(r));
      const part = all.slice(i, i + this.chunk);
      try {
        this.guard('archive appendRows', () => this.archiveWrite(() => {
          for (const { host, user, store, it } of part) this.insertRow(host, user, store, it);
        }));
      } catch (e) {
        if (i === 0) throw e;
        const err = e as StorageError;
        throw new StorageError(`archive appendRows: ${i} of ${all.length} rows written, then: ${err.message}`, e, err.code);
      }
    }
  }

  close(): Promise<void> {
    return this.closing ??= (async () => {
      await this.rowWrites;
      if (this.pendingAppends.length) this.flushAppends();
      this.closed = true;
      this.cache.clear();
      this.database.close();
    })();
  }

  readonly accounts: AccountStore = {
    create: async (host, user, credentials) => { checkKey(host, user); const c = encodeJson(credentials as unknown as Json); return this.guard('account create', () =>
      this.stmt('INSERT INTO accounts (host, username, credentials, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
        .run(host, user, c, Date.now()).changes === 1); },
    get: async (host, user) => this.guard('account get', (): AccountRecord | undefined => {
      const r = this.stmt('SELECT credentials, created_at FROM accounts WHERE host = ? AND username = ?').get(host, user) as
        { credentials: string; created_at: number } | undefined;
      return r && { host, user, credentials: decodeJson<StoredCredentials>(r.credentials), createdAt: r.created_at };
    }),
    setCredentials: async (host, user, credentials) => { const c = encodeJson(credentials as unknown as Json); return this.guard('account update', () =>
      this.stmt('UPDATE accounts SET credentials = ? WHERE host = ? AND username = ?').run(c, host, user).changes > 0); },
    // Cascade by hand (no foreign keys: host-level data and remote users' data have no account
    // row), in one transaction so a crash cannot leave half a user behind.
    delete: async (host, user) => this.guard('account delete', () => this.database.transaction(() => {
      for (const t of ['kv', 'map']) this.stmt(`DELETE FROM ${t} WHERE host = ? AND username = ?`).run(host, user);
      this.stmt('DELETE FROM archive WHERE archive IN (SELECT id FROM archives WHERE host = ? AND username = ?)').run(host, user);
      this.stmt('DELETE FROM archives WHERE host = ? AND username = ?').run(host, user);
      this.forgetKeys(host, user);
      return this.stmt('DELETE FROM accounts WHERE host = ? AND username = ?').run(host, user).changes > 0;
    })()),
    list: async (host) => this.guard('account list', () => (host === undefined
      ? this.stmt('SELECT host, username AS user FROM accounts ORDER BY host, username').all()
      : this.stmt('SELECT host, username AS user FROM accounts WHERE host = ? ORDER BY username').all(host)) as { host: string; user: string }[]),
  };

  readonly kv: KeyValueStore = {
    get: async <T extends Json>(host: string, user: string, store: string) => this.guard('kv get', () => {
      const r = this.stmt('SELECT value FROM kv WHERE host = ? AND username = ? AND store = ?').get(host, user, store) as { value: string } | undefined;
      return r && decodeJson<T>(r.value);
    }),
    set: async (host, user, store, value) => {
      checkKey(host, user, store);
      const text = value === undefined ? undefined : encodeJson(value);
      this.guard('kv set', () => {
        if (text === undefined) this.stmt('DELETE FROM kv WHERE host = ? AND username = ? AND store = ?').run(host, user, store);
        else this.stmt('INSERT INTO kv (host, username, store, value) VALUES (?, ?, ?, ?) ON CONFLICT (host, username, store) DO UPDATE SET value = excluded.value')
          .run(host, user, store, text);
      });
    },
  };

  private mapWrite(host: string, user: string, store: string, key: string, text: string | undefined): void {
    if (text === undefined) this.stmt('DELETE FROM map WHERE host = ? AND username = ? AND store = ? AND key = ?').run(host, user, store, key);
    else this.stmt('INSERT INTO map (host, username, store, key, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT (host, username, store, key) DO UPDATE SET value = excluded.value')
      .run(host, user, store, key, text);
  }

  readonly map: MapStore = {
    get: async <T extends Json>(host: string, user: string, store: string, key: string) => this.guard('map get', () => {
      const r = this.stmt('SELECT value FROM map WHERE host = ? AND username = ? AND store = ? AND key = ?').get(host, user, store, key) as { value: string } | undefined;
      return r && decodeJson<T>(r.value);
    }),
    set: async (host, user, store, key, value) => {
      checkKey(host, user, store, key);
      const text = value === undefined ? undefined : encodeJson(value);
      this.guard('map set', () => this.mapWrite(host, user, store, key, text));
    },
    getAll: async <T extends Json>(host: string, user: string, store: string) => this.guard('map getAll', () => {
      const rows = this.stmt('SELECT key, value FROM map WHERE host = ? AND username = ? AND store = ? ORDER BY key').all(host, user, store) as { key: string; value: string }[];
      return new Map(rows.map((r) => [r.key, decodeJson<T>(r.value)] as const));
    }),
    clear: async (host, user, store) => { this.guard('map clear', () => this.stmt('DELETE FROM map WHERE host = ? AND username = ? AND store = ?').run(host, user, store)); },
    setMany: async (host, user, store, entries) => {
      checkKey(host, user, store);
      // Encode everything first: a bad value must reject the whole batch before any write.
      const encoded = entries.map(([k, v]) => { checkKey(k); return [k, v === undefined ? undefined : encodeJson(v)] as const; });
      this.guard('map setMany', () => this.database.transaction(() => {
        for (const [k, text] of encoded) this.mapWrite(host, user, store, k, text);
      })());
    },
  };

  readonly archive: ArchiveStore = {
    append: (host, user, store, item) => {
      try {
        checkKey(host, user, store);
        if (this.closed) throw closedError('SQLite');
        const it = prepareItem(item);
        return new Promise<string>((resolve, reject) => {
          this.pendingAppends.push({ host, user, store, it, resolve, reject });
          if (this.pendingAppends.length === 1) setImmediate(() => { if (!this.closed) this.flushAppends(); });
          else if (this.pendingAppends.length >= MAX_BATCH) this.flushAppends();
        });
      } catch (e) { return Promise.reject(e); }
    },
    appendMany: async (host, user, store, items) => {
      checkKey(host, user, store);
      const all = items.map(prepareItem); // validate every item before writing any
      return this.guard('archive appendMany', () => this.archiveWrite(() => {
        for (const it of all) this.insertRow(host, user, store, it);
        return all.map((it) => it.id);
      }));
    },
    // Atomic up to archiveWriteChunk rows; a larger batch commits chunk by chunk, in order, and a
    // failed chunk rejects the call with the chunks before it written and the ones after not.
    appendRows: async (rows) => {
      const all = rows.map((r) => { checkKey(r.host, r.user, r.store); return { ...r, it: prepareItem(r.item) }; });
      if (this.closing || this.closed) throw closedError('SQLite');
      if (all.length === 0) return;
      // Grouped by archive (a stable sort: each archive keeps its rows' order, which is all that
      // archive order means): consecutive inserts then land on the same index pages, still in
      // the page cache, instead of hopping across the B-trees user by user. One stream (two
      // archives interleaved): ~27% more messages/s with the archive on; 1,000 users: a few
      // percent (bench/RESULTS.md, "Archive write cost per message").
      if (all.length > 1) all.sort((a, b) => cmp(a.host, b.host) || cmp(a.user, b.user) || cmp(a.store, b.store));
      const write = (): Promise<void> => this.writeRows(all);
      const done = (this.rowsInFlight++ ? this.rowWrites.then(write) : write()).finally(() => { this.rowsInFlight--; });
      this.rowWrites = done.catch(() => undefined);
      return done;
    },
    query: async (host, user, store, q: ArchiveQuery): Promise<ArchivePage> => {
      checkQuery(q);
      return this.guard('archive query', () => {
        const seq = (id: string): number => {
          const r = this.all<{ seq: number }>(seqOfId('sqlite', host, user, store, id))[0];
          if (!r) throw new StorageError(`no archive item with id ${id}`, undefined, 'item-not-found');
          return r.seq;
        };
        const after = q.after === undefined ? undefined : seq(q.after);
        const before = q.before === undefined ? undefined : seq(q.before);
        const page = finishPage(this.all<ArchiveRow>(pageSql('sqlite', host, user, store, q, after, before)), q);
        const count = this.all<{ n: number }>(countSql('sqlite', host, user, store, q, q.countUpTo))[0]!.n;
        return { items: page.rows.map(rowToItem), complete: page.complete, count };
      });
    },
    delete: async (host, user, store, q) => {
      if (q.end !== undefined) checkQuery({ end: q.end });
      const d = deleteSql('sqlite', host, user, store, q);
      return this.guard('archive delete', () => this.stmt(d.text).run(...d.values).changes);
    },
    purge: async (store, end, limit) => {
      checkQuery({ end, limit });
      const d = purgeSql('sqlite', store, end, limit);
      return this.guard('archive purge', () => this.stmt(d.text).run(...d.values).changes);
    },
    take: async (host, user, store, limit) => {
      if (limit !== undefined) checkQuery({ limit });
      // One DELETE ... RETURNING: atomic on its own, even against another process.
      return this.guard('archive take', (): ArchiveItem[] =>
        this.all<ArchiveRow>(takeSql('sqlite', host, user, store, limit)).sort((a, b) => a.seq - b.seq).map(rowToItem));
    },
    count: async (host, user, store) => this.guard('archive count', () =>
      this.all<{ n: number }>(countSql('sqlite', host, user, store, {}))[0]!.n),
  };
}

export async function openSqlite(path: string, log?: StorageLog, options?: SqliteOptions): Promise<SqliteStorage> {
  return new SqliteStorage(path, log, options);
}
