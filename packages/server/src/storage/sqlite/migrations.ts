// SQLite schema, as an append-only list of versioned steps: never edit a released step, add a
// new one (ALTER TABLE, new index...) with the next version. ./sqlite.ts applies the missing
// ones in one IMMEDIATE transaction and records each in magpie_schema_version.
//
// Column types: TEXT compares with BINARY collation, i.e. case-sensitive exact strings, as the
// contract requires. JSON is stored as TEXT written by JSON.stringify, so it round-trips
// byte for byte. `seq` is the rowid (INTEGER PRIMARY KEY) so every index carries it for free;
// AUTOINCREMENT keeps it from ever being reused after the newest row is deleted, so a stale
// position can never point at a newer item. The index set is explained in ../archive-sql.ts.

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
];
