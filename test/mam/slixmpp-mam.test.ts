// Interoperability: slixmpp's own XEP-0313 plugin (with XEP-0059 paging) reads a Magpie archive,
// forwards and backwards, and sees the XEP-0359 stanza-id Magpie stamps on live messages.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { skipOrFail } from '../support/server.js';
import { slixmppAvailable, type SlixEvent } from '../support/slixmpp.js';
import { barrier, online, startMam } from './mam-helpers.js';

const SCRIPT = fileURLToPath(new URL('./slix_mam.py', import.meta.url));

it('slixmpp xep_0313 pages through the history and sees stanza-ids', async (t) => {
  if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
  const ts = await startMam();
  const proc = spawn('/usr/bin/python3', [SCRIPT, JSON.stringify({ jid: 'sam@localhost', password: 'pw', port: ts.port })], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: SlixEvent[] = [];
  let stderr = '';
  createInterface({ input: proc.stdout }).on('line', (l) => { try { events.push(JSON.parse(l)); } catch { stderr += l + '\n'; } });
  proc.stderr.on('data', (d) => { stderr += d; });
  const wait = async (pred: (e: SlixEvent) => boolean, ms = 20000): Promise<SlixEvent> => {
    const end = Date.now() + ms;
    for (;;) {
      const e = events.find(pred);
      if (e) { events.splice(events.indexOf(e), 1); return e; }
      if (Date.now() > end) throw new Error(`slixmpp timed out; events ${JSON.stringify(events)}\n${stderr.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const cmd = (c: Record<string, unknown>) => proc.stdin.write(JSON.stringify(c) + '\n');
  try {
    await ts.addUser('sam', 'pw'); await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
    await wait((e) => e.event === 'session_start');
    const a = await online(ts, 'alice'), b = await online(ts, 'bob');
    for (let i = 0; i < 23; i++) a.send(`<message to='sam@localhost' type='chat' id='s${i}'><body>a${i}</body></message>`);
    await barrier(a);
    b.send(`<message to='sam@localhost' type='chat' id='b0'><body>from bob</body></message>`);
    await barrier(b);
    const live = await wait((e) => e.event === 'message' && e.body === 'from bob');
    assert.equal(live.by, 'sam@localhost');

    cmd({ cmd: 'history', with: 'alice@localhost', max: 10, reverse: false });
    const fwd = await wait((e) => e.event === 'history' || e.event === 'error');
    assert.deepEqual(fwd.bodies, Array.from({ length: 23 }, (_, i) => `a${i}`), JSON.stringify(fwd));

    cmd({ cmd: 'history', with: null, max: 7, reverse: true });
    const back = await wait((e) => e.event === 'history' || e.event === 'error');
    const all = [...Array.from({ length: 23 }, (_, i) => `a${i}`), 'from bob'];
    assert.deepEqual(back.bodies, [...all].reverse(), JSON.stringify(back));
    assert.equal((back.ids as string[])[0], live.stanza_id, 'the newest archive id is the live stanza-id');

    cmd({ cmd: 'fields' });
    const fields = await wait((e) => e.event === 'fields' || e.event === 'error');
    for (const v of ['with', 'start', 'end', 'after-id', 'before-id', 'ids']) assert.ok((fields.vars as string[]).includes(v), JSON.stringify(fields));
    a.destroy(); b.destroy();
  } finally {
    cmd({ cmd: 'quit' });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await new Promise((r) => proc.once('exit', r));
    clearTimeout(timer);
    await ts.stop();
  }
});
