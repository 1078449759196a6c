// MAGPIE_TEST_CLUSTER=1 runs the end-to-end scenarios with every test server as a one-node
// cluster (issue #8): PostgreSQL storage in a schema named after the server's data directory
// (a restart on the same directory finds its data again) and the Redis session registry under
// a key prefix of its own. Both are removed when the server stops without keepData.
import { basename } from 'node:path';
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pgTestUrl } from './postgres.js';

export const clusterMode = (): boolean => process.env.MAGPIE_TEST_CLUSTER === '1';

export async function clusterOverrides(dir: string): Promise<{ overrides: Record<string, unknown>; cleanup(): Promise<void> }> {
  const url = await pgTestUrl();
  if (!url) throw new Error('MAGPIE_TEST_CLUSTER=1 needs the test PostgreSQL');
  const id = createHash('sha256').update(basename(dir)).digest('hex').slice(0, 12);
  const schema = `tc_${id}`;
  const prefix = `magpie-tc-${id}`;
  return {
    overrides: {
      storage: { type: 'postgres', url, schema, poolSize: 4 },
      cluster: { enabled: true, keyPrefix: prefix, nodeName: `n-${id}`, heartbeatSeconds: 1, deadAfterSeconds: 5 },
    },
    async cleanup() {
      const r = new Redis({ maxRetriesPerRequest: 1 });
      r.on('error', () => {});
      try {
        const keys = await r.keys(`${prefix}:*`);
        if (keys.length) await r.del(...keys);
      } catch { /* nothing to clean */ } finally { r.disconnect(); }
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try { await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`); } finally { await c.end(); }
    },
  };
}
