// For unit tests of the cluster code that need a real Redis (never a mock): one connection under
// a private key prefix, its keys deleted after the file's tests, and the connect step that
// skips the test on a machine without Redis but fails under CI (where scripts/test-all.sh
// installs and starts it). Imported by *.test.ts files only.
import { after, type TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export interface TestRedis {
  redis: Redis;
  prefix: string;
  /** Connect; false (the test skipped) when Redis is absent outside CI. */
  connect(t: TestContext): Promise<boolean>;
}

export function testRedis(name: string): TestRedis {
  const url = process.env.MAGPIE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `magpie-test-${name}-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  after(async () => {
    const left = await redis.keys(`${prefix}:*`).catch(() => []);
    if (left.length) await redis.del(...left);
    redis.disconnect();
  });
  return {
    redis, prefix,
    async connect(t) {
      try { await redis.connect(); return true; } catch (e) {
        if (process.env.CI === 'true') throw new Error(`Redis is required under CI: ${(e as Error).message}`);
        t.skip(`Redis not available (${url})`);
        return false;
      }
    },
  };
}
