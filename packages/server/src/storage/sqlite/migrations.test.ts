// Schema v3 (integer archive key, ./migrations.ts): a database left at v2 with archive rows is
// migrated in place, and every archive operation then answers exactly what a database built
// at v3 from the same appends answers — items, positions, counts, paging, retention, take.

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { ArchiveItem, ArchiveQuery } from '../storage.js';
import { migrations } from './migrations.js';
import { SqliteStorage } from './sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'magpie-sqlite-mig-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Row { host: string; user: string; store: string; item: ArchiveItem }

/** Appends in an interleaved order over several archives, with every optional field. */
function rows(): Row[] {
  const out: Row[] = [];
  const owners = [['a.example', 'alice', 'mam'], ['a.example', 'bob', 'mam'], ['a.example', 'alice', 'offline'], ['b.example', 'alice', 'mam'], ['a.example', 'room@muc', 'muc']] as const;
  for (let i = 0; i < 300; i++) {
    const [host, user, store] = owners[(i * 7) % owners.length]!;
    const item: ArchiveItem = { id: `id${i}`, when: 1_000 + i * 10, with: `peer${i % 4}@x`, payload: `<m n='${i}'/>` };
    if (i % 3 === 0) item.withResource = `r${i % 2}`;
    if (i % 2 === 0) item.meta = { dir: i % 4 ? 'in' : 'out', n: i };
    out.push({ host, user, store, item });
  }
  return out;
}

/** Writes a v2 database the way Magpie before v3 did (its SQL, not today's adapter). */
function writeV2(path: string, data: Row[], deleteNewest: number): void {
  const db = new Database(path);
  db.exec('CREATE TABLE magpie_schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  for (const m of migrations.slice(0, 2)) {
    db.exec(m.up);
    db.prepare('INSERT INTO magpie_schema_version (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
  }
  const ins = db.prepare('INSERT INTO archive (host, username, store, id, when_ms, with_jid, payload, meta, with_resource) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  db.transaction(() => {
    for (const { host, user, store, item: it } of data) {
      ins.run(host, user, store, it.id, it.when, it.with, it.payload, it.meta === undefined ? null : JSON.stringify(it.meta), it.withResource ?? '');
    }
  })();
  // The newest rows deleted: their seqs must still never be handed out again.
  db.prepare('DELETE FROM archive WHERE seq > (SELECT max(seq) FROM archive) - ?').run(deleteNewest);
  db.close();
}

describe('sqlite migration to the integer archive key (v3)', () => {
  it('keeps every row, seq and the seq high-water mark; every query answers as on a fresh v3 database', async () => {
    const data = rows();
    const oldPath = join(dir, 'v2.sqlite');
    writeV2(oldPath, data, 5);
    const before = new Database(oldPath);
    const oldRows = before.prepare('SELECT seq, host, username, store, id, when_ms, with_jid, with_resource, payload, meta FROM archive ORDER BY seq').all();
    before.close();

    const migrated = new SqliteStorage(oldPath);
    const fresh = new SqliteStorage(join(dir, 'fresh.sqlite'));
    try {
      await migrated.migrate();
      await fresh.migrate();
      assert.equal(await migrated.schemaVersion(), 3);
      await fresh.archive.appendRows(data.slice(0, -5).map((r) => ({ ...r })));

      const newRows = migrated.database.prepare(`SELECT a.seq, k.host, k.username, k.store, a.id, a.when_ms, a.with_jid, a.with_resource, a.payload, a.meta
        FROM archive a JOIN archives k ON k.id = a.archive ORDER BY a.seq`).all();
      assert.deepEqual(newRows, oldRows, 'rows and their seqs unchanged');
      const indexes = (migrated.database.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'archive' AND sql IS NOT NULL ORDER BY name").all() as { name: string }[]).map((r) => r.name);
      assert.deepEqual(indexes, ['archive_seq', 'archive_when', 'archive_with_seq', 'archive_with_when']);
      assert.deepEqual(migrated.database.pragma('foreign_key_check'), []);
      assert.equal(migrated.database.pragma('integrity_check', { simple: true }), 'ok');

      const owners = [...new Set(data.map((r) => `${r.host} ${r.user} ${r.store}`))].map((k) => k.split(' ') as [string, string, string]);
      const queries = (ids: string[]): ArchiveQuery[] => [
        {}, { limit: 5 }, { limit: 5, reverse: true }, { with: 'peer1@x' }, { with: 'peer2@x', withResource: 'r0' },
        { start: 1_500, end: 2_500 }, { with: 'peer3@x', start: 1_200, limit: 4 }, { start: 2_000, limit: 3, reverse: true },
        { ids: ids.slice(1, 4) }, { after: ids[2]!, limit: 4 }, { before: ids.at(-2)!, limit: 3, reverse: true }, { limit: 2, countUpTo: 3 },
      ];
      for (const [h, u, st] of owners) {
        const all = (await fresh.archive.query(h, u, st, {})).items.map((i) => i.id);
        for (const q of queries(all)) {
          assert.deepEqual(await migrated.archive.query(h, u, st, q), await fresh.archive.query(h, u, st, q), `${h} ${u} ${st} ${JSON.stringify(q)}`);
        }
        assert.equal(await migrated.archive.count(h, u, st), await fresh.archive.count(h, u, st));
      }
      // Writes after the migration: the high-water mark survived (the deleted newest seqs are
      // not reused), ids stay unique per archive, and new archives get new keys.
      const maxOld = Math.max(...(oldRows as { seq: number }[]).map((r) => r.seq));
      await migrated.archive.append('a.example', 'alice', 'mam', { id: 'new', when: 9_999, with: 'p', payload: 'n' });
      await assert.rejects(migrated.archive.append('a.example', 'alice', 'mam', { id: 'id0', when: 9_999, with: 'p', payload: 'n' }), { code: 'conflict' });
      await migrated.archive.append('c.example', 'carol', 'mam', { id: 'c', when: 9_999, with: 'p', payload: 'n' });
      const seqOf = (id: string) => (migrated.database.prepare('SELECT seq FROM archive WHERE id = ?').get(id) as { seq: number }).seq;
      assert.ok(seqOf('new') > maxOld + 5, `seq ${seqOf('new')} after the old high-water mark ${maxOld + 5}`);
      await fresh.archive.append('a.example', 'alice', 'mam', { id: 'new', when: 9_999, with: 'p', payload: 'n' });
      await fresh.archive.append('c.example', 'carol', 'mam', { id: 'c', when: 9_999, with: 'p', payload: 'n' });
      // Retention, deletion and take behave the same on both.
      for (const s of [migrated, fresh]) {
        assert.equal(await s.archive.purge('mam', 1_800, 1_000), data.filter((r) => r.store === 'mam' && r.item.when <= 1_800).length);
        assert.equal(await s.archive.delete('a.example', 'bob', 'mam', { with: 'peer1@x' }) >= 0, true);
      }
      for (const [h, u, st] of owners) assert.deepEqual(await migrated.archive.query(h, u, st, {}), await fresh.archive.query(h, u, st, {}));
      assert.deepEqual(await migrated.archive.take('a.example', 'alice', 'offline'), await fresh.archive.take('a.example', 'alice', 'offline'));
      assert.ok(await migrated.accounts.delete('a.example', 'alice') === false);
      assert.equal(await migrated.archive.count('a.example', 'alice', 'mam'), 0);
      assert.equal(await migrated.archive.count('b.example', 'alice', 'mam'), data.slice(0, -5).filter((r) => r.host === 'b.example' && r.item.when > 1_800).length);
    } finally { await migrated.close(); await fresh.close(); }
  });

  it('migrates an empty v2 database', async () => {
    const path = join(dir, 'empty.sqlite');
    writeV2(path, [], 0);
    const s = new SqliteStorage(path);
    try {
      await s.migrate();
      assert.equal(await s.schemaVersion(), 3);
      await s.archive.append('h', 'u', 'mam', { id: 'x', when: 1, with: 'p', payload: '' });
      assert.equal(await s.archive.count('h', 'u', 'mam'), 1);
    } finally { await s.close(); }
  });
});
