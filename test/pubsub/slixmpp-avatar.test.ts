// A third-party client's PEP avatar (slixmpp's xep_0163/xep_0084 plugins, Debian's
// python3-slixmpp) reaches its subscribed contact (a raw client announcing +notify), and a
// raw client's avatar reaches slixmpp, whose caps carry the +notify it registered: "PEP avatar
// published by one client reaches its subscribed contacts".
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import { SlixClient, slixmppAvailable } from '../support/slixmpp.js';
import { befriend, login } from '../im/roster-helpers.js';
import { EVENT, online, publish, takeEvent } from './pubsub-helpers.js';

const SCRIPT = fileURLToPath(new URL('../support/slix_pep.py', import.meta.url));
const META = 'urn:xmpp:avatar:metadata';
const DATA = 'urn:xmpp:avatar:data';
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

describe('PEP avatars with slixmpp', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
    await ts.addUser('py', 'pw');
    await ts.addUser('raw', 'pw');
    await befriend(ts, 'py', 'raw');
  });
  after(async () => { await ts.stop(); });

  it('slixmpp publishes an avatar; its contact receives the metadata notification', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const raw = await online(ts, 'raw', 'r', [META]);
    const s = new SlixClient({ jid: 'py@localhost/slix', password: 'pw', port: ts.port }, SCRIPT);
    try {
      await s.waitFor((e) => e.event === 'session_start');
      s.command({ cmd: 'publish_avatar', data_b64: PNG.toString('base64'), type: 'image/png' });
      const done = await s.waitFor((e) => e.event === 'avatar_published' || e.event === 'error');
      assert.equal(done.event, 'avatar_published', JSON.stringify(done));
      const id = createHash('sha1').update(PNG).digest('hex');
      assert.equal(done.id, id);
      const ev = await takeEvent(raw, META, 'items', 'py@localhost');
      const item = ev.getChild('event', EVENT)!.getChild('items')!.getChild('item')!;
      assert.equal(item.attr('id'), id);
      assert.equal(item.getChild('metadata', META)!.getChild('info', META)!.attr('type'), 'image/png');
    } finally { await s.quit(); raw.destroy(); }
  });

  it('slixmpp, announcing +notify through its caps, receives a contact\'s avatar', async (t) => {
    if (!slixmppAvailable()) return skipOrFail(t, 'python3-slixmpp is not installed');
    const s = new SlixClient({ jid: 'py@localhost/slix2', password: 'pw', port: ts.port }, SCRIPT);
    const raw = await login(ts, 'raw', 'pub');
    try {
      await s.waitFor((e) => e.event === 'session_start');
      s.command({ cmd: 'presence' });
      await s.waitFor((e) => e.event === 'presence_sent');
      // The server learns slixmpp's +notify once it has asked for and verified its caps; until
      // then nothing is sent to it, so publish again (the same item) until it hears of it.
      const id = 'a'.repeat(40);
      await publish(raw, DATA, `<data xmlns='${DATA}'>${PNG.toString('base64')}</data>`, id);
      let got: Awaited<ReturnType<typeof s.waitFor>> | undefined;
      for (let i = 0; i < 15 && !got; i++) {
        const r = await publish(raw, META, `<metadata xmlns='${META}'><info id='${id}' bytes='${PNG.length}' type='image/png'/></metadata>`, id);
        assert.equal(r.attr('type'), 'result');
        got = await s.waitFor((e) => e.event === 'avatar_metadata' && e.frm === 'raw@localhost', 1000).catch(() => undefined);
      }
      assert.ok(got, 'slixmpp received the avatar metadata');
      assert.equal(got.id, id);
    } finally { await s.quit(); raw.destroy(); }
  });
});
