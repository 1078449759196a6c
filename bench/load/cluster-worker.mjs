// One load-generator process of the cluster connection benchmark (bench/cluster-connections.mjs,
// issue #8): opens and holds many authenticated client sessions (SCRAM-SHA-1 + resource binding,
// RFC 6120 §6-7) at a paced login rate, keeps them alive with whitespace keepalives (RFC 6120
// §4.6.1), and at the end checks every one with an XEP-0199 ping to the server. Several of these
// run side by side, each under the 20,000 open-files limit. Commands over IPC, { id, cmd, ... }:
//
//   config     { domain, password, tls }
//   connect    { users: [username], port, rate, concurrency }   paced logins to one node; hold them
//   keepalive  { intervalMs }                                    one space per session per interval
//   check      { timeoutMs }                                     ping every session, count answers
//   snap       {}                                                counters, memory, CPU
//   closeAll   { graceMs }
//
// The SCRAM SaltedPassword is cached per (password, salt, iterations), which is what each real
// client keeps for its own account; the benchmark accounts share one salt (bench/lib/cluster.mjs),
// so PBKDF2 runs once per process instead of once per account.

import { readFileSync } from 'node:fs';
import { closeStream, login } from './xmpp.mjs';

let cfg = null;
const cache = new Map();
let held = [];
const st = { closed: 0, sockErrors: 0, streamErrors: 0, pingsAnswered: 0, keepalives: 0 };
let keepTimer = null;
let checkRound = 0;

const RE_SERVER_PING = /<iq\b[^>]*?\bid=(['"])([^'"]*)\1[^>]*>\s*<ping xmlns=['"]urn:xmpp:ping['"]/;

function onData(chunk) {
  const s = this._tail + chunk;
  if (this._check && s.includes(this._check)) { this._check = null; this._checkOk?.(); }
  if (s.includes('stream:error') || s.includes('</stream:stream>')) st.streamErrors++;
  if (s.includes('urn:xmpp:ping')) {
    const m = RE_SERVER_PING.exec(s);
    if (m && !/type=['"]result/.test(m[0])) { st.pingsAnswered++; this.write(`<iq type='result' id='${m[2]}'/>`); }
  }
  this._tail = s.slice(-40);
}
function onClose() { st.closed++; this._dead = true; }
function onError() { st.sockErrors++; }

function hold(sock, user) {
  sock._user = user; sock._tail = ''; sock._dead = false;
  sock.on('data', onData);
  sock.on('close', onClose);
  sock.on('error', onError);
  held.push(sock);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const handlers = {
  async config(m) { cfg = { domain: m.domain, password: m.password, tls: !!m.tls }; return {}; },

  /** Start one login every 1000/rate ms (at most `concurrency` in flight) until all are done. */
  async connect({ users, port, rate, concurrency = 100 }) {
    let connected = 0, failed = 0, inFlight = 0, next = 0;
    const errors = [];
    const t0 = performance.now();
    const interval = 1000 / Math.max(1, rate);
    await new Promise((resolve) => {
      const tick = () => {
        const due = Math.min(users.length, Math.floor((performance.now() - t0) / interval) + 1);
        while (next < due && inFlight < concurrency) {
          const username = users[next++];
          inFlight++;
          login({ host: '127.0.0.1', port, domain: cfg.domain, username, password: cfg.password, resource: 'c', cache, cacheKey: cfg.password, tls: cfg.tls, timeoutMs: 120000 })
            .then(({ sock }) => { hold(sock, username); connected++; }, (e) => { failed++; if (errors.length < 5) errors.push(`${username}: ${String(e?.message ?? e).slice(0, 200)}`); })
            .finally(() => { inFlight--; if (next >= users.length && inFlight === 0) { clearInterval(timer); resolve(); } });
        }
      };
      const timer = setInterval(tick, Math.max(2, Math.min(20, interval)));
      tick();
      if (!users.length) { clearInterval(timer); resolve(); }
    });
    return { connected, failed, errors, seconds: (performance.now() - t0) / 1000, held: held.length };
  },

  async keepalive({ intervalMs = 30000 }) {
    if (keepTimer) clearInterval(keepTimer);
    if (!intervalMs) { keepTimer = null; return {}; }
    // Spread over the interval in 20 slices, so the nodes never get every keepalive at once.
    let slice = 0;
    keepTimer = setInterval(() => {
      for (let i = slice; i < held.length; i += 20) { const s = held[i]; if (!s._dead && !s.destroyed) { s.write(' '); st.keepalives++; } }
      slice = (slice + 1) % 20;
    }, Math.max(10, intervalMs / 20));
    return {};
  },

  async check({ timeoutMs = 60000, concurrency = 500 }) {
    const id = `chk${process.pid}-${++checkRound}`;
    let answered = 0, dead = 0, noAnswer = 0, i = 0;
    const one = (s) => new Promise((resolve) => {
      if (s._dead || s.destroyed) { dead++; resolve(); return; }
      const t = setTimeout(() => { s._check = null; noAnswer++; resolve(); }, timeoutMs);
      s._check = id; // unique per round: only the answer carries it back
      s._checkOk = () => { clearTimeout(t); answered++; resolve(); };
      s.write(`<iq type='get' id='${id}' to='${cfg.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
    });
    await Promise.all(Array.from({ length: concurrency }, async () => { while (i < held.length) await one(held[i++]); }));
    return { answered, dead, noAnswer, held: held.length }; // not `ok`: the IPC answer uses that key
  },

  async snap() {
    return { ...st, held: held.length, open: held.reduce((a, s) => a + (s._dead || s.destroyed ? 0 : 1), 0), rss: process.memoryUsage().rss, cpu: process.cpuUsage(),
      openFilesLimit: Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1]) };
  },

  async closeAll({ graceMs = 5000 } = {}) {
    if (keepTimer) clearInterval(keepTimer);
    keepTimer = null;
    const list = held; held = [];
    for (const s of list) closeStream(s, graceMs);
    const deadline = Date.now() + graceMs + 1000;
    while (list.some((s) => !s.destroyed) && Date.now() < deadline) await sleep(100);
    for (const s of list) s.destroy();
    return { closed: list.length };
  },
};

process.on('message', async (m) => {
  if (m?.cmd === 'exit') process.exit(0);
  try {
    const h = handlers[m.cmd];
    if (!h) throw new Error(`unknown command ${m.cmd}`);
    process.send({ ...(await h(m)), id: m.id, ok: true });
  } catch (e) {
    process.send({ id: m.id, ok: false, error: String(e?.stack ?? e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, pid: process.pid });
