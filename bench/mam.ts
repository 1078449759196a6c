// Benchmark: the message archive (XEP-0313) at 1,000,000 messages in ONE user's archive, on
// SQLite and PostgreSQL. The point is that every query a client makes is answered from an index
// in a few milliseconds whatever the archive size, never by a scan.
//
// Run: node --conditions=magpie-src --import tsx bench/mam.ts [messages] [repeats] [sqlite|postgres|both]
// Fill: bulk appends through the store (appendMany, 5,000 per batch) over 200 peers and a year of
// timestamps. Then each query runs `repeats` times with varied parameters, twice: through the
// store (ArchiveStore.query, as the module calls it: countUpTo 10,000) and through the XMPP path
// (a logged-in client sends the MAM iq and waits for the 50 result messages and the <fin/>).
// Reports median and p95 in ms. PostgreSQL gets VACUUM ANALYZE after the fill (autovacuum would).
// Results and their reading: bench/RESULTS.md, section "Message archive (XEP-0313)".

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Element } from '../packages/core/src/xml/element.js';
import { openStorage } from '../packages/server/src/storage/index.js';
import type { ArchiveQuery, Storage } from '../packages/server/src/storage/storage.js';
import type { PostgresStorage } from '../packages/server/src/storage/postgres/postgres.js';
import type { SqliteStorage } from '../packages/server/src/storage/sqlite/sqlite.js';
import { pageSql } from '../packages/server/src/storage/archive-sql.js';
import { startTestServer } from '../test/support/server.js';
import { RawClient } from '../test/support/raw-client.js';
import { pgTestUrl } from '../test/support/postgres.js';

const N = Number(process.argv[2] ?? 1_000_000);
const REPEATS = Number(process.argv[3] ?? 30);
const WHICH = process.argv[4] ?? 'both';
const PEERS = 200;
const HOST = 'localhost', USER = 'bench', STORE = 'mam';
const YEAR = 365 * 86_400_000;
const T0 = Date.UTC(2025, 0, 1);
const PAGE = 50;
const COUNT_UP_TO = 10_000;

let seed = 7;
const rnd = (): number => { seed = (seed * 1664525 + 1013904223) >>> 0; return seed / 2 ** 32; };
const peer = (i: number): string => `peer${i % PEERS}@example.net`;
const whenOf = (i: number): number => T0 + Math.floor((i / N) * YEAR);

async function fill(s: Storage): Promise<string[]> {
  const sample: string[] = [];
  const t = Date.now();
  const BATCH = 5000;
  for (let b = 0; b < N; b += BATCH) {
    const items = [];
    for (let i = b; i < Math.min(N, b + BATCH); i++) {
      const out = i % 2 === 0;
      const from = out ? `${USER}@${HOST}/phone` : `${peer(i)}/laptop`;
      const to = out ? peer(i) : `${USER}@${HOST}`;
      items.push({
        when: whenOf(i), with: peer(i), ...(out ? {} : { withResource: 'laptop' }),
        payload: `<message xmlns="jabber:client" from="${from}" to="${to}" type="chat" id="m${i}"><body>message number ${i} with a little text to make it realistic</body></message>`,
        meta: { dir: out ? 'out' : 'in', type: 'chat' },
      });
    }
    const ids = await s.archive.appendMany(HOST, USER, STORE, items);
    for (const id of ids) if (rnd() < 0.001) sample.push(id);
    if ((b / BATCH) % 40 === 0) process.stderr.write(`  filled ${b + items.length} (${((Date.now() - t) / 1000).toFixed(0)} s)\n`);
  }
  process.stderr.write(`  fill done: ${N} in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
  return sample;
}

const stats = (xs: number[]): { median: number; p95: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p95: s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]! };
};

interface Scenario { name: string; store: (k: number) => ArchiveQuery[]; xmpp: (k: number) => string[] }

function scenarios(sample: string[]): Scenario[] {
  const iso = (ms: number) => new Date(ms).toISOString();
  const field = (v: string, x: string) => `<field var='${v}'><value>${x}</value></field>`;
  const form = (f: string) => `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>${f}</x>`;
  const rsm = (r: string) => `<set xmlns='http://jabber.org/protocol/rsm'><max>${PAGE}</max>${r}</set>`;
  const q = (inner: string) => `<query xmlns='urn:xmpp:mam:2'>${inner}</query>`;
  const mid = (k: number) => T0 + YEAR / 4 + ((k * 7919) % 180) * 86_400_000; // a day somewhere in the middle
  return [
    { name: 'last page (empty <before/>)', store: () => [{ reverse: true, limit: PAGE }], xmpp: () => [q(rsm('<before/>'))] },
    { name: 'with=peer, last page', store: (k) => [{ with: peer(k * 37), reverse: true, limit: PAGE }], xmpp: (k) => [q(form(field('with', peer(k * 37))) + rsm('<before/>'))] },
    {
      name: 'start/end window (one day) mid-year', store: (k) => [{ start: mid(k), end: mid(k) + 86_400_000, limit: PAGE }],
      xmpp: (k) => [q(form(field('start', iso(mid(k))) + field('end', iso(mid(k) + 86_400_000))) + rsm(''))],
    },
    {
      name: 'start only (open end) from mid-year, forward', store: (k) => [{ start: mid(k), limit: PAGE }],
      xmpp: (k) => [q(form(field('start', iso(mid(k)))) + rsm(''))],
    },
    {
      name: 'with=peer and a one-day window mid-year', store: (k) => [{ with: peer(k * 37), start: mid(k), end: mid(k) + 86_400_000, limit: PAGE }],
      xmpp: (k) => [q(form(field('with', peer(k * 37)) + field('start', iso(mid(k))) + field('end', iso(mid(k) + 86_400_000))) + rsm(''))],
    },
    {
      name: 'with=peer, start only from mid-year, forward', store: (k) => [{ with: peer(k * 37), start: mid(k), limit: PAGE }],
      xmpp: (k) => [q(form(field('with', peer(k * 37)) + field('start', iso(mid(k)))) + rsm(''))],
    },
    { name: 'ids lookup (10 ids)', store: (k) => [{ ids: sample.slice(k % 50, (k % 50) + 10) }], xmpp: (k) => [q(form(`<field var='ids'>${sample.slice(k % 50, (k % 50) + 10).map((x) => `<value>${x}</value>`).join('')}</field>`))] },
  ];
}

async function timeStore(s: Storage, sc: Scenario): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < REPEATS; k++) {
    for (const qq of sc.store(k)) {
      const t = process.hrtime.bigint();
      await s.archive.query(HOST, USER, STORE, { ...qq, countUpTo: COUNT_UP_TO });
      out.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
  }
  return out;
}

/** 10 pages forward with after=<last of the previous page>, from a point mid-archive. */
async function afterPagingStore(s: Storage, sample: string[]): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < Math.max(1, Math.floor(REPEATS / 10)); k++) {
    let after = sample[(k * 13) % sample.length]!;
    for (let p = 0; p < 10; p++) {
      const t = process.hrtime.bigint();
      const page = await s.archive.query(HOST, USER, STORE, { after, limit: PAGE, countUpTo: COUNT_UP_TO });
      out.push(Number(process.hrtime.bigint() - t) / 1e6);
      after = page.items.at(-1)!.id;
    }
  }
  return out;
}

let iqn = 0;
async function xmppQuery(c: RawClient, query: string): Promise<{ ms: number; last?: string; n: number }> {
  const id = `b${++iqn}`;
  const start = c.elements.length;
  const t = process.hrtime.bigint();
  c.send(`<iq type='set' id='${id}'>${query}</iq>`);
  let res: Element | undefined;
  await c.until(() => { for (let i = start; i < c.elements.length; i++) if (c.elements[i]!.attr('id') === id) { res = c.elements[i]; return true; } return false; }, 30_000, id);
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (res!.attr('type') !== 'result') throw new Error(`query failed: ${res!.toString()}`);
  const n = c.elements.slice(start).filter((e) => e.name === 'message').length;
  c.text = ''; // keep memory flat
  const last = res!.getChild('fin', 'urn:xmpp:mam:2')?.getChild('set', 'http://jabber.org/protocol/rsm')?.getChildText('last');
  return last === undefined ? { ms, n } : { ms, n, last };
}

async function run(kind: 'sqlite' | 'postgres'): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'magpie-bench-mam-'));
  let cfg: { type: 'sqlite'; path: string } | { type: 'postgres'; url: string; schema: string };
  const schema = 'magpie_bench_mam_' + Math.random().toString(36).slice(2, 8);
  if (kind === 'sqlite') cfg = { type: 'sqlite', path: join(dir, 'bench.sqlite') };
  else {
    const url = await pgTestUrl();
    if (!url) { process.stderr.write('PostgreSQL not reachable: skipped\n'); return []; }
    cfg = { type: 'postgres', url, schema };
  }
  const lines: string[] = [];
  try {
    process.stderr.write(`${kind}: filling ${N} messages\n`);
    const s = await openStorage(cfg);
    const t0 = Date.now();
    const sample = await fill(s);
    const fillS = (Date.now() - t0) / 1000;
    // What autovacuum does after a large insert (PostgreSQL 13+ triggers it on inserts too): the
    // statistics, and the visibility map that lets counts be index-only scans.
    if (kind === 'postgres') await (s as PostgresStorage).pool.query('VACUUM ANALYZE archive');
    const scs = scenarios(sample);
    const storeRes = new Map<string, number[]>();
    for (const sc of scs) storeRes.set(sc.name, await timeStore(s, sc));
    storeRes.set('after-id paging, 10 pages', await afterPagingStore(s, sample));
    if (kind === 'sqlite') {
      // The plans behind the figures (stderr): which index each page query walks.
      const db = (s as SqliteStorage).database;
      for (const sc of scs) {
        const q0 = sc.store(0)[0]!;
        if (q0.ids) continue;
        const b = pageSql('sqlite', HOST, USER, STORE, q0);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${b.text}`).all(...b.values) as { detail: string }[]).map((r) => r.detail).join('; ');
        process.stderr.write(`  plan: ${sc.name}: ${plan}\n`);
      }
    }
    await s.close();

    const ts = await startTestServer({ storage: cfg, dataDir: dir, modules: { options: { mam: { maxPageSize: PAGE } } } });
    const xmppRes = new Map<string, number[]>();
    try {
      await ts.addUser(USER, 'pw');
      const c = await RawClient.connect(ts.port);
      await c.login(USER, 'pw', { resource: 'bench' });
      for (const sc of scs) {
        const xs: number[] = [];
        for (let k = 0; k < REPEATS; k++) for (const q of sc.xmpp(k)) xs.push((await xmppQuery(c, q)).ms);
        xmppRes.set(sc.name, xs);
      }
      const xs: number[] = [];
      for (let k = 0; k < Math.max(1, Math.floor(REPEATS / 10)); k++) {
        let after = sample[(k * 13) % sample.length]!;
        for (let p = 0; p < 10; p++) {
          const r = await xmppQuery(c, `<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><max>${PAGE}</max><after>${after}</after></set></query>`);
          if (r.n !== PAGE) throw new Error(`page of ${r.n}`);
          xs.push(r.ms); after = r.last!;
        }
      }
      xmppRes.set('after-id paging, 10 pages', xs);
      c.destroy();
    } finally { await ts.stop(true); }

    lines.push(`### ${kind === 'sqlite' ? 'SQLite' : 'PostgreSQL'} — ${N.toLocaleString('en')} messages in one archive (fill: ${fillS.toFixed(0)} s)`, '',
      '| query | store median | store p95 | XMPP median | XMPP p95 |', '|---|---:|---:|---:|---:|');
    for (const [name, xs] of storeRes) {
      const a = stats(xs), b = stats(xmppRes.get(name) ?? [0]);
      lines.push(`| ${name} | ${a.median.toFixed(2)} ms | ${a.p95.toFixed(2)} ms | ${b.median.toFixed(2)} ms | ${b.p95.toFixed(2)} ms |`);
    }
    lines.push('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (kind === 'postgres') {
      const c = new pg.Client({ connectionString: (cfg as { url: string }).url });
      await c.connect(); await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`); await c.end();
    }
  }
  return lines;
}

const out: string[] = [`## Message archive (XEP-0313) — ${new Date().toISOString()}`, '',
  `Command: \`node --conditions=magpie-src --import tsx bench/mam.ts ${N} ${REPEATS} ${WHICH}\`; machine: ${cpus().length} cores (${cpus()[0]?.model.trim()}), shared with other jobs.`,
  `Each query: ${REPEATS} runs (after-id paging: ${Math.max(1, Math.floor(REPEATS / 10))}×10 pages), page = ${PAGE}, RSM count bounded at ${COUNT_UP_TO.toLocaleString('en')}. XMPP = iq sent → 50 result messages and the iq result received, over loopback.`, ''];
for (const k of (WHICH === 'both' ? ['sqlite', 'postgres'] : [WHICH]) as ('sqlite' | 'postgres')[]) out.push(...await run(k));
console.log(out.join('\n'));
