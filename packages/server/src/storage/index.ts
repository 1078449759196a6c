// Entry point of the storage layer: pick the adapter from the config, open it, bring the schema
// up to date, hand back a ready Storage.
//
// Adapters are imported lazily so that a PostgreSQL deployment never loads the native SQLite
// module (and vice versa). If migrating fails the half-open storage is closed before the error
// propagates, so a failed start leaves no pool holding the process alive.

import type { Storage, StorageConfig } from './storage.js';
import type { OpenOptions } from './common.js';

export { StorageError } from './storage.js';
export type * from './storage.js';
export type { OpenOptions, StorageLog, StorageLogLevel } from './common.js';

export async function openStorage(config: StorageConfig, opts: OpenOptions = {}): Promise<Storage> {
  let storage: Storage;
  if (config.type === 'sqlite') {
    const { openSqlite } = await import('./sqlite/sqlite.js');
    const { path, type: _, ...options } = config;
    storage = await openSqlite(path, opts.log, options);
  } else if (config.type === 'postgres') {
    const { PostgresStorage } = await import('./postgres/postgres.js');
    storage = new PostgresStorage({ ...config, ...(opts.log ? { log: opts.log } : {}) });
  } else {
    throw new Error(`unknown storage type ${(config as { type: unknown }).type}`);
  }
  try {
    await storage.migrate();
  } catch (err) {
    await storage.close().catch(() => undefined);
    throw err;
  }
  opts.log?.('debug', 'storage ready', { kind: storage.kind, schemaVersion: await storage.schemaVersion() });
  return storage;
}
