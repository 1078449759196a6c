// Push notifications (XEP-0357): a client enables an app server; a message that arrives while
// the account is offline, or while the device's stream is suspended by XEP-0198, becomes a
// pubsub publish to the app server with the summary form and the client's publish-options;
// publish errors disable the registration. The app server is an external component (XEP-0114)
// on a real socket that records publishes and answers them (./app-server.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { online, iq, condition } from '../im/services-helpers.js';
import { chat, sleep } from '../im/roster-helpers.js';
import { smLogin, waitFor } from '../sm/sm-helpers.js';
import { AppServer, appServerConfig, startAppServer } from './app-server.js';

const PUSH = 'urn:xmpp:push:0';
const enable = (jid: string, node: string, secret?: string): string => `<enable xmlns='${PUSH}' jid='${jid}' node='${node}'>${secret ? `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='secret'><value>${secret}</value></field></x>` : ''}</enable>`;

function summary(pub: Element): Record<string, string | undefined> {
  const form = pub.getChild('pubsub', 'http://jabber.org/protocol/pubsub')!.getChild('publish')!.getChild('item')!.getChild('notification', PUSH)!.getChild('x', 'jabber:x:data')!;
  return Object.fromEntries(form.getChildren('field').map((f) => [f.attr('var')!, f.getChildText('value')]));
}

async function setup(options: Record<string, unknown> = {}): Promise<{ ts: TestServer; app: AppServer }> {
  const ts = await startTestServer({ ...appServerConfig, modules: { options: { push: options } } });
  for (const u of ['alice', 'bob']) await ts.addUser(u, 'pw');
  return { ts, app: await startAppServer(ts) };
}

test('a message for an offline account is pushed to the enabled app server with its publish-options', async () => {
  const { ts, app } = await setup({ includeSender: true, includeBody: true, bodyMaxChars: 5 });
  try {
    const phone = await online(ts, 'alice', 'pw', 'phone');
    const info = await iq(phone, "type='get' to='alice@localhost'", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    assert.ok(info.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').some((f) => f.attr('var') === PUSH));
    assert.equal((await iq(phone, "type='set'", enable(app.jid, 'node-1', 's3cr3t'))).attr('type'), 'result');
    phone.send('</stream:stream>');
    await phone.closedPromise;

    const bob = await online(ts, 'bob', 'pw');
    bob.send(chat('alice@localhost', 'm1', 'hello there'));
    const pub = await app.nextPublish();
    assert.equal(pub.attr('from'), 'alice@localhost', 'published from the user\'s bare JID');
    assert.equal(pub.getChild('pubsub', 'http://jabber.org/protocol/pubsub')!.getChild('publish')!.attr('node'), 'node-1');
    assert.deepEqual(summary(pub), { FORM_TYPE: 'urn:xmpp:push:summary', 'message-count': '1', 'last-message-sender': 'bob@localhost', 'last-message-body': 'hello' });
    const opts = pub.getChild('pubsub', 'http://jabber.org/protocol/pubsub')!.getChild('publish-options')!.getChild('x', 'jabber:x:data')!;
    assert.equal(opts.getChildren('field').find((f) => f.attr('var') === 'secret')?.getChildText('value'), 's3cr3t');

    bob.send(chat('alice@localhost', 'm2', 'again'));
    assert.equal(summary(await app.nextPublish())['message-count'], '2', 'the count grows until the user is back');
    bob.send("<message to='alice@localhost' type='chat' id='cs'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>");
    await sleep(300);
    assert.equal(app.publishes.length, 2, 'a chat state alone wakes nobody');
  } finally { await app.close(); await ts.stop(); }
});

test('by default the summary has the count only, and disable stops notifications', async () => {
  const { ts, app } = await setup();
  try {
    const phone = await online(ts, 'alice', 'pw', 'phone');
    await iq(phone, "type='set'", enable(app.jid, 'n1'));
    await iq(phone, "type='set'", enable(app.jid, 'n2'));
    phone.send('</stream:stream>');
    await phone.closedPromise;
    const bob = await online(ts, 'bob', 'pw');
    bob.send(chat('alice@localhost', 'm1', 'secret text'));
    const nodes = new Set([(await app.nextPublish()), (await app.nextPublish())].map((p) => p.getChild('pubsub', 'http://jabber.org/protocol/pubsub')!.getChild('publish')!.attr('node')));
    assert.deepEqual([...nodes].sort(), ['n1', 'n2'], 'one publish per enabled node');
    assert.deepEqual(summary(app.publishes[0]!), { FORM_TYPE: 'urn:xmpp:push:summary', 'message-count': '1' }, 'no sender, no body by default');

    const again = await online(ts, 'alice', 'pw', 'phone');
    assert.equal((await iq(again, "type='set'", `<disable xmlns='${PUSH}' jid='${app.jid}' node='n1'/>`)).attr('type'), 'result');
    again.send('</stream:stream>');
    await again.closedPromise;
    bob.send(chat('alice@localhost', 'm2'));
    const p = await app.nextPublish();
    assert.equal(p.getChild('pubsub', 'http://jabber.org/protocol/pubsub')!.getChild('publish')!.attr('node'), 'n2');
    await sleep(300);
    assert.equal(app.publishes.length, 3, 'n1 is disabled');
  } finally { await app.close(); await ts.stop(); }
});

test('a message queued for a session suspended by stream management is pushed for that device', async () => {
  const { ts, app } = await setup();
  try {
    const { c: phone, jid } = await smLogin(ts, 'alice', 'phone', { resume: true });
    await iq(phone, "type='set'", enable(app.jid, 'phone-node'));
    const desk = await online(ts, 'alice', 'pw', 'desk');
    desk.send('<presence/>');
    phone.destroy();
    await waitFor(() => ts.server.sessions.get(jid)?.suspended === true, 'the phone session to be suspended');
    const bob = await online(ts, 'bob', 'pw');
    bob.send(chat(jid, 'to-phone', 'are you there?'));
    const pub = await app.nextPublish();
    assert.equal(pub.getChild('pubsub', 'http://jabber.org/protocol/pubsub')!.getChild('publish')!.attr('node'), 'phone-node');
    bob.send(chat('alice@localhost/desk', 'to-desk'));
    await desk.next((e) => e.attr('id') === 'to-desk');
    await sleep(300);
    assert.equal(app.publishes.length, 1, 'a message for the connected desk resource wakes no phone');
  } finally { await app.close(); await ts.stop(); }
});

test('a publish error disables the registration; errors and limits on enable', async () => {
  const { ts, app } = await setup({ maxRegistrations: 2 });
  try {
    const phone = await online(ts, 'alice', 'pw', 'phone');
    assert.equal(condition(await iq(phone, "type='set'", `<enable xmlns='${PUSH}' node='x'/>`)), 'bad-request', 'jid is required');
    assert.equal(condition(await iq(phone, "type='set'", `<enable xmlns='${PUSH}' jid='${app.jid}' node='x'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x></enable>`)), 'bad-request', 'wrong form type');
    assert.equal(condition(await iq(phone, "type='set' to='bob@localhost'", enable(app.jid, 'x'))), 'forbidden', 'another account');
    await iq(phone, "type='set'", enable(app.jid, 'a'));
    await iq(phone, "type='set'", enable(app.jid, 'b'));
    assert.equal(condition(await iq(phone, "type='set'", enable(app.jid, 'c'))), 'not-allowed', 'registration limit');
    assert.equal((await iq(phone, "type='set'", enable(app.jid, 'b', 'new-secret'))).attr('type'), 'result', 're-enabling replaces');
    phone.send('</stream:stream>');
    await phone.closedPromise;

    app.failNodes.add('a');
    const bob = await online(ts, 'bob', 'pw');
    bob.send(chat('alice@localhost', 'm1'));
    await app.nextPublish(); await app.nextPublish();
    await sleep(300);
    bob.send(chat('alice@localhost', 'm2'));
    const p = await app.nextPublish();
    assert.equal(p.getChild('pubsub', 'http://jabber.org/protocol/pubsub')!.getChild('publish')!.attr('node'), 'b');
    await sleep(300);
    assert.equal(app.publishes.length, 3, 'node a was disabled by its item-not-found error');
  } finally { await app.close(); await ts.stop(); }
});
