// PostgreSQL schema, as an append-only list of versioned steps: never edit a released step,
// add a new one with the next version. ./postgres.ts applies the missing ones in one
// transaction under pg_advisory_xact_lock, so concurrent starts of several servers are safe.
//
// Every key column is COLLATE "C": comparisons and ORDER BY are then plain code-point order,
// case-sensitive and identical to SQLite's BINARY, whatever the database's default collation.
// JSON columns are `json`, not `jsonb`: json keeps the exact text (key order, duplicate keys,
// number spelling) so values round-trip exactly; we never query inside them. Tables are created
// unqualified, i.e. in the first schema of the connection's search_path (the `schema` option).
// The index set is explained in ../archive-sql.ts.

import type { Migration } from '../common.js';

export const migrations: Migration[] = [
  {
    version: 1,
    up: `
      CREATE TABLE accounts (
        host text COLLATE "C" NOT NULL,
        username text COLLATE "C" NOT NULL,
        credentials json NOT NULL,
        created_at bigint NOT NULL,
        PRIMARY KEY (host, username)
      );
      CREATE TABLE kv (
        host text COLLATE "C" NOT NULL,
        username text COLLATE "C" NOT NULL,
        store text COLLATE "C" NOT NULL,
        value json NOT NULL,
        PRIMARY KEY (host, username, store)
      );
      CREATE TABLE map (
        host text COLLATE "C" NOT NULL,
        username text COLLATE "C" NOT NULL,
        store text COLLATE "C" NOT NULL,
        key text COLLATE "C" NOT NULL,
        value json NOT NULL,
        PRIMARY KEY (host, username, store, key)
      );
      CREATE TABLE archive (
        seq bigserial PRIMARY KEY,
        host text COLLATE "C" NOT NULL,
        username text COLLATE "C" NOT NULL,
        store text COLLATE "C" NOT NULL,
        id text COLLATE "C" NOT NULL,
        when_ms bigint NOT NULL,
        with_jid text COLLATE "C" NOT NULL,
        payload text NOT NULL,
        meta json,
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
      ALTER TABLE archive ADD COLUMN with_resource text COLLATE "C" NOT NULL DEFAULT '';
      CREATE INDEX archive_store_when ON archive (store, when_ms);
    `,
  },
];
