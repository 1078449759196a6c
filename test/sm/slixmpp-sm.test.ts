// Interoperability: slixmpp's XEP-0198 plugin against Magpie over TCP with STARTTLS. It enables
// resumable SM, exchanges messages with a raw client, its <r/> is answered, the server's <r/>
// gets its <a/> (the server's queue empties), and after an aborted connection it resumes and
// receives what was sent meanwhile.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { login, take, byId, chat } from '../im/roster-helpers.js';
import { sessionOf, waitFor } from './sm-helpers.js';

const SCRIPT = fileURLToPath(new URL('../support/slix_sm.py', import.meta.url));

describe('slixmpp xep_0198 interop', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ modules: { options: { 'stream-management': { requestAfter: 2, requestIntervalSeconds: 1 } } } });
    await ts.addUser('slix', 'pw'); await ts.addUser('raw', 'pw');
  });
  after(async () => { await ts.stop(); });

  it('enables SM, exchanges messages, answers and gets acks, resumes after a dropped connection', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const slix = new SlixClient({ jid: 'slix@localhost/sm', password: 'pw', port: ts.port, window: 2 }, SCRIPT);
    try {
      const enabled = await slix.waitFor((e) => e.event === 'sm_enabled');
      assert.equal(enabled.resume, true);
      await slix.waitFor((e) => e.event === 'session_start');
      const jid = 'slix@localhost/sm';
      await waitFor(() => !!sessionOf(ts, jid)?.data.get('stream-management'), 'SM state on the server');
      const raw = await login(ts, 'raw', 'pc');
      raw.send('<presence/>');
      // slixmpp -> raw: with window 2 slixmpp sends <r/> after every second stanza; answered.
      let mark = slix.mark();
      slix.command({ cmd: 'send', to: 'raw@localhost/pc', body: 'hello raw' });
      slix.command({ cmd: 'request_ack' });
      // Its presence and the message are handled: an <a/> reaches h >= 2 (acks are cumulative).
      await slix.waitFor((e) => e.event === 'server_ack' && Number(e.h) >= 2, 15000, mark);
      await take(raw, (e) => e.name === 'message' && e.getChildText('body') === 'hello raw');
      // raw -> slixmpp: the server requests acks after 2 (and every second while any is unacked); slixmpp's answers empty the queue.
      for (let i = 1; i <= 4; i++) raw.send(chat(jid, `s${i}`));
      await slix.waitFor((e) => e.event === 'message' && e.id === 's4', 15000, mark);
      const q = (sessionOf(ts, jid)!.data.get('stream-management') as { queue: { length: number } }).queue;
      await waitFor(() => q.length === 0, `acked by slixmpp (${q.length} left)`, 15000);
      // Drop the TCP connection; messages sent meanwhile arrive after slixmpp resumes.
      mark = slix.mark();
      slix.command({ cmd: 'drop' });
      const session = sessionOf(ts, jid)!;
      await waitFor(() => session.suspended, 'suspended', 15000);
      raw.send(chat(jid, 'while-away'));
      await slix.waitFor((e) => e.event === 'resumed', 20000, mark);
      const m = await slix.waitFor((e) => e.event === 'message' && e.id === 'while-away', 15000, mark);
      assert.equal(m.body, 'while-away');
      assert.equal(sessionOf(ts, jid), session, 'the same session');
      assert.equal(slix.events.filter((e) => e.event === 'message' && e.id === 'while-away').length, 1);
      raw.close();
    } finally { await slix.quit(); }
  });
});
