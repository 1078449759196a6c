// One load-generator process (forked by bench/run.mjs; several run side by side so that each
// stays well under the 20,000 open-files limit and the work spreads over the cores). Commands
// arrive over the IPC channel as { id, cmd, ... } and are answered with { id, ok, ... }.
//
//   config     { name, host, port, domain, password } target server (SCRAM cache kept per name)
//   register   { users, concurrency, batch }         XEP-0077 in-band registration
//   logins     { users, concurrency, count, durationMs }   login + bind + close, in a loop
//   connect    { users, concurrency, resource }      log in and keep the sessions
//   msgStart   { mode: 'window'|'rate', window, rate, globalUsers, resource }
//   snap       { resetLatency }                      counters + this process's CPU time
//   msgStop    {}                                    stop sending
//   closeAll   {}                                    close every held session
//
// Messages carry MARK + send time in the body; a receiving client counts a message when MARK
// appears in its decoded input, so presence, pushes or errors are never counted as deliveries.

import { performance } from 'node:perf_hooks';
import { closeStream, escapeXml, login, registerIbr } from './xmpp.mjs';

const MARK = 'MGPB:';
const FILLER = 'The quick brown fox jumps over the lazy dog, then naps.';
const now = () => performance.timeOrigin + performance.now();

let cfg = null;
const caches = new Map(); // server name → (username → ScramClientCache)
let cache = new Map();
let held = [];           // held sessions: TLS sockets with ._jid
const st = { sent: 0, recv: 0, errs: 0, skipped: 0, pings: 0, closed: 0, sockErrors: 0, lat: [], latSeen: 0, sampling: false };

function errText(e) { return String(e?.message ?? e).slice(0, 300); }

/** Run `lanes` async loops pulling jobs until `next()` returns undefined. */
async function lanes(n, next, job) {
  const run = async () => { for (let j = next(); j !== undefined; j = next()) await job(j); };
  await Promise.all(Array.from({ length: Math.max(1, n) }, run));
}

function base(username) {
  return { host: cfg.host, port: cfg.port, domain: cfg.domain, username, password: cfg.password, cache, timeoutMs: cfg.timeoutMs ?? 30000 };
}

// ---- incoming data on held sessions ------------------------------------------------------------

const RE_PING = /<iq\b[^>]*?\bid=(['"])([^'"]*)\1[^>]*>\s*<ping xmlns=['"]urn:xmpp:ping['"]/;

function onData(chunk) {
  const s = this._tail ? this._tail + chunk : chunk;
  let i = s.indexOf(MARK);
  while (i !== -1) {
    st.recv++;
    if (st.sampling) {
      const j = i + MARK.length, e = s.indexOf(' ', j);
      if (e !== -1) {
        const lat = now() - Number(s.slice(j, e));
        st.latSeen++;
        if (st.lat.length < 20000) st.lat.push(lat);
        else { const k = Math.floor(Math.random() * st.latSeen); if (k < 20000) st.lat[k] = lat; }
      }
    }
    i = s.indexOf(MARK, i + MARK.length);
  }
  if (s.indexOf("type='error'") !== -1 || s.indexOf('type="error"') !== -1) st.errs++;
  if (s.indexOf('urn:xmpp:ping') !== -1) {
    const m = RE_PING.exec(s);
    if (m && !/type=['"]result/.test(m[0])) { st.pings++; this.write(`<iq type='result' id='${m[2]}'/>`); }
  }
  this._tail = s.length >= MARK.length ? s.slice(s.length - (MARK.length - 1)) : s;
  if (sender && sender.mode === 'window') schedulePump();
}
function onClose() { st.closed++; }
function onError() { st.sockErrors++; }

function hold(sock, jid) {
  sock._jid = jid;
  sock._tail = '';
  sock.on('data', onData);
  sock.on('close', onClose);
  sock.on('error', onError);
  held.push(sock);
}

// ---- message sending ---------------------------------------------------------------------------

let sender = null;
let pumpScheduled = false;
function schedulePump() { if (!pumpScheduled) { pumpScheduled = true; setImmediate(pump); } }

function message(to) {
  return `<message to='${to}' type='chat' id='m${st.sent}'><body>${MARK}${now().toFixed(3)} ${FILLER}</body></message>`;
}

/** Closed loop: keep at most `window` of this process's messages in flight (sent, not yet received). */
function pump() {
  pumpScheduled = false;
  if (!sender || sender.mode !== 'window') return;
  const n = held.length;
  let blocked = 0;
  while (st.sent - st.recv < sender.window && blocked < 64) {
    const a = (Math.random() * n) | 0;
    let b = (Math.random() * (n - 1)) | 0; if (b >= a) b++;
    const s = held[a];
    if (s.writableNeedDrain || s.destroyed) { blocked++; st.skipped++; continue; }
    s.write(message(sender.to[b]));
    st.sent++;
  }
}

/** Open loop: `rate` messages per second from this process, to any client of any process. */
function paceTick() {
  if (!sender || sender.mode !== 'rate') return;
  const due = Math.floor(((now() - sender.t0) / 1000) * sender.rate) - sender.attempted;
  const n = held.length, g = sender.globalUsers;
  for (let k = 0; k < Math.min(due, sender.rate); k++) {
    sender.attempted++;
    const a = (Math.random() * n) | 0;
    const s = held[a];
    if (s.writableNeedDrain || s.destroyed) { st.skipped++; continue; }
    let b; do { b = 1 + ((Math.random() * g) | 0); } while (`user${b}` === s._user);
    s.write(message(`user${b}@${cfg.domain}/${sender.resource}`));
    st.sent++;
  }
}

// ---- commands ----------------------------------------------------------------------------------

const handlers = {
  async config(m) {
    cfg = { host: m.host, port: m.port, domain: m.domain, password: m.password, timeoutMs: m.timeoutMs };
    if (!caches.has(m.name)) caches.set(m.name, new Map());
    cache = caches.get(m.name);
    return {};
  },

  async register({ users, concurrency = 8, batch = 50 }) {
    const out = { registered: 0, existed: 0, failed: 0, errors: [] };
    const queue = users.slice();
    const take = () => (queue.length ? queue.splice(0, batch) : undefined);
    await lanes(concurrency, take, async (group) => {
      // A server may end the stream after some registrations: reconnect for the rest (bounded).
      let rest = group;
      for (let attempt = 0; rest.length && attempt < 5; attempt++) {
        const accounts = rest.map((u) => ({ username: u, password: cfg.password }));
        try {
          const r = await registerIbr({ host: cfg.host, port: cfg.port, domain: cfg.domain, accounts, timeoutMs: 30000 });
          out.registered += r.ok; out.existed += r.existed; out.failed += r.failed;
          for (const e of r.errors) if (out.errors.length < 5) out.errors.push(e);
          if (r.error && out.errors.length < 5) out.errors.push(r.error);
          rest = rest.slice(r.done);
        } catch (e) {
          if (out.errors.length < 5) out.errors.push(errText(e));
          await new Promise((res) => setTimeout(res, 200));
        }
      }
      if (rest.length) out.failed += rest.length;
    });
    return out;
  },

  async logins({ users, concurrency, count, durationMs, resourcePrefix = 'L' }) {
    let started = 0, done = 0, failed = 0, seq = 0;
    const errors = [];
    const t0 = Date.now(), deadline = t0 + durationMs;
    const next = () => (started < count && Date.now() < deadline ? started++ : undefined);
    await lanes(concurrency, next, async (i) => {
      const username = users[i % users.length];
      try {
        const { sock } = await login({ ...base(username), resource: `${resourcePrefix}${process.pid}-${seq++}` });
        done++;
        closeStream(sock);
      } catch (e) {
        failed++;
        if (errors.length < 5) errors.push(`${username}: ${errText(e)}`);
      }
    });
    return { done, failed, errors, elapsedMs: Date.now() - t0 };
  },

  async connect({ users, concurrency, resource }) {
    let i = 0, connected = 0, failed = 0, mismatched = 0;
    const errors = [];
    const t0 = Date.now();
    await lanes(concurrency, () => (i < users.length ? users[i++] : undefined), async (username) => {
      try {
        const { sock, jid } = await login({ ...base(username), resource });
        const expected = `${username}@${cfg.domain}/${resource}`;
        if (jid !== expected) mismatched++;
        sock._user = username;
        hold(sock, jid ?? expected);
        connected++;
      } catch (e) {
        failed++;
        if (errors.length < 5) errors.push(`${username}: ${errText(e)}`);
      }
    });
    return { connected, failed, mismatched, errors, held: held.length, elapsedMs: Date.now() - t0 };
  },

  async msgStart({ mode, window = 500, rate = 0, globalUsers = 0, resource = 'm' }) {
    if (held.length < 2) throw new Error('need at least 2 sessions to exchange messages');
    st.sent = st.recv = st.errs = st.skipped = 0;
    sender = { mode, window, rate, globalUsers, resource, t0: now(), attempted: 0, to: held.map((s) => escapeXml(s._jid)) };
    if (mode === 'window') { pump(); sender.timer = setInterval(pump, 20); }
    else sender.timer = setInterval(paceTick, 5);
    return {};
  },

  async msgStop() {
    if (sender) clearInterval(sender.timer);
    sender = null;
    return {};
  },

  async snap({ resetLatency = false, sampling }) {
    const lat = st.lat.slice().sort((a, b) => a - b);
    const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] : null);
    const out = {
      sent: st.sent, recv: st.recv, errs: st.errs, skipped: st.skipped, pings: st.pings, closed: st.closed,
      sockErrors: st.sockErrors, held: held.length, open: held.reduce((a, s) => a + (s.destroyed ? 0 : 1), 0), cpu: process.cpuUsage(), mem: process.memoryUsage().rss,
      latency: { n: lat.length, p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: lat.length ? lat[lat.length - 1] : null },
    };
    if (resetLatency) { st.lat = []; st.latSeen = 0; }
    if (sampling !== undefined) st.sampling = sampling;
    return out;
  },

  async closeAll({ graceMs = 10000 } = {}) {
    const list = held; held = [];
    let open = list.filter((s) => !s.destroyed);
    for (const s of open) closeStream(s, graceMs);
    const deadline = Date.now() + graceMs + 1000;
    while (open.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      open = open.filter((s) => !s.destroyed);
    }
    for (const s of open) s.destroy();
    return { closed: list.length, forced: open.length };
  },
};

process.on('message', async (m) => {
  if (m?.cmd === 'exit') process.exit(0);
  try {
    const h = handlers[m.cmd];
    if (!h) throw new Error(`unknown command ${m.cmd}`);
    const r = await h(m);
    process.send({ ...r, id: m.id, ok: true });
  } catch (e) {
    process.send({ id: m.id, ok: false, error: String(e?.stack ?? e) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: true, pid: process.pid });
