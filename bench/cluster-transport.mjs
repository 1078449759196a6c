#!/usr/bin/env node
// Cluster transport benchmark (issue #8): which Redis primitive carries stanzas between two
// Magpie nodes? Measures Redis pub/sub (PUBLISH to the node's channel) against Redis streams
// (XADD to the node's stream, XREAD BLOCK on the other side) for ordered delivery of N small
// messages (stanza-sized, ~200 bytes) from one process to another. Each mode runs in fresh child
// processes: a receiver that checks that sequence numbers arrive strictly in order, and a sender.
// Reports: throughput (burst: all N sent as fast as ioredis pipelines them), and one-way latency
// at a paced rate (p50/p99, both processes on this host so one clock).
//
// Usage: node bench/cluster-transport.mjs [--n 100000] [--rate 5000] [--paced 10000] [--redis redis://127.0.0.1:6379]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

const args = Object.fromEntries(process.argv.slice(2).reduce((a, x, i, all) => (x.startsWith('--') ? [...a, [x.slice(2), all[i + 1]]] : a), []));
const N = Number(args.n ?? 100000);
const RATE = Number(args.rate ?? 5000);
const PACED = Number(args.paced ?? 10000);
const URL = args.redis ?? 'redis://127.0.0.1:6379';
const role = process.env.BENCH_ROLE;
const PAYLOAD = `<message type='chat' from='alice@example.com/phone' to='bob@example.com/laptop' id='${'x'.repeat(16)}'><body>${'b'.repeat(60)}</body></message>`;

const percentile = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))];

async function receiver() {
  const { mode, key, n } = JSON.parse(process.env.BENCH_CFG);
  const r = new Redis(URL);
  let expect = 0; let first = 0; const lat = [];
  const onMsg = (m) => {
    const bar = m.indexOf('|'); const bar2 = m.indexOf('|', bar + 1);
    const seq = Number(m.slice(0, bar)); const sent = Number(m.slice(bar + 1, bar2));
    if (seq !== expect) { process.send({ error: `out of order: got ${seq}, expected ${expect}` }); process.exit(1); }
    if (expect === 0) first = performance.timeOrigin + performance.now();
    lat.push(performance.timeOrigin + performance.now() - sent);
    expect++;
    if (expect === n) {
      const end = performance.timeOrigin + performance.now();
      lat.sort((a, b) => a - b);
      process.send({ done: true, end, first, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat[lat.length - 1] });
      setTimeout(() => process.exit(0), 50);
    }
  };
  if (mode === 'pubsub') {
    r.on('message', (_ch, m) => onMsg(m));
    await r.subscribe(key);
    process.send({ ready: true });
  } else {
    process.send({ ready: true });
    let last = '0-0';
    for (;;) {
      const res = await r.xread('COUNT', 1000, 'BLOCK', 0, 'STREAMS', key, last);
      for (const [, entries] of res ?? []) for (const [id, fields] of entries) { last = id; onMsg(fields[1]); }
    }
  }
}

async function sender() {
  const { mode, key, n, rate } = JSON.parse(process.env.BENCH_CFG);
  const r = new Redis(URL);
  await r.ping();
  const send = (i) => {
    const m = `${i}|${performance.timeOrigin + performance.now()}|${PAYLOAD}`;
    return mode === 'pubsub' ? r.publish(key, m) : r.xadd(key, 'MAXLEN', '~', '100000', '*', 'm', m);
  };
  const start = performance.timeOrigin + performance.now();
  if (!rate) {
    // Burst: ioredis pipelines every command written in the same tick; await in slices so the
    // sender's memory stays bounded.
    for (let i = 0; i < n; i += 5000) {
      const ps = [];
      for (let j = i; j < Math.min(n, i + 5000); j++) ps.push(send(j));
      await Promise.all(ps);
    }
  } else {
    const interval = 1000 / rate; let i = 0;
    while (i < n) {
      const due = Math.floor(((performance.timeOrigin + performance.now()) - start) / interval) + 1;
      while (i < Math.min(n, due)) send(i++);
      await new Promise((res) => setTimeout(res, 1));
    }
  }
  await r.ping();
  process.send({ start });
  r.disconnect();
  process.exit(0);
}

function child(roleName, cfg) {
  return fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_ROLE: roleName, BENCH_CFG: JSON.stringify(cfg) } });
}

async function run(mode, n, rate) {
  const key = `bench:${randomBytes(4).toString('hex')}:${mode}`;
  const recv = child('receiver', { mode, key, n });
  await new Promise((res, rej) => recv.on('message', (m) => { if (m.ready) res(); if (m.error) rej(new Error(m.error)); }));
  await new Promise((r) => setTimeout(r, 200)); // XREAD must be blocking before the first XADD
  const done = new Promise((res, rej) => recv.on('message', (m) => { if (m.done) res(m); if (m.error) rej(new Error(m.error)); }));
  const send = child('sender', { mode, key, n, rate });
  const started = new Promise((res) => send.on('message', (m) => { if (m.start) res(m.start); }));
  const [d, start] = await Promise.all([done, started]);
  const cleanup = new Redis(URL); await cleanup.del(key); cleanup.disconnect();
  const secs = (d.end - start) / 1000;
  return { mode, n, rate: rate || 'burst', seconds: +secs.toFixed(3), perSecond: Math.round(n / secs), p50ms: +d.p50.toFixed(2), p99ms: +d.p99.toFixed(2), maxms: +d.max.toFixed(2), ordered: true };
}

if (role === 'receiver') await receiver();
else if (role === 'sender') await sender();
else {
  const results = [];
  for (const mode of ['pubsub', 'streams']) {
    results.push(await run(mode, N, 0));
    results.push(await run(mode, PACED, RATE));
  }
  console.table(results);
  console.log(JSON.stringify(results));
}
