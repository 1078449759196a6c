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
      assert.equal(await s.schemaVersion(), 3);
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
  it('appendRows commits a batch over archiveWriteChunk rows chunk by chunk, in order, with event-loop turns between', async () => {
    const s = await openStorage({ type: 'sqlite', path: ':memory:', archiveWriteChunk: 3 }) as SqliteStorage;
    try {
      const row = (user: string, n: number) => ({ host: 'h', user, store: 'mam', item: { id: `${user}${n}`, when: n, with: 'p', payload: `${n}` } });
      const rowsNow = (): number => (s.database.prepare('SELECT count(*) AS n FROM archive').get() as { n: number }).n;
      // What other callbacks see while the batch is written: they must get turns mid-batch.
      const seen: number[] = [];
      let ticking = true;
      const tick = (): void => { seen.push(rowsNow()); if (ticking) setImmediate(tick); };
      setImmediate(tick);
      const batch = [...Array.from({ length: 6 }, (_, i) => row('b', i)), ...Array.from({ length: 4 }, (_, i) => row('a', i))];
      const first = s.archive.appendRows(batch);
      // Issued before the first completes: written after it, not interleaved with its chunks.
      const second = s.archive.appendRows([row('a', 10), row('b', 10)]);
      assert.equal(rowsNow(), 3, 'the first chunk is written at once');
      await first;
      ticking = false;
      assert.ok(seen.includes(6) && seen.includes(9), `turns between chunks saw partial batches: ${seen.join(',')}`);
      await second;
      const ids = (s.database.prepare('SELECT id FROM archive ORDER BY seq').all() as { id: string }[]).map((r) => r.id);
      assert.deepEqual(ids, ['a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'a10', 'b10']);
      assert.deepEqual((await s.archive.query('h', 'b', 'mam', {})).items.map((i) => i.id), ['b0', 'b1', 'b2', 'b3', 'b4', 'b5', 'b10']);
      // A failing chunk: the chunks before it stay, the ones after it are not written.
      const bad = [row('c', 0), row('c', 1), row('c', 2), row('c', 3), row('c', 0), row('c', 5), row('c', 6)];
      await assert.rejects(s.archive.appendRows(bad), (e: unknown) =>
        e instanceof StorageError && e.code === 'conflict' && /3 of 7 rows written/.test(e.message));
      assert.deepEqual((await s.archive.query('h', 'c', 'mam', {})).items.map((i) => i.id), ['c0', 'c1', 'c2']);
      // close() waits for a batch in flight.
      const last = s.archive.appendRows(Array.from({ length: 7 }, (_, i) => row('d', i)));
      await s.close();
      await last;
    } finally { await s.close(); }
  });

  it('an archive key deleted by another process is not reused: the next append takes a fresh one', async () => {
    const path = join(dir, 'keys.sqlite');
    const a = await openStorage({ type: 'sqlite', path }) as SqliteStorage;
    const b = await openStorage({ type: 'sqlite', path }) as SqliteStorage;
    try {
      await a.archive.append('h', 'u', 'mam', { id: 'one', when: 1, with: 'p', payload: '1' });
      await a.archive.append('h', 'v', 'mam', { id: 'v1', when: 1, with: 'p', payload: '1' });
      const keyOf = (user: string) => (a.database.prepare('SELECT id FROM archives WHERE host = ? AND username = ?').get('h', user) as { id: number } | undefined)?.id;
      const old = keyOf('u')!;
      assert.ok(await b.accounts.delete('h', 'u') === false); // no account row, but its data goes
      assert.equal(keyOf('u'), undefined);
      // `a` still has the old key cached: the foreign key refuses it, the append takes a new one.
      await a.archive.appendRows([{ host: 'h', user: 'u', store: 'mam', item: { id: 'two', when: 2, with: 'p', payload: '2' } }]);
      await a.archive.append('h', 'u', 'mam', { id: 'three', when: 3, with: 'p', payload: '3' });
      assert.ok(keyOf('u')! > old, 'never reused');
      assert.deepEqual((await b.archive.query('h', 'u', 'mam', {})).items.map((i) => i.id), ['two', 'three']);
      assert.deepEqual((await b.archive.query('h', 'v', 'mam', {})).items.map((i) => i.id), ['v1']);
      assert.equal((a.database.prepare('SELECT count(*) AS n FROM archive WHERE archive NOT IN (SELECT id FROM archives)').get() as { n: number }).n, 0);
    } finally { await a.close(); await b.close(); }
  });
  it('a key created in a write that rolls back is not kept: the next archive may get that integer', async () => {
    const s = await openStorage({ type: 'sqlite', path: ':memory:' }) as SqliteStorage;
    try {
      const row = (user: string, id: string) => ({ host: 'h', user, store: 'mam', item: { id, when: 1, with: 'p', payload: id } });
      await s.archive.appendRows([row('old', 'o')]);
      // x's key is created inside the batch's transaction, which the duplicate id rolls back.
      await assert.rejects(s.archive.appendRows([row('x', 'd'), row('x', 'd')]), { code: 'conflict' });
      await assert.rejects(s.archive.appendMany('h', 'x2', 'mam', [{ id: 'd', when: 1, with: 'p', payload: '' }, { id: 'd', when: 1, with: 'p', payload: '' }]), { code: 'conflict' });
      await s.archive.appendRows([row('y', 'y1')]);
      await s.archive.append('h', 'y2', 'mam', { id: 'y2', when: 1, with: 'p', payload: '' });
      await s.archive.appendRows([row('x', 'x1')]);
      await s.archive.append('h', 'x2', 'mam', { id: 'x2', when: 1, with: 'p', payload: '' });
      for (const [u, want] of [['y', ['y1']], ['y2', ['y2']], ['x', ['x1']], ['x2', ['x2']], ['old', ['o']]] as const) {
        assert.deepEqual((await s.archive.query('h', u, 'mam', {})).items.map((i) => i.id), want, u);
      }
    } finally { await s.close(); }
  });
});
