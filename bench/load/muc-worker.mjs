// Load-generator process for the MUC fan-out benchmark (bench/muc-fanout.mjs). Same IPC protocol
// as worker.mjs ({ id, cmd, ... } answered with { id, ok, ... }):
//
//   config  { host, port, domain, password }
//   join    { users, room, concurrency, plain }   log in each user and join `room` with its name as nick;
//                                          resolves once every self-presence (status 110) arrived
//   send    { room, count, window }        (one worker only) the first session sends `count`
//                                          groupchat messages, at most `window` not yet echoed back
//   snap    {}                             groupchat messages received so far (all sessions)
//   closeAll {}
//
// Receiving is counted on the decoded text (a marker in the body) so the generator stays cheap.

import { performance } from 'node:perf_hooks';
import { closeStream, login } from './xmpp.mjs';

let cfg = null;
const cache = new Map();
let held = [];
const st = { received: 0, joined: 0, errors: 0 };
const MARK = '<body>mf ';
const lanes = async (n, next, job) => {
  const run = async () => { for (let j = next(); j !== undefined; j = next()) await job(j); };
  await Promise.all(Array.from({ length: Math.max(1, n) }, run));
};

function onData(chunk) {
  const s = this._tail + chunk.toString('utf8');
  let n = 0;
  for (let i = s.indexOf(MARK); i !== -1; i = s.indexOf(MARK, i + MARK.length)) n++;
  if (n) { st.received += n; this._got += n; this._wake?.(); }
  if (!this._joined && /code=["']110["']/.test(s)) { this._joined = true; st.joined++; this._onJoin?.(); }
  if (/type=["']error["']/.test(s)) st.errors++;
  this._tail = s.slice(-MARK.length);
}

const handlers = {
  async config(m) { cfg = m; return {}; },

  async join({ users, room, concurrency, plain = false }) {
    let i = 0, failed = 0;
    const errors = [];
    await lanes(concurrency, () => (i < users.length ? users[i++] : undefined), async (username) => {
      try {
        const { sock } = await login({ host: cfg.host, port: cfg.port, domain: cfg.domain, username, password: cfg.password, cache, resource: 'bench' });
        sock._tail = ''; sock._got = 0; sock._joined = false;
        sock.on('data', onData);
        sock.on('error', () => { st.errors++; });
        held.push(sock);
        const joined = new Promise((resolve, reject) => {
          sock._onJoin = resolve;
          setTimeout(() => reject(new Error('no self-presence')), 120000).unref();
        });
        // `plain` (groupchat 1.0, no muc <x/>) creates an unlocked instant room for the first user.
        sock.write(plain ? `<presence to='${room}/${username}'/>` : `<presence to='${room}/${username}'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`);
        await joined;
      } catch (e) { failed++; if (errors.length < 5) errors.push(`${username}: ${String(e?.message ?? e).slice(0, 200)}`); }
    });
    return { joined: st.joined, failed, errors };
  },

  async send({ room, count, window }) {
    const sock = held[0];
    const base = sock._got;
    const t0 = performance.now();
    for (let sent = 0; sent < count; sent++) {
      while (sent - (sock._got - base) >= window) await new Promise((r) => { sock._wake = r; });
      sock.write(`<message to='${room}' type='groupchat' id='m${sent}'><body>mf ${sent} ${'x'.repeat(80)}</body></message>`);
    }
    while (sock._got - base < count) await new Promise((r) => { sock._wake = r; });
    return { ms: performance.now() - t0 };
  },

  async snap() { return { ...st, cpu: process.cpuUsage() }; },

  async closeAll() { for (const s of held) closeStream(s, 1000); held = []; return {}; },
};

process.on('message', async (m) => {
  if (m?.cmd === 'exit') process.exit(0);
  const h = handlers[m?.cmd];
  if (!h) { process.send({ id: m?.id, ok: false, error: `unknown command ${m?.cmd}` }); return; }
  try { process.send({ id: m.id, ok: true, ...(await h(m)) }); } catch (e) { process.send({ id: m.id, ok: false, error: String(e?.message ?? e) }); }
});
process.send({ ready: true });
