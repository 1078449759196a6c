// Runs the storage contract on SQLite — a temp file (shared between the instances a test
// opens, like two processes) and :memory: (private per instance) — plus SQLite specifics:
// pragmas, parent directory creation, and query plans proving the archive indexes are used.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storageContract } from '../contract.js';
import { openStorage } from '../index.js';
import { pageSql } from '../archive-sql.js';
import { StorageError } from '../storage.js';
import { SqliteStorage } from './sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'magpie-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A nested path that does not exist yet: opening must create the parent directories.
const file = join(dir, 'data', 'nested', 'magpie.sqlite');
storageContract('sqlite (file)', () => openStorage({ type: 'sqlite', path: file }));
storageContract('sqlite (:memory:)', () => openStorage({ type: 'sqlite', path: ':memory:' }));

describe('sqlite specifics', () => {
  it('group-commits appends of one turn: order kept, each promise its own outcome, later operations see them', async () => {
    const s = await openStorage({ type: 'sqlite', path: join(dir, 'group.sqlite') }) as SqliteStorage;
    try {
      const item = (i: number, id?: string) => ({ id, when: 1000 + i, with: 'b@x', payload: `<m>${i}</m>` });
      // Not awaited one by one: they share a transaction.
      const ps = [s.archive.append('x', 'a', 'st', item(0, 'dup')), s.archive.append('x', 'a', 'st', item(1)),
        s.archive.append('x', 'a', 'st', item(2, 'dup')), s.archive.append('x', 'a', 'st', item(3))];
      // An operation issued before the commit still sees every append queued before it.
      assert.equal(await s.archive.count('x', 'a', 'st'), 3, 'the duplicate id alone is refused');
      const outcomes = await Promise.allSettled(ps);
      assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
      assert.equal(((outcomes[2] as PromiseRejectedResult).reason as StorageError).code, 'conflict');
      const page = await s.archive.query('x', 'a', 'st', {});
      assert.deepEqual(page.items.map((i) => i.payload), ['<m>0</m>', '<m>1</m>', '<m>3</m>'], 'append order');
      const pending = s.archive.append('x', 'a', 'st', item(9));
      await s.close();
      assert.ok(await pending, 'close() commits what is queued');
    } finally { await s.close(); }
  });

  it('creates the parent directory and uses WAL, synchronous=NORMAL, busy_timeout, foreign keys', async () => {
    const path = join(dir, 'fresh', 'sub', 'db.sqlite');
    const s = await openStorage({ type: 'sqlite', path }) as SqliteStorage;
    try {
      assert.ok(existsSync(path));
      assert.equal(s.database.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(s.database.pragma('synchronous', { simple: true }), 1); // NORMAL
      assert.ok(Number(s.database.pragma('busy_timeout', { simple: true })) >= 1000);
      assert.equal(s.database.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(await s.schemaVersion(), 2);
    } finally { await s.close(); }
  });

  it('an unopenable path is a StorageError, not a crash', async () => {
    const blocker = join(dir, 'blocker');
    await (await openStorage({ type: 'sqlite', path: blocker })).close();
    // `blocker` is a file, so it cannot be a directory holding another database.
    await assert.rejects(openStorage({ type: 'sqlite', path: join(blocker, 'x.sqlite') }), (e: unknown) =>
      e instanceof StorageError && e.code === 'unavailable' && e.message.includes('x.sqlite'));
  });

  it('archive queries are driven by the indexes, with no sort step', async () => {
    const s = await openStorage({ type: 'sqlite', path: ':memory:' }) as SqliteStorage;
    try {
      for (let i = 0; i < 200; i++) await s.archive.append('h', 'u', 'mam', { when: i, with: `p${i % 7}`, payload: '' });
      // No ANALYZE: production databases have no statistics either (see ./sqlite.ts).
      const plan = (q: Parameters<typeof pageSql>[4], beforeSeq?: number): string => {
        const b = pageSql('sqlite', 'h', 'u', 'mam', q, undefined, beforeSeq);
        return (s.database.prepare(`EXPLAIN QUERY PLAN ${b.text}`).all(...b.values) as { detail: string }[]).map((r) => r.detail).join(' | ');
      };
      // "Last 50 messages with X" — the MAM query every client sends on opening a chat.
      for (const [q, beforeSeq] of [[{ with: 'p3', limit: 50 }], [{ with: 'p3', limit: 50, reverse: true }], [{ with: 'p3', limit: 50, reverse: true }, 150]] as const) {
        const p = plan(q, beforeSeq);
        assert.match(p, /archive_with_seq/, p);
        assert.doesNotMatch(p, /TEMP B-TREE/, p);
      }
      const p = plan({ limit: 50, reverse: true });
      assert.match(p, /archive_seq/, p);
      assert.doesNotMatch(p, /TEMP B-TREE/, p);
      // A peer and a window: the index on both. Without it (tried for write cost) SQLite walks
      // the whole window checking the peer on each row: 0.6 ms → 145 ms for "with X since
      // mid-year" at 1,000,000 rows (bench/mam.ts; bench/RESULTS.md, "Archive write cost").
      for (const q of [{ with: 'p3', start: 50, end: 80, limit: 50 }, { with: 'p3', start: 50, limit: 50 }]) {
        const pw = plan(q);
        assert.match(pw, /INDEX archive_with_when /, pw);
      }
    } finally { await s.close(); }
  });

  it('appendRows writes each archive\'s rows together, in their order', async () => {
    const s = await openStorage({ type: 'sqlite', path: ':memory:' }) as SqliteStorage;
    try {
      const row = (user: string, n: number) => ({ host: 'h', user, store: 'mam', item: { id: `${user}${n}`, when: n, with: 'p', payload: `${n}` } });
      await s.archive.appendRows([row('b', 1), row('a', 2), row('b', 3), row('a', 4), row('b', 5)]);
      const seqs = s.database.prepare('SELECT id FROM archive ORDER BY seq').all() as { id: string }[];
      assert.deepEqual(seqs.map((r) => r.id), ['a2', 'a4', 'b1', 'b3', 'b5']);
      assert.deepEqual((await s.archive.query('h', 'b', 'mam', {})).items.map((i) => i.id), ['b1', 'b3', 'b5']);
    } finally { await s.close(); }
  });
});
