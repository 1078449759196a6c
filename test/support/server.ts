// Starts a real Magpie server for end-to-end tests: loopback only, ephemeral ports, a fresh
// SQLite database and certificate in a temporary directory, logs silent unless
// MAGPIE_TEST_LOG=debug|info is set.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MagpieServer } from '@magpie/server/server';
import { validateConfig } from '@magpie/server/config/load';
import { createLogger } from '@magpie/server/log/logger';
import type { Config } from '@magpie/server/config/schema';
import type { MagpieModule } from '@magpie/server/modules/module';
import { clusterMode, clusterOverrides } from './cluster-mode.js';

export interface TestServer {
  server: MagpieServer;
  domain: string;
  port: number;
  tlsPort: number;
  /** XMPP over WebSocket URLs (RFC 7395). */
  wsUrl: string;
  wssUrl: string;
  dir: string;
  addUser(user: string, password: string, domain?: string): Promise<void>;
  /** Stop; keepData leaves the directory for a restart with { dir }. */
  stop(keepData?: boolean): Promise<void>;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> | T[K] : T[K] };

export async function startTestServer(overrides: DeepPartial<Config> & Record<string, unknown> = {}, opts: { modules?: MagpieModule[]; dir?: string } = {}): Promise<TestServer> {
  // Reusing `dir` restarts a server on the same data (durability tests).
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'magpie-test-'));
  const raw = {
    hosts: [{ domain: 'localhost' }],
    listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0 }, { type: 'c2s-tls', address: '127.0.0.1', port: 0 },
      { type: 'http', address: '127.0.0.1', port: 0 }, { type: 'https', address: '127.0.0.1', port: 0 }],
    dataDir: dir,
    log: { level: (process.env.MAGPIE_TEST_LOG ?? 'silent') },
    ...overrides,
  };
  // MAGPIE_TEST_CLUSTER=1: a one-node cluster on PostgreSQL and Redis (cluster-mode.ts), unless
  // the test chose its storage or cluster settings itself.
  const cluster = clusterMode() && !('storage' in overrides) && !('cluster' in overrides) ? await clusterOverrides(dir) : undefined;
  if (cluster) Object.assign(raw, cluster.overrides);
  const config = validateConfig(raw);
  const server = new MagpieServer(config, { logger: createLogger({ ...config.log, destination: 'stderr' }), extraModules: opts.modules });
  await server.start();
  const hasListener = (t: string): boolean => config.listeners.some((l) => l.type === t);
  return {
    server, dir,
    domain: config.hosts[0]!.domain,
    port: hasListener('c2s') ? server.port('c2s') : 0,
    tlsPort: hasListener('c2s-tls') ? server.port('c2s-tls') : 0,
    wsUrl: hasListener('http') ? `ws://127.0.0.1:${server.port('http')}${config.http.websocketPath}` : '',
    wssUrl: hasListener('https') ? `wss://127.0.0.1:${server.port('https')}${config.http.websocketPath}` : '',
    addUser: (user, password, domain) => server.accounts.create(domain ?? config.hosts[0]!.domain, user, password),
    stop: async (keepData = false) => { await server.stop(); if (!keepData) { rmSync(dir, { recursive: true, force: true }); await cluster?.cleanup(); } },
  };
}

/** Fail instead of skipping under CI (a skip there hides a missing install step). */
export function skipOrFail(t: { skip(msg: string): void }, why: string): void {
  if (process.env.CI === 'true') throw new Error(`required peer missing under CI: ${why}`);
  t.skip(why);
}
