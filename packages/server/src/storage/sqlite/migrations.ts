// SQLite schema, as an append-only list of versioned steps: never edit a released step, add a
// new one (ALTER TABLE, new index...) with the next version. ./sqlite.ts applies the missing
// ones in one IMMEDIATE transaction and records each in magpie_schema_version.
//
// Column types: TEXT compares with BINARY collation, i.e. case-sensitive exact strings, as the
// contract requires. JSON is stored as TEXT written by JSON.stringify, so it round-trips
// byte for byte. `seq` is the rowid (INTEGER PRIMARY KEY) so every index carries it for free;
// AUTOINCREMENT keeps it from ever being reused after the newest row is deleted, so a stale
// position can never point at a newer item. The index set is explained in ../archive-sql.ts.
//
// Since v3 archive rows are keyed by an integer archive id (`archives`), not by three text
// columns: every archive index starts with that key, and text prefixes made each append's six
// index updates the main cost of archiving a message (bench/RESULTS.md, "Integer archive key").

import type { Migration } from '../common.js';

export const migrations: Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE accounts (
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        credentials TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (host, username)
      );
      CREATE TABLE kv (
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        store TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (host, username, store)
      );
      CREATE TABLE map (
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        store TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (host, username, store, key)
      );
      CREATE TABLE archive (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        store TEXT NOT NULL,
        id TEXT NOT NULL,
        when_ms INTEGER NOT NULL,
        with_jid TEXT NOT NULL,
        payload TEXT NOT NULL,
        meta TEXT,
        UNIQUE (host, username, store, id)
      );
      CREATE INDEX archive_seq ON archive (host, username, store, seq);
      CREATE INDEX archive_with_seq ON archive (host, username, store, with_jid, seq);
      CREATE INDEX archive_when ON archive (host, username, store, when_ms, seq);
      CREATE INDEX archive_with_when ON archive (host, username, store, with_jid, when_ms, seq);
    `,
  },
  {
    // Message archiving (XEP-0313): the peer's resource for full-JID `with` filters, and
    // (store, when_ms) for retention purges across all users.
    version: 2,
    up: `
      ALTER TABLE archive ADD COLUMN with_resource TEXT NOT NULL DEFAULT '';
      CREATE INDEX archive_store_when ON archive (store, when_ms);
    `,
  },
  {
    // The integer archive key. The archive table is rebuilt (SQLite cannot change a table's key
    // columns in place) with the same seq values, and its AUTOINCREMENT high-water mark carried
    // over, so ids, positions and "never reuse a seq" survive. `archives` is AUTOINCREMENT too:
    // a key is cached by the adapter, and a deleted archive's key must never name another one.
    // The FOREIGN KEY makes an append through a key deleted meanwhile (`magpie deluser` run in
    // another process) fail instead of writing rows no archive owns; the adapter then looks the
    // key up again. (store, when_ms) is gone: retention walks the store's archives in `archives`
    // and each one's (archive, when_ms, seq) index.
    version: 3,
    up: `
      CREATE TABLE archives (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        host TEXT NOT NULL,
        username TEXT NOT NULL,
        store TEXT NOT NULL,
        UNIQUE (host, username, store)
      );
      INSERT INTO archives (host, username, store)
        SELECT DISTINCT host, username, store FROM archive ORDER BY host, username, store;
      CREATE TABLE archive_v3 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        archive INTEGER NOT NULL REFERENCES archives (id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        when_ms INTEGER NOT NULL,
        with_jid TEXT NOT NULL,
        with_resource TEXT NOT NULL DEFAULT '',
        payload TEXT NOT NULL,
        meta TEXT,
        UNIQUE (archive, id)
      );
      INSERT INTO archive_v3 (seq, archive, id, when_ms, with_jid, with_resource, payload, meta)
        SELECT a.seq, k.id, a.id, a.when_ms, a.with_jid, a.with_resource, a.payload, a.meta
        FROM archive AS a JOIN archives AS k ON k.host = a.host AND k.username = a.username AND k.store = a.store
        ORDER BY a.seq;
      DELETE FROM sqlite_sequence WHERE name = 'archive_v3';
      INSERT INTO sqlite_sequence (name, seq) SELECT 'archive_v3', seq FROM sqlite_sequence WHERE name = 'archive';
      DROP TABLE archive;
      ALTER TABLE archive_v3 RENAME TO archive;
      CREATE INDEX archive_seq ON archive (archive, seq);
      CREATE INDEX archive_with_seq ON archive (archive, with_jid, seq);
      CREATE INDEX archive_when ON archive (archive, when_ms, seq);
      CREATE INDEX archive_with_when ON archive (archive, with_jid, when_ms, seq);
    `,
  },
];
