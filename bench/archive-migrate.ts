// Benchmark: how long the SQLite schema v3 migration (integer archive key, rebuild of the
// archive table) takes on a v2 database of <rows> archive rows spread over <archives> archives
// (bench/RESULTS.md, "Integer archive key"). The v2 database is written with v2's own SQL.
// Run: node --conditions=magpie-src --import tsx bench/archive-migrate.ts [rows] [archives]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrations } from '../packages/server/src/storage/sqlite/migrations.js';
import { SqliteStorage } from '../packages/server/src/storage/sqlite/sqlite.js';

const rows = Number(process.argv[2] ?? 1_000_000), archives = Number(process.argv[3] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'magpie-bench-migrate-'));
const path = join(dir, 'v2.sqlite');
try {
  const db = new Database(path);
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE magpie_schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  for (const m of migrations.slice(0, 2)) {
    db.exec(m.up);
    db.prepare('INSERT INTO magpie_schema_version (version, applied_at) VALUES (?, ?)').run(m.version, Date.now());
  }
  const ins = db.prepare('INSERT INTO archive (host, username, store, id, when_ms, with_jid, payload, meta, with_resource) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const t0 = Date.now();
  for (let b = 0; b < rows; b += 10_000) {
    db.transaction(() => {
      for (let i = b; i < Math.min(rows, b + 10_000); i++) {
        const u = `user${i % archives}`, p = `user${(i * 7) % archives}@localhost`;
        ins.run('localhost', u, 'mam', `id${i.toString(36)}abcdefghijklmnop`, 1_700_000_000_000 + i * 1000, p,
          `<message xmlns="jabber:client" from="${p}/r" to="${u}@localhost" type="chat" id="m${i}"><body>message number ${i} with a little text</body></message>`,
          '{"dir":"in","type":"chat"}', i % 2 ? 'r' : '');
      }
    })();
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  const before = statSync(path).size;
  process.stderr.write(`v2 database: ${rows} rows over ${archives} archives, ${(before / 2 ** 20).toFixed(0)} MiB, written in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  const s = new SqliteStorage(path);
  const t1 = performance.now();
  await s.migrate();
  const ms = performance.now() - t1;
  s.database.pragma('wal_checkpoint(TRUNCATE)');
  const n = (s.database.prepare('SELECT count(*) AS n FROM archive').get() as { n: number }).n;
  await s.close();
  console.log(JSON.stringify({ rows, archives, migrateSeconds: +(ms / 1000).toFixed(2), rowsAfter: n, mibBefore: +(before / 2 ** 20).toFixed(0), mibAfter: +(statSync(path).size / 2 ** 20).toFixed(0) }));
} finally { rmSync(dir, { recursive: true, force: true }); }
