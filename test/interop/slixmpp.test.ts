// Interoperability with slixmpp (Debian's python3-slixmpp): logins over STARTTLS and direct TLS
// with SCRAM-SHA-1, SCRAM-SHA-256 and its default choice (SCRAM-SHA-512-PLUS with tls-unique),
// two resources of one account, and messages both ways with a client of ours.
// slixmpp sends the GS2 'y' flag whenever TLS gives it binding data and it uses a non-PLUS
// mechanism; RFC 5802 §6 makes that a failure where the server advertises -PLUS. So forced
// non-PLUS logins run against a host configured without -PLUS mechanisms (`plain`), the
// default choice against the default configuration (`ts`).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';

describe('slixmpp interoperability', () => {
  let ts: TestServer; let plain: TestServer;
  const available = slixmppAvailable();
  before(async () => {
    ts = await startTestServer();
    plain = await startTestServer({ hosts: [{ domain: 'localhost', auth: { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-1'] } }] });
    for (const s of [ts, plain]) { await s.addUser('juliet', 'r0meo!'); await s.addUser('romeo', 'jul1et?'); }
  });
  after(async () => { await ts.stop(); await plain.stop(); });

  for (const direct of [false, true]) {
    for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256', undefined]) {
      it(`logs in over ${direct ? 'direct TLS' : 'STARTTLS'} with ${mechanism ?? 'its default mechanism'}`, async (t) => {
        if (!available) return skipOrFail(t, 'python3-slixmpp is not installed (apt-get install python3-slixmpp)');
        const srv = mechanism ? plain : ts;
        const c = new SlixClient({ jid: `juliet@localhost/${direct ? 'd' : 's'}-${mechanism ?? 'default'}`, password: 'r0meo!', port: direct ? srv.tlsPort : srv.port, direct_tls: direct, mechanism });
        try {
          const s = await c.waitFor((e) => e.event === 'session_start' || e.event === 'failed_auth');
          assert.equal(s.event, 'session_start');
          assert.equal(s.jid, `juliet@localhost/${direct ? 'd' : 's'}-${mechanism ?? 'default'}`);
          assert.equal(s.mechanism, mechanism ?? 'SCRAM-SHA-512-PLUS');
        } finally { await c.quit(); }
      });
    }
  }

  it('two slixmpp resources of one account and a raw client exchange messages through Magpie', async (t) => {
    if (!available) return skipOrFail(t, 'python3-slixmpp is not installed');
    const j1 = new SlixClient({ jid: 'juliet@localhost/balcony', password: 'r0meo!', port: plain.port, mechanism: 'SCRAM-SHA-256' });
    const j2 = new SlixClient({ jid: 'juliet@localhost/garden', password: 'r0meo!', port: plain.tlsPort, direct_tls: true, mechanism: 'SCRAM-SHA-1' });
    const romeo = await RawClient.connect(plain.port);
    try {
      await j1.waitFor((e) => e.event === 'session_start');
      await j2.waitFor((e) => e.event === 'session_start');
      await romeo.login('romeo', 'jul1et?', { starttls: true, resource: 'street' });
      j1.command({ cmd: 'send', to: 'juliet@localhost/garden', body: 'from the balcony' });
      const m1 = await j2.waitFor((e) => e.event === 'message' && e.body === 'from the balcony');
      assert.equal(m1.frm, 'juliet@localhost/balcony');
      j2.command({ cmd: 'send', to: 'romeo@localhost/street', body: 'wherefore art thou ☀' });
      const m2 = await romeo.next((e) => e.name === 'message');
      assert.equal(m2.attr('from'), 'juliet@localhost/garden');
      assert.equal(m2.getChildText('body'), 'wherefore art thou ☀');
      romeo.send(`<message to='juliet@localhost/balcony' type='chat'><body>here &lt;3</body></message>`);
      const m3 = await j1.waitFor((e) => e.event === 'message' && e.body === 'here <3');
      assert.equal(m3.frm, 'romeo@localhost/street');
    } finally { await j1.quit(); await j2.quit(); romeo.destroy(); }
  });

  it('a wrong password fails cleanly', async (t) => {
    if (!available) return skipOrFail(t, 'python3-slixmpp is not installed');
    const c = new SlixClient({ jid: 'juliet@localhost/x', password: 'wrong', port: ts.port });
    try { assert.equal((await c.waitFor((e) => e.event === 'failed_auth' || e.event === 'session_start')).event, 'failed_auth'); } finally { await c.quit(); }
  });
});
