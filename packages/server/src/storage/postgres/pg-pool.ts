// The PostgreSQL connection layer under ./postgres.ts: pool setup, error translation and the
// query/transaction helpers, kept apart from the store logic.
//
// Robustness rules, because a database outage must never take the XMPP server down:
// - the pool's 'error' event (an IDLE connection dropped: server restart, admin kill) always has
//   a listener that only logs; the pool replaces the connection on next use;
// - a client checked out for a transaction also gets an 'error' listener while out, since pg
//   emits 'error' on it when the connection drops, which would be an uncaught exception;
// - connecting times out (5 s) so an unreachable host fails fast instead of hanging a login;
// - every driver error becomes a StorageError whose message names host:port/db (never the
//   password) and whose code says 'unavailable' when the database cannot be reached.
// Search path: the `schema` option travels as a startup parameter (-c search_path=...), so every
// pooled connection, including ones opened after a reconnect, is in the right schema at once.

import pg from 'pg';
import { createHash } from 'node:crypto';
import { StorageError } from '../storage.js';
import { closedError, wrap, type StorageLog } from '../common.js';

export const SCHEMA_RE = /^[a-z_][a-z0-9_]*$/;

// Raw strings for json (so JSON.parse is ours and shared with SQLite) and numbers for int8:
// seq, when_ms and count(*) all fit in 2^53.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 114 || oid === 3802) return (v: string) => v;
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

/** host:port/db for messages: enough to diagnose, never the password. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || 'localhost'}:${u.port || '5432'}${u.pathname || '/'}`;
  } catch { return '(unparseable URL)'; }
}

export class PgConnection {
  readonly pool: pg.Pool;
  private closed = false;
  private readonly target: string;

  constructor(url: string, opts: { schema?: string; poolSize?: number; log?: StorageLog }) {
    this.target = describeUrl(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      application_name: 'magpie',
      types,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    this.pool.on('error', (err) => opts.log?.('error', 'PostgreSQL idle connection failed; it will be replaced', { target: this.target, err: err.message }));
  }

  get isClosed(): boolean { return this.closed; }

  /** Translate a driver error; `what` says which operation failed. */
  error(what: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    if (this.closed) return closedError('PostgreSQL');
    const e = err as { code?: string; message?: string };
    const msg = e.message ?? String(err);
    const sqlState = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
    if ((e.code && UNREACHABLE.has(e.code)) || /timeout exceeded when trying to connect|Connection terminated/i.test(msg)
      || sqlState?.startsWith('08') || sqlState === '57P01' || sqlState === '57P03' || sqlState?.startsWith('28') || sqlState === '3D000') {
      return new StorageError(`PostgreSQL at ${this.target} is unavailable (${what}): ${msg || e.code}`, err, 'unavailable');
    }
    if (sqlState === '23505') return wrap(`${what} (PostgreSQL)`, err, 'conflict');
    return wrap(`${what} (PostgreSQL)`, err);
  }

  /**
   * One statement on any pooled connection (or `client`). Single-statement texts are sent as
   * named prepared statements, parsed once per connection: the name is a hash of the text, so
   * distinct texts can never collide.
   */
  async query<R>(what: string, text: string, values: unknown[] = [], client?: pg.PoolClient): Promise<R[]> {
    if (this.closed) throw closedError('PostgreSQL');
    const name = values.length > 0 ? 'm' + createHash('sha1').update(text).digest('hex').slice(0, 20) : undefined;
    try {
      const r = await (client ?? this.pool).query<R & pg.QueryResultRow>(name ? { name, text, values } : { text, values });
      return r.rows;
    } catch (err) { throw this.error(what, err); }
  }

  /** Row count of a write. */
  async exec(what: string, text: string, values: unknown[] = [], client?: pg.PoolClient): Promise<number> {
    if (this.closed) throw closedError('PostgreSQL');
    try {
      const r = await (client ?? this.pool).query({ text, values });
      return r.rowCount ?? 0;
    } catch (err) { throw this.error(what, err); }
  }

  /** BEGIN … COMMIT on one connection; ROLLBACK on any failure. */
  async tx<T>(what: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.closed) throw closedError('PostgreSQL');
    let client: pg.PoolClient;
    try { client = await this.pool.connect(); } catch (err) { throw this.error(what, err); }
    let broken: Error | undefined;
    const onError = (err: Error): void => { broken = err; }; // surfaced by the failing query
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try { await client.query('ROLLBACK'); } catch (e) { broken ??= e as Error; }
      throw this.error(what, err);
    } finally {
      client.removeListener('error', onError);
      client.release(broken); // a broken connection is destroyed, not returned to the pool
    }
  }

  async end(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
