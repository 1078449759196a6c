// Per-account locks shared by every process on one PostgreSQL database (Storage.withAccountLock;
// issue #8: the roster, offline and similar read-modify-write sequences of one account must not
// interleave between cluster nodes). A lock is a transaction-level advisory lock
// (pg_advisory_xact_lock) held on a connection of a SEPARATE small pool while `fn` runs on the
// main pool:
// - separate, because `fn` needs main-pool connections for its own queries: if lock holders and
//   waiters sat in the main pool, a few of them could take every connection and wait for one
//   forever;
// - an in-process queue per key in front, so one process holds at most one lock connection per
//   key, and lock connections are only spent on waits between processes;
// - transaction-level, so a crashed process or a dropped connection releases the lock at once
//   (the server ends the transaction), and COMMIT releases it without a separate unlock;
// - `SET LOCAL lock_timeout` bounds a wait (a holder stuck on another node): the caller gets a
//   StorageError instead of waiting forever.
// The key is a 64-bit hash of (schema, scope, host, user); a collision only serialises two
// unrelated accounts.

import { createHash } from 'node:crypto';
import type pg from 'pg';
import { KeyedLock } from '../../util/keyed-lock.js';
import type { PgConnection } from './pg-pool.js';

export interface AccountLockOptions { schema?: string | undefined; timeoutMs: number }

export class PgAccountLocks {
  private readonly local = new KeyedLock();

  constructor(private readonly conn: () => PgConnection, private readonly opts: AccountLockOptions) {}

  run<T>(host: string, user: string, scope: string, fn: () => Promise<T>): Promise<T> {
    const name = `${this.opts.schema ?? ''}\u0001${scope}\u0001${host}\u0001${user}`;
    return this.local.run(name, () => this.hold(name, fn));
  }

  private async hold<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const conn = this.conn();
    const what = 'account lock';
    let client: pg.PoolClient;
    try { client = await conn.pool.connect(); } catch (err) { throw conn.error(what, err); }
    let broken: Error | undefined;
    const onError = (err: Error): void => { broken = err; };
    client.on('error', onError);
    try {
      // One round trip: the key and timeout are numbers computed here, never user text.
      try {
        await client.query(`BEGIN; SET LOCAL lock_timeout = ${Math.round(this.opts.timeoutMs)}; SELECT pg_advisory_xact_lock(${lockKey(name)})`);
      } catch (err) {
        await client.query('ROLLBACK').catch((e: unknown) => { broken ??= e as Error; });
        throw conn.error(what, err);
      }
      try {
        return await fn();
      } finally {
        // Releases the lock. If it fails the connection is destroyed, which releases it too.
        await client.query('COMMIT').catch((e: unknown) => { broken ??= e as Error; });
      }
    } finally {
      client.removeListener('error', onError);
      client.release(broken);
    }
  }
}

/** A signed 64-bit key (the bigint form of pg_advisory_xact_lock) from the lock's name. */
export function lockKey(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest().readBigInt64BE(0).toString();
}
