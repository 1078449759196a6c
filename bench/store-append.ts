// Micro-benchmark of the archive store's write path on SQLite: one awaited append at a time (one
// group-committed transaction each), appendMany of 50, and the kv/map reads every message does.
// Run: node --conditions=magpie-src --import tsx bench/store-append.ts
import { mkdtempSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
import { openStorage } from '@magpie/server/storage/index';
const s = await openStorage({ type: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'st-')), 'x.sqlite') }, { log: () => {} } as never);
const N = 3000;
let t0 = performance.now();
for (let i = 0; i < N; i++) await s.archive.append('localhost', 'bob', 'mam', { when: Date.now(), with: 'alice@localhost', payload: '<message>hi</message>', meta: { dir: 'in' } });
console.log('append', ((performance.now() - t0) / N).toFixed(3), 'ms');
t0 = performance.now();
for (let i = 0; i < N; i++) await s.kv.get('localhost', 'bob', 'mam-prefs');
console.log('kv get', ((performance.now() - t0) / N).toFixed(3), 'ms');
t0 = performance.now();
for (let i = 0; i < N; i++) await s.map.get('localhost', 'bob', 'roster', 'alice@localhost');
console.log('map get', ((performance.now() - t0) / N).toFixed(3), 'ms');
await s.close();
const s2 = await openStorage({ type: 'sqlite', path: join(mkdtempSync(join(tmpdir(), 'st-')), 'x.sqlite') }, { log: () => {} } as never);
t0 = performance.now();
for (let i = 0; i < N / 50; i++) await s2.archive.appendMany('localhost', 'bob', 'mam', Array.from({ length: 50 }, () => ({ when: Date.now(), with: 'alice@localhost', payload: '<message>hi</message>', meta: { dir: 'in' } })));
console.log('appendMany x50', ((performance.now() - t0) / N).toFixed(3), 'ms per item');
await s2.close();
