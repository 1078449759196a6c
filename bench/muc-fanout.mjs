#!/usr/bin/env node
// MUC fan-out benchmark (XEP-0045 groupchat): one room of N occupants (default 1,000) spread over
// generator processes (bench/load/muc-worker.mjs, raw TLS sockets with the load generator's
// SCRAM client), one occupant sending groupchat messages in a closed loop (at most --window not
// yet echoed back to it). Measures occupant deliveries per second (messages × occupants) and the
// server process's CPU time per groupchat message and per delivery (utime+stime from /proc).
// Magpie only (built dist), started like bench/run.mjs starts it (bench/servers/servers.mjs).
//
//   node bench/muc-fanout.mjs [--occupants 1000] [--procs 2] [--messages 200] [--window 4] [--port-base 16000]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GenPool, sum } from './lib/gen.mjs';
import { cleanupAll, cpuMs, sleep } from './lib/proc.mjs';
import { Magpie } from './servers/servers.mjs';

const WORKER = fileURLToPath(new URL('./load/muc-worker.mjs', import.meta.url));
const arg = (name, def) => { const i = process.argv.indexOf(`--${name}`); return i === -1 ? def : Number(process.argv[i + 1]); };
const o = { occupants: arg('occupants', 1000), procs: arg('procs', 2), messages: arg('messages', 200), window: arg('window', 4), portBase: arg('port-base', 16000) };
const ROOM = 'bench@conference.localhost';
const PASSWORD = 'bench-pw';

async function main() {
  const tmp = mkdtempSync(join(tmpdir(), 'magpie-muc-bench-'));
  const cert = join(tmp, 'cert.pem'), key = join(tmp, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '7', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const server = new Magpie({ dir: tmp, cert, key, portBase: o.portBase, password: PASSWORD });
  const pool = new GenPool(o.procs, WORKER);
  try {
    console.error(`creating ${o.occupants} accounts…`);
    await server.prepare(o.occupants);
    // Room limits raised for the benchmark (defaults: 200 occupants per room).
    const cfg = JSON.parse(readFileSync(server.configFile, 'utf8'));
    cfg.modules = { options: { muc: { defaultMaxUsers: Math.max(o.occupants, 200), maxUsersLimit: Math.max(o.occupants, 5000), defaultHistory: 0 } } };
    writeFileSync(server.configFile, JSON.stringify(cfg, null, 2) + '\n');
    await server.start();
    await pool.start();
    await pool.all('config', () => ({ host: '127.0.0.1', port: server.port, domain: 'localhost', password: PASSWORD }));
    const t0 = Date.now();
    const first = await pool.call(0, 'join', { users: ['user1'], room: ROOM, concurrency: 1, plain: true });
    if (first.failed) throw new Error(`room creation failed: ${first.errors}`);
    const joins = await pool.all('join', (k) => ({ users: pool.usersOf(k, 2, o.occupants), room: ROOM, concurrency: 20 }));
    const failed = sum(joins, 'failed');
    if (failed) throw new Error(`${failed} joins failed: ${joins.flatMap((j) => j.errors).join('; ')}`);
    const joinS = (Date.now() - t0) / 1000;
    console.error(`${o.occupants} occupants joined in ${joinS.toFixed(1)} s`);
    await sleep(2000);
    // Warm-up, then the measured window.
    await pool.call(0, 'send', { room: ROOM, count: Math.min(50, o.messages), window: o.window });
    await sleep(1000);
    const before = await pool.all('snap');
    const cpu0 = cpuMs(server.pid);
    const w0 = performance.now();
    await pool.call(0, 'send', { room: ROOM, count: o.messages, window: o.window });
    // Wait until every occupant has every message.
    const expected = sum(before, 'received') + o.messages * o.occupants;
    let after = await pool.all('snap');
    for (let i = 0; i < 600 && sum(after, 'received') < expected; i++) { await sleep(100); after = await pool.all('snap'); }
    const wallS = (performance.now() - w0) / 1000;
    const cpu = cpuMs(server.pid) - cpu0;
    const delivered = sum(after, 'received') - sum(before, 'received');
    const result = {
      date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model,
      occupants: o.occupants, procs: o.procs, window: o.window, messages: o.messages, joinSeconds: Math.round(joinS * 10) / 10,
      delivered, expected: o.messages * o.occupants, wallSeconds: Math.round(wallS * 100) / 100,
      groupchatPerSecond: Math.round(o.messages / wallS * 10) / 10,
      deliveriesPerSecond: Math.round(delivered / wallS),
      serverCpuMsPerMessage: Math.round(cpu / o.messages * 100) / 100,
      serverCpuUsPerDelivery: Math.round(cpu * 1000 / Math.max(1, delivered) * 10) / 10,
      serverCores: Math.round(cpu / 1000 / wallS * 100) / 100,
      errors: sum(after, 'errors'),
    };
    console.log(JSON.stringify(result, null, 2));
    await pool.all('closeAll');
  } finally {
    await pool.stop().catch(() => {});
    await server.stop().catch(() => {});
    await cleanupAll().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
