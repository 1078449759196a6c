// The archive's SQL, built once for both dialects so that paging semantics cannot drift apart.
//
// Archive order is `seq` order (append order). A query is: filters (with/start/end/ids), an
// optional position window (after/before, translated by the adapter into seq bounds of the
// referenced ids), a direction and a limit. We fetch `limit + 1` rows in the paging direction:
// the extra row tells whether more exist beyond the page (`complete`) without a second query.
// A reverse page is fetched descending and flipped, so callers always get ascending items.
//
// Indexes (see the migrations): (<archive>, seq) and (<archive>, with_jid, seq) let "the last 50
// with X" walk the index in order and stop after 51 entries, so cost does not grow with archive
// size; the (…, when_ms, seq) ones serve start/end ranges. <archive> is (host, username, store)
// on PostgreSQL and the integer key of the `archives` table on SQLite (schema v3: one integer
// instead of three text prefixes in every index entry made each append ~30% cheaper,
// bench/RESULTS.md "Integer archive key"); SQLite statements look the key up in a constant
// subquery, evaluated once per statement, so a query needs no cache and never sees a stale key.
// Id lists are bound as ONE parameter (json_each / ANY) so a long ids list cannot exceed the
// drivers' parameter limits and the statement text stays the same for the statement cache.

import type { ArchiveQuery } from './storage.js';

export type Dialect = 'sqlite' | 'postgres';

export interface BuiltSql { text: string; values: unknown[] }

/** Collects bound values and emits the dialect's placeholder for each. */
class Params {
  readonly values: unknown[] = [];
  constructor(readonly dialect: Dialect) {}
  add(v: unknown): string {
    this.values.push(v);
    return this.dialect === 'sqlite' ? '?' : `$${this.values.length}`;
  }
  inList(column: string, list: readonly string[]): string {
    return this.dialect === 'sqlite'
      ? `${column} IN (SELECT value FROM json_each(${this.add(JSON.stringify(list))}))`
      : `${column} = ANY(${this.add([...list])}::text[])`;
  }
}

export interface Filters { with?: string; withResource?: string; start?: number; end?: number; ids?: string[] }

/** The conditions selecting one archive's rows. */
function archiveIs(p: Params, host: string, user: string, store: string): string {
  return p.dialect === 'sqlite'
    ? `archive = (SELECT id FROM archives WHERE host = ${p.add(host)} AND username = ${p.add(user)} AND store = ${p.add(store)})`
    : `host = ${p.add(host)} AND username = ${p.add(user)} AND store = ${p.add(store)}`;
}

function where(p: Params, host: string, user: string, store: string, f: Filters): string[] {
  const c = [archiveIs(p, host, user, store)];
  if (f.with !== undefined) c.push(`with_jid = ${p.add(f.with)}`);
  // Not indexed on purpose: it narrows a `with` walk, which the (…, with_jid, seq) index serves.
  if (f.withResource !== undefined) c.push(`with_resource = ${p.add(f.withResource)}`);
  // when_ms is an integer column: rounding a fractional bound inwards keeps the inclusive
  // meaning and lets PostgreSQL bind it as bigint.
  if (f.start !== undefined) c.push(`when_ms >= ${p.add(Math.ceil(f.start))}`);
  if (f.end !== undefined) c.push(`when_ms <= ${p.add(Math.floor(f.end))}`);
  // Ids through a subquery on the unique (<archive>, id) index: as a plain `id IN` filter SQLite
  // preferred walking the whole archive in seq order (measured: O(archive size)).
  if (f.ids !== undefined) {
    c.push(`seq IN (SELECT seq FROM archive WHERE ${archiveIs(p, host, user, store)} AND ${p.inList('id', f.ids)})`);
  }
  return c;
}

/**
 * The table to read, with SQLite's index pinned for a peer and a time window. Without
 * statistics SQLite rates (archive, when_ms) with a two-sided range as good as (archive,
 * with_jid, when_ms) with one, and took the first: it then walks the whole window checking the
 * peer on each row (at 1,000,000 rows, "with X and a one-day window" ~0.1 → ~1 ms; with text key
 * prefixes the extra equality column tipped it the right way). The peer's window is a subset of
 * the window, so pinning can only read fewer entries.
 */
function source(p: Params, f: Filters): string {
  return p.dialect === 'sqlite' && f.with !== undefined && (f.start !== undefined || f.end !== undefined) && f.ids === undefined
    ? 'archive INDEXED BY archive_with_when' : 'archive';
}

export const ARCHIVE_COLUMNS = 'seq, id, when_ms, with_jid, payload, meta, with_resource';

/** Seq of one id in one archive: resolves RSM after/before. */
export function seqOfId(dialect: Dialect, host: string, user: string, store: string, id: string): BuiltSql {
  const p = new Params(dialect);
  const text = `SELECT seq FROM archive WHERE ${archiveIs(p, host, user, store)} AND id = ${p.add(id)}`;
  return { text, values: p.values };
}

/** A time window without a peer or ids: the shape PostgreSQL's planner misjudges (see pageSql). */
export const isTimeWindow = (q: ArchiveQuery): boolean =>
  (q.start !== undefined || q.end !== undefined) && q.with === undefined && q.ids === undefined && q.limit !== undefined;

/**
 * One page; `afterSeq`/`beforeSeq` are the resolved positions (exclusive). `windowFirst` selects
 * the window's rows before ordering them: PostgreSQL's planner assumes rows matching a time
 * window are spread evenly along seq, so for a narrow window it walks the archive in seq order
 * to fill one page (measured 270–660 ms on 1,000,000 rows for one day mid-year; when_ms and seq
 * are correlated). The materialised CTE makes it read the window from the (…, when_ms, seq) index
 * first and order only those rows — O(window), what SQLite's planner does by itself. The caller
 * uses it only when a bounded count says the window is small; a wide window is better walked.
 */
export function pageSql(dialect: Dialect, host: string, user: string, store: string, q: ArchiveQuery,
  afterSeq?: number, beforeSeq?: number, windowFirst = false): BuiltSql {
  const p = new Params(dialect);
  const c = where(p, host, user, store, q);
  if (afterSeq !== undefined) c.push(`seq > ${p.add(afterSeq)}`);
  if (beforeSeq !== undefined) c.push(`seq < ${p.add(beforeSeq)}`);
  const dir = q.reverse ? 'DESC' : 'ASC';
  const lim = q.limit === undefined ? '' : ` LIMIT ${p.add(q.limit + 1)}`;
  const text = windowFirst
    ? `WITH w AS MATERIALIZED (SELECT seq FROM archive WHERE ${c.join(' AND ')}) `
      + `SELECT ${ARCHIVE_COLUMNS} FROM archive WHERE seq IN (SELECT seq FROM w ORDER BY seq ${dir}${lim}) ORDER BY seq ${dir}`
    : `SELECT ${ARCHIVE_COLUMNS} FROM ${source(p, q)} WHERE ${c.join(' AND ')} ORDER BY seq ${dir}${lim}`;
  return { text, values: p.values };
}

/**
 * Total matching the filters, ignoring paging (RSM <count/>). With `upTo`, the count stops after
 * upTo + 1 index entries: counting a million-item archive would otherwise walk all of it.
 */
export function countSql(dialect: Dialect, host: string, user: string, store: string, f: Filters, upTo?: number): BuiltSql {
  const p = new Params(dialect);
  const w = where(p, host, user, store, f).join(' AND ');
  const from = source(p, f);
  const text = upTo === undefined ? `SELECT count(*) AS n FROM ${from} WHERE ${w}`
    : `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} WHERE ${w} LIMIT ${p.add(upTo + 1)}) AS bounded`;
  return { text, values: p.values };
}

/** PostgreSQL: host, username, store, then the item; SQLite: the archive key, then the item. */
export const INSERT_SQL = (dialect: Dialect): string => {
  const item = 'id, when_ms, with_jid, payload, meta, with_resource';
  return dialect === 'sqlite' ? `INSERT INTO archive (archive, ${item}) VALUES (?, ?, ?, ?, ?, ?, ?)`
    : `INSERT INTO archive (host, username, store, ${item}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`;
};

/** Retention: a bounded batch of one store's items up to `end`, across every host and user. */
export function purgeSql(dialect: Dialect, store: string, end: number, limit: number): BuiltSql {
  const p = new Params(dialect);
  // SQLite: archive by archive of that store, each from its (archive, when_ms, seq) index, so
  // the cost is O(archives of the store + rows deleted) with no per-row index on the store.
  const ofStore = p.dialect === 'sqlite' ? `archive IN (SELECT id FROM archives WHERE store = ${p.add(store)})` : `store = ${p.add(store)}`;
  const text = `DELETE FROM archive WHERE seq IN (SELECT seq FROM archive WHERE ${ofStore} AND when_ms <= ${p.add(Math.floor(end))} LIMIT ${p.add(limit)})`;
  return { text, values: p.values };
}

/** Delete by ids / up to `end` / with / before an item; all optional and combined with AND. */
export function deleteSql(dialect: Dialect, host: string, user: string, store: string,
  q: { ids?: string[]; end?: number; with?: string; before?: string }): BuiltSql {
  const p = new Params(dialect);
  const f: Filters = {};
  if (q.ids !== undefined) f.ids = q.ids;
  if (q.end !== undefined) f.end = q.end;
  if (q.with !== undefined) f.with = q.with;
  const c = where(p, host, user, store, f);
  // An unknown id makes the subquery NULL, and `seq < NULL` matches nothing.
  if (q.before !== undefined) {
    c.push(`seq < (SELECT seq FROM archive WHERE ${archiveIs(p, host, user, store)} AND id = ${p.add(q.before)})`);
  }
  return { text: `DELETE FROM archive WHERE ${c.join(' AND ')}`, values: p.values };
}

/**
 * Read-and-delete the oldest `limit` (or all) items in one statement. RETURNING order is not
 * guaranteed by either engine, so callers sort the rows by seq.
 */
export function takeSql(dialect: Dialect, host: string, user: string, store: string, limit?: number): BuiltSql {
  const p = new Params(dialect);
  const a = archiveIs(p, host, user, store);
  const lim = limit === undefined ? '' : ` LIMIT ${p.add(limit)}`;
  const text = `DELETE FROM archive WHERE seq IN (SELECT seq FROM archive WHERE ${a} ORDER BY seq${lim}) RETURNING ${ARCHIVE_COLUMNS}`;
  return { text, values: p.values };
}

/** Sort + trim + flip shared by both adapters once the page rows are fetched. */
export function finishPage<R>(rows: R[], q: ArchiveQuery): { rows: R[]; complete: boolean } {
  let complete = true;
  if (q.limit !== undefined && rows.length > q.limit) { complete = false; rows = rows.slice(0, q.limit); }
  if (q.reverse) rows = rows.slice().reverse();
  return { rows, complete };
}
