// Micro-benchmark of the archive's write path on SQLite (bench/RESULTS.md, "Archive write cost per
// message"): CPU per row of SqliteStorage.archive.appendRows, batches of <batch> rows spread over
// <users> archives, as the XEP-0313 write-behind loop issues them. Variants (joined with '+')
// change the schema or settings first: nowithwhen, nowhen, noseq, nostorewhen, nowithseq (drop
// that index), ckpt4k / ckpt10k (wal_autocheckpoint), cache (64 MiB page cache), off
// (synchronous=OFF), short (1–4 byte keys: what an integer archive key would give), sorted (group
// rows by archive; appendRows now does that itself), multi (multi-row INSERTs of 50).
// Run: node --conditions=magpie-src --import tsx bench/archive-append.ts <variant|base> [users] [batch] [rows] [prefill]
import { mkdtempSync, rmSync } from 'node:fs'; import { tmpdir } from 'node:os'; import { join } from 'node:path';
import { SqliteStorage } from '../packages/server/src/storage/sqlite/sqlite.js';
let short = false;
const stc = new Map<string, ReturnType<typeof db.prepare>>();
const [variant = 'base', U = '1000', B = '50', R = '100000', P = '0'] = process.argv.slice(2);
const users = Number(U), batch = Number(B), rows = Number(R), prefill = Number(P);
const dir = mkdtempSync(join(tmpdir(), 'av-'));
const s = new SqliteStorage(join(dir, 'x.sqlite'));
await s.migrate();
const db = s.database;
for (const v of variant.split('+')) {
  if (v === 'nowithwhen') db.exec('DROP INDEX archive_with_when');
  if (v === 'nowhen') db.exec('DROP INDEX archive_when');
  if (v === 'noseq') db.exec('DROP INDEX archive_seq');
  if (v === 'nostorewhen') db.exec('DROP INDEX archive_store_when');
  if (v === 'nowithseq') db.exec('DROP INDEX archive_with_seq');
  if (v === 'ckpt4k') db.pragma('wal_autocheckpoint = 4000');
  if (v === 'off') db.pragma('synchronous = OFF');
  if (v === 'cache') db.pragma('cache_size = -65536');
  if (v === 'ckpt10k') db.pragma('wal_autocheckpoint = 10000');
  if (v === 'short') short = true;
}
let seed = 1;

const rnd = () => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32; };
let n = 0;
const mk = () => {
  const u = `user${Math.floor(rnd() * users)}`, p = `user${Math.floor(rnd() * users)}@localhost`;
  n++;
  return short ? { host: 'h', user: u.slice(4), store: 'm', item: { when: Date.now(), with: p.slice(4, 8), withResource: 'r', payload: 'x'.repeat(250), meta: { dir: 'in', type: 'chat' } } } : { host: 'localhost', user: u, store: 'mam', item: { when: Date.now(), with: p, withResource: 'r', payload: `<message xmlns="jabber:client" to="${u}@localhost/r" from="${p}/r" id="m${n}" type="chat"><body>message number ${n} ${'x'.repeat(70)}</body><stanza-id xmlns="urn:xmpp:sid:0" id="abcdefghijabcdefghijab" by="${u}@localhost"/></message>`, meta: { dir: 'in', type: 'chat' } } };
};
for (let i = 0; i < prefill; i += 5000) await s.archive.appendRows(Array.from({ length: 5000 }, mk));
const t0 = performance.now(); const c0 = process.cpuUsage();
let jsT = 0;
for (let i = 0; i < rows; i += batch) {
  const b = Array.from({ length: batch }, mk);
  if (variant.includes('sorted')) b.sort((x, y) => (x.user < y.user ? -1 : x.user > y.user ? 1 : 0));
  if (variant.includes('multi')) {
    const M = 50;
    db.transaction(() => {
      for (let j = 0; j < b.length; j += M) {
        const part = b.slice(j, j + M);
        const sql = `INSERT INTO archive (host, username, store, id, when_ms, with_jid, payload, meta, with_resource) VALUES ${part.map(() => '(?,?,?,?,?,?,?,?,?)').join(',')}`;
        let st = stc.get(sql); if (!st) { st = db.prepare(sql); stc.set(sql, st); }
        const vals = [];
        for (const r of part) vals.push(r.host, r.user, r.store, String(n++), r.item.when, r.item.with, r.item.payload, JSON.stringify(r.item.meta), r.item.withResource);
        st.run(...vals);
      }
    })();
  } else await s.archive.appendRows(b);
}
const c = process.cpuUsage(c0); const w = performance.now() - t0;
console.log(JSON.stringify({ variant, users, batch, rows, prefill, cpuUsPerRow: +((c.user + c.system) / rows).toFixed(2), sysUsPerRow: +(c.system / rows).toFixed(2), wallUsPerRow: +((w * 1000) / rows).toFixed(2) }));
await s.close(); rmSync(dir, { recursive: true });
