// One Magpie cluster node for the cluster benchmarks (issue #8): the built server (dist), started
// as `magpie start` starts it, in its own process, plus an IPC channel through which the
// benchmark reads what it cannot see from outside: the session registry's counts (local sessions
// and proxies of other nodes' sessions), open connections, heap and RSS (optionally after a full
// GC: the process runs with --expose-gc), CPU time and event-loop delay (a long stall makes this
// node miss heartbeats and the others reap it, so it is reported).
//
//   node --expose-gc bench/servers/cluster-node.mjs CONFIG.json      (forked with an IPC channel)
//
// IPC: { id, cmd: 'stats', gc } → { id, ok, ... }; { cmd: 'stop' } stops the server and exits.
// Prints nothing on stdout; the server logs to its configured destination.

import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { MagpieServer } from '../../packages/server/dist/server.js';
import { validateConfig } from '../../packages/server/dist/config/load.js';

const config = validateConfig(JSON.parse(readFileSync(process.argv[2], 'utf8')));
const server = new MagpieServer(config);
const loop = monitorEventLoopDelay({ resolution: 20 });
loop.enable();
let maxDelayMs = 0; // worst event-loop delay since start (the histogram is reset on every stats read)
// A forced GC blocks the loop and the histogram records that on its next sample, i.e. in the
// NEXT read: that read's maximum is the benchmark's own doing and is kept out of maxDelayMs.
let afterForcedGc = false;

function stats({ gc = false, resetLoop = true } = {}) {
  const loopMaxMs = loop.max / 1e6;
  const polluted = afterForcedGc;
  if (!polluted) maxDelayMs = Math.max(maxDelayMs, loopMaxMs);
  let gcMs = null;
  if (gc && typeof globalThis.gc === 'function') {
    const t = performance.now();
    globalThis.gc(); globalThis.gc();
    gcMs = performance.now() - t;
    afterForcedGc = true;
  } else if (resetLoop) afterForcedGc = false;
  const m = process.memoryUsage();
  const reg = server.sessions;
  const out = {
    node: config.cluster.nodeName, pid: process.pid,
    local: reg.size, remote: reg.remoteSize ?? 0, connections: server.connectionCount,
    rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
    cpu: process.cpuUsage(),
    loop: { p50Ms: loop.percentile(50) / 1e6, p99Ms: loop.percentile(99) / 1e6, maxMs: loopMaxMs, afterForcedGc: polluted, maxSinceStartMs: maxDelayMs }, forcedGcMs: gcMs,
  };
  if (resetLoop) loop.reset();
  return out;
}

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  try { await server.stop(); } catch (e) { console.error(e); code = 1; }
  process.exit(code);
}

process.on('message', (m) => {
  if (m?.cmd === 'stop') { void stop(0); return; }
  try {
    if (m?.cmd !== 'stats') throw new Error(`unknown command ${m?.cmd}`);
    process.send({ ...stats(m), id: m.id, ok: true });
  } catch (e) {
    process.send({ id: m?.id, ok: false, error: String(e?.stack ?? e) });
  }
});
process.on('SIGTERM', () => void stop(0));
process.on('SIGINT', () => void stop(0));
process.on('disconnect', () => void stop(0));

try {
  await server.start();
} catch (e) {
  console.error(e?.stack ?? e);
  process.exit(1);
}
process.send({ ready: true, pid: process.pid, port: server.port('c2s') });
