// Pieces both adapters share, so that the two stay semantically identical: id generation,
// JSON encoding, argument checks, the migration list shape and the logger callback type.
// Anything dialect-specific (SQL text, driver errors) stays in ./sqlite and ./postgres; the
// archive query logic, the subtle part, lives in ./archive-sql.ts for the same reason.

import { randomBytes } from 'node:crypto';
import { StorageError, type ArchiveItem, type ArchiveQuery, type Json } from './storage.js';

export type StorageLogLevel = 'debug' | 'info' | 'warn' | 'error';
/** Optional sink for things that happen outside any call (pool errors, migrations applied). */
export type StorageLog = (level: StorageLogLevel, msg: string, obj?: Record<string, unknown>) => void;

export interface OpenOptions { log?: StorageLog }

/** One schema step. `up` may hold several statements; it runs inside the migration transaction. */
export interface Migration { version: number; up: string }

/** Versions must be 1, 2, 3, ...: a gap or a reordering is a programming error caught at open. */
export function checkMigrations(list: readonly Migration[]): number {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration #${i} has version ${m.version}, expected ${i + 1}`);
  });
  return list.length;
}

/** A fresh archive id: 16 random bytes, base64url (22 chars) — unguessable, URL- and XML-safe (XEP-0359). */
export function newId(): string {
  // Drawn from a pool of CSPRNG bytes refilled 4 KiB at a time: one randomBytes call per 256 ids
  // instead of one per id (the per-call overhead was ~6% of a message's CPU with the archive on).
  if (idOffset + 16 > idPool.length) { idPool = randomBytes(4096); idOffset = 0; }
  const id = idPool.toString('base64url', idOffset, idOffset + 16);
  idOffset += 16;
  return id;
}
let idPool = Buffer.alloc(0);
let idOffset = 0;

/**
 * JSON.stringify, refusing what would not round-trip: `undefined`/functions at the top level
 * (stringify returns undefined) and cycles or BigInt (stringify throws).
 */
export function encodeJson(value: Json): string {
  let text: string | undefined;
  try { text = JSON.stringify(value); } catch (err) {
    throw new StorageError(`value is not JSON-serialisable: ${(err as Error).message}`, err, 'invalid');
  }
  if (text === undefined) throw new StorageError('value is not JSON-serialisable', undefined, 'invalid');
  return text;
}

export function decodeJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** Keys are exact strings; a non-string would be coerced differently by each driver. */
export function checkKey(...parts: unknown[]): void {
  for (const p of parts) {
    if (typeof p !== 'string') throw new StorageError(`storage key must be a string, got ${typeof p}`, undefined, 'invalid');
  }
}

function checkMs(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new StorageError(`${name} must be a finite number of ms`, undefined, 'invalid');
}

export function checkQuery(q: ArchiveQuery): void {
  if (q.start !== undefined) checkMs('start', q.start);
  if (q.end !== undefined) checkMs('end', q.end);
  if (q.limit !== undefined && !(Number.isInteger(q.limit) && q.limit >= 0)) {
    throw new StorageError('limit must be a non-negative integer', undefined, 'invalid');
  }
  if (q.countUpTo !== undefined && !(Number.isInteger(q.countUpTo) && q.countUpTo >= 0)) {
    throw new StorageError('countUpTo must be a non-negative integer', undefined, 'invalid');
  }
  if (q.ids !== undefined && !q.ids.every((id) => typeof id === 'string')) {
    throw new StorageError('ids must be strings', undefined, 'invalid');
  }
}

/** Validates an item to append and fills in the id; `when` must be an integer (stored as bigint). */
export function prepareItem(item: Omit<ArchiveItem, 'id'> & { id?: string }): ArchiveItem & { metaText: string | null } {
  if (!Number.isSafeInteger(item.when)) throw new StorageError('archive item `when` must be an integer ms timestamp', undefined, 'invalid');
  if (typeof item.with !== 'string' || typeof item.payload !== 'string') {
    throw new StorageError('archive item `with` and `payload` must be strings', undefined, 'invalid');
  }
  if (item.id !== undefined && (typeof item.id !== 'string' || item.id === '')) {
    throw new StorageError('archive item id must be a non-empty string', undefined, 'invalid');
  }
  const id = item.id ?? newId();
  // meta absent ⇒ SQL NULL, so that an item read back has no `meta` key at all (exact round-trip).
  const metaText = item.meta === undefined ? null : encodeJson(item.meta);
  if (item.withResource !== undefined && typeof item.withResource !== 'string') {
    throw new StorageError('archive item `withResource` must be a string', undefined, 'invalid');
  }
  const out: ArchiveItem & { metaText: string | null } = { id, when: item.when, with: item.with, payload: item.payload, metaText };
  // '' is the column's "no resource": an empty resource is not a JID resource anyway (RFC 7622 §3.4).
  if (item.withResource) out.withResource = item.withResource;
  return out;
}

/** A row as both adapters select it (`seq, id, when_ms, with_jid, payload, meta, with_resource`). */
export interface ArchiveRow { seq: number; id: string; when_ms: number; with_jid: string; payload: string; meta: string | null; with_resource: string }

export function rowToItem(r: ArchiveRow): ArchiveItem {
  const item: ArchiveItem = { id: r.id, when: Number(r.when_ms), with: r.with_jid, payload: r.payload };
  if (r.meta !== null) item.meta = decodeJson<Json>(r.meta);
  if (r.with_resource) item.withResource = r.with_resource;
  return item;
}

/** Re-throws StorageErrors untouched and wraps anything else with context. */
export function wrap(what: string, err: unknown, code?: string): StorageError {
  if (err instanceof StorageError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new StorageError(`${what}: ${msg}`, err, code);
}

export function closedError(kind: string): StorageError {
  return new StorageError(`${kind} storage is closed`, undefined, 'closed');
}
