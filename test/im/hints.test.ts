// Message processing hints (XEP-0334) end to end where Magpie honours them outside carbons
// (test/im/carbons.test.ts covers <no-copy/>): offline storage keeps a headline only when it
// carries <store/> (§4.4), never with <no-store/> (§4.2); <no-permanent-store/> (§4.1) does not
// stop offline storage, which is temporary.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../support/server.js';
import { login, take, iq, byId, none } from './roster-helpers.js';

const HINTS = 'urn:xmpp:hints';

it('offline storage: headline with <store/> is kept and delivered later; without it, or with no-store, it is dropped', async () => {
  const ts = await startTestServer();
  try {
    await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
    const a = await login(ts, 'alice', 'a');
    a.send(`<message to='bob@localhost' type='headline' id='h-store'><body>keep</body><store xmlns='${HINTS}'/></message>`);
    a.send(`<message to='bob@localhost' type='headline' id='h-plain'><body>drop</body></message>`);
    a.send(`<message to='bob@localhost' type='headline' id='h-nostore'><body>drop</body><store xmlns='${HINTS}'/><no-store xmlns='${HINTS}'/></message>`);
    a.send(`<message to='bob@localhost' type='chat' id='otr'><body>temp</body><no-permanent-store xmlns='${HINTS}'/></message>`);
    await iq(a, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');
    await none(a, (e) => e.attr('type') === 'error', 'an error for a headline', 200);
    assert.equal(await ts.server.storage.archive.count('localhost', 'bob', 'offline'), 2);
    const b = await login(ts, 'bob', 'b');
    b.send('<presence/>');
    const kept = await take(b, byId('h-store'), 'the stored headline');
    assert.equal(kept.attr('type'), 'headline');
    assert.ok(kept.getChild('delay', 'urn:xmpp:delay'), 'delivered from storage with a delay stamp');
    await take(b, byId('otr'), 'no-permanent-store is stored offline');
    await none(b, (e) => e.attr('id') === 'h-plain' || e.attr('id') === 'h-nostore', 'a headline that should have been dropped');
    a.destroy(); b.destroy();
  } finally { await ts.stop(); }
});
