// Load-generator process for the presence-heavy login scenario (bench/scenarios/presence.mjs).
// Same IPC protocol as worker.mjs ({ id, cmd, ... } answered with { id, ok, ... }), own commands:
//
//   config     { name, host, port, domain, password }   target server (SCRAM cache kept per name)
//   warm       { users, concurrency }                    log in + close once per account (fills the
//                                                        SaltedPassword cache; no presence sent)
//   online     { users, concurrency, resource }          log in, send <presence/> right after bind,
//                                                        keep the session and record every presence
//   snap       {}                                        counters + this process's CPU time
//   check      { total, half }                           contacts (user i±1..i±half modulo total)
//                                                        from whom no available presence was seen
//   closeAll   { graceMs }                               close every held session
//
// Incoming presence is parsed per session from the decoded text (open tag + optional body up to
// </presence>); a contact counts as "seen" when an available presence (no type attribute) from
// its bare JID arrived.

import { performance } from 'node:perf_hooks';
import { closeStream, login } from './xmpp.mjs';

let cfg = null;
const caches = new Map();
let cache = new Map();
let held = [];
const st = { presences: 0, available: 0, unavailable: 0, selfPresences: 0, errs: 0, pings: 0, closed: 0, sockErrors: 0 };

const errText = (e) => String(e?.message ?? e).slice(0, 300);
const RE_FROM = /\bfrom=(['"])([^'"]*)\1/;
const RE_TYPE = /\btype=(['"])([^'"]*)\1/;
const RE_PING = /<iq\b[^>]*?\bid=(['"])([^'"]*)\1[^>]*>\s*<ping xmlns=['"]urn:xmpp:ping['"]/;

async function lanes(n, next, job) {
  const run = async () => { for (let j = next(); j !== undefined; j = next()) await job(j); };
  await Promise.all(Array.from({ length: Math.max(1, n) }, run));
}

function base(username) {
  return { host: cfg.host, port: cfg.port, domain: cfg.domain, username, password: cfg.password, cache, timeoutMs: cfg.timeoutMs ?? 30000 };
}

function onPresence(sock, tag) {
  st.presences++;
  const from = RE_FROM.exec(tag)?.[2];
  const type = RE_TYPE.exec(tag)?.[2];
  const bare = from ? from.split('/')[0] : '';
  if (bare === sock._bare) { st.selfPresences++; return; }
  if (type === undefined) { st.available++; if (bare) sock._seen.add(bare); }
  else if (type === 'unavailable') st.unavailable++;
  else if (type === 'error') st.errs++;
}

function onData(chunk) {
  let s = this._buf + chunk;
  if (s.indexOf('urn:xmpp:ping') !== -1) {
    const m = RE_PING.exec(s);
    if (m && !/type=['"]result/.test(m[0])) { st.pings++; this.write(`<iq type='result' id='${m[2]}'/>`); }
  }
  if (s.indexOf("type='error'") !== -1 && s.indexOf('<presence') === -1) st.errs++;
  // Extract complete <presence> elements; keep an incomplete one for the next chunk.
  let pos = 0;
  for (let guard = 0; guard < 100000; guard++) {
    const i = s.indexOf('<presence', pos);
    if (i === -1) { pos = Math.max(pos, s.length - 9); break; }
    const gt = s.indexOf('>', i);
    if (gt === -1) { pos = i; break; }
    const openTag = s.slice(i, gt + 1);
    if (openTag.endsWith('/>')) { onPresence(this, openTag); pos = gt + 1; continue; }
    const end = s.indexOf('</presence>', gt);
    if (end === -1) { pos = i; break; }
    onPresence(this, openTag);
    pos = end + 11;
  }
  this._buf = s.slice(pos);
}
function onClose() { st.closed++; }
function onError() { st.sockErrors++; }

const handlers = {
  async config(m) {
    cfg = { host: m.host, port: m.port, domain: m.domain, password: m.password, timeoutMs: m.timeoutMs };
    if (!caches.has(m.name)) caches.set(m.name, new Map());
    cache = caches.get(m.name);
    return {};
  },

  async warm({ users, concurrency }) {
    let i = 0, done = 0, failed = 0;
    const errors = [];
    await lanes(concurrency, () => (i < users.length ? users[i++] : undefined), async (username) => {
      try { const { sock } = await login({ ...base(username), resource: `W${process.pid}` }); done++; closeStream(sock); }
      catch (e) { failed++; if (errors.length < 5) errors.push(`${username}: ${errText(e)}`); }
    });
    return { done, failed, errors };
  },

  async online({ users, concurrency, resource }) {
    let i = 0, connected = 0, failed = 0, firstStart = null, lastPresence = null;
    const errors = [];
    await lanes(concurrency, () => (i < users.length ? users[i++] : undefined), async (username) => {
      try {
        if (firstStart === null) firstStart = performance.timeOrigin + performance.now();
        const { sock, jid, rest } = await login({ ...base(username), resource });
        sock._user = username;
        sock._bare = `${username}@${cfg.domain}`;
        sock._jid = jid;
        sock._seen = new Set();
        sock._buf = '';
        sock.on('data', onData);
        sock.on('close', onClose);
        sock.on('error', onError);
        held.push(sock);
        sock.write('<presence/>');
        lastPresence = performance.timeOrigin + performance.now();
        connected++;
        if (rest) onData.call(sock, rest);
      } catch (e) {
        failed++;
        if (errors.length < 5) errors.push(`${username}: ${errText(e)}`);
      }
    });
    return { connected, failed, errors, firstStart, lastPresence };
  },

  async snap() {
    return { ...st, held: held.length, open: held.reduce((a, s) => a + (s.destroyed ? 0 : 1), 0), cpu: process.cpuUsage(), mem: process.memoryUsage().rss };
  },

  async check({ total, half }) {
    let missing = 0, sessions = 0, expected = 0, complete = 0;
    const examples = [];
    for (const s of held) {
      if (s.destroyed) continue;
      const i = Number(s._user.slice(4));
      const want = [];
      for (let d = 1; d <= half; d++) want.push(`user${((i - 1 + d) % total) + 1}`, `user${((i - 1 - d + total) % total) + 1}`);
      sessions++;
      let miss = 0;
      for (const c of want) {
        expected++;
        if (!s._seen.has(`${c}@${cfg.domain}`)) { miss++; if (examples.length < 5) examples.push(`${s._user} <- ${c}`); }
      }
      missing += miss;
      if (!miss) complete++;
    }
    return { missing, sessions, expected, complete, examples };
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
    for (const k of Object.keys(st)) st[k] = 0;
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
