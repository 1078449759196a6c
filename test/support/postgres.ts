// Finds the PostgreSQL server the tests use (127.0.0.1:5432, database `test`, trust auth):
// MAGPIE_TEST_PG_URL when set, else user postgres, else the OS user.
import pg from 'pg';
import { userInfo } from 'node:os';

let cached: Promise<string | undefined> | undefined;
export function pgTestUrl(): Promise<string | undefined> {
  cached ??= (async () => {
    const candidates = process.env.MAGPIE_TEST_PG_URL ? [process.env.MAGPIE_TEST_PG_URL]
      : ['postgres://postgres@127.0.0.1:5432/test', `postgres://${userInfo().username}@127.0.0.1:5432/test`];
    for (const url of candidates) {
      const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
      try { await c.connect(); await c.end(); return url; } catch { await c.end().catch(() => {}); }
    }
    return undefined;
  })();
  return cached;
}
