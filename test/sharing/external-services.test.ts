// External service discovery (XEP-0215): STUN/TURN services from the configuration, with
// TURN REST API credentials that a TURN server configured with the same secret accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startTestServer } from '../support/server.js';
import { online, iq, condition } from '../im/services-helpers.js';

const NS = 'urn:xmpp:extdisco:2';

test('services are listed, filtered by type, and TURN credentials are minted per user', async () => {
  const ts = await startTestServer({ modules: { options: { 'external-services': { services: [
    { type: 'stun', host: 'stun.example.org', port: 3478, transport: 'udp' },
    { type: 'turn', host: 'turn.example.org', port: 3478, transport: 'udp', secret: 'turn-secret', ttl: 600 },
    { type: 'turns', host: 'turn.example.org', port: 5349, transport: 'tcp', secret: 'turn-secret', restricted: true },
  ] } } } });
  try {
    await ts.addUser('alice', 'pw');
    const a = await online(ts, 'alice', 'pw');
    const info = await iq(a, "type='get' to='localhost'", "<query xmlns='http://jabber.org/protocol/disco#info'/>");
    assert.ok(info.getChild('query', 'http://jabber.org/protocol/disco#info')!.getChildren('feature').some((f) => f.attr('var') === NS));

    const all = (await iq(a, "type='get' to='localhost'", `<services xmlns='${NS}'/>`)).getChild('services', NS)!.getChildren('service');
    assert.deepEqual(all.map((s) => s.attr('type')), ['stun', 'turn', 'turns']);
    const turn = all[1]!;
    const [expiry, user] = turn.attr('username')!.split(':');
    assert.equal(user, 'alice@localhost');
    const ttl = Number(expiry) - Date.now() / 1000;
    assert.ok(ttl > 590 && ttl <= 601, `credentials live ~600 s (${ttl})`);
    assert.equal(turn.attr('password'), createHmac('sha1', 'turn-secret').update(turn.attr('username')!).digest('base64'));
    assert.equal(new Date(turn.attr('expires')!).getTime() / 1000, Number(expiry));
    assert.equal(all[0]!.attr('username'), undefined, 'STUN needs no credentials');
    assert.equal(all[2]!.attr('password'), undefined, 'restricted: credentials only on request');
    assert.equal(all[2]!.attr('restricted'), 'true');

    const only = (await iq(a, "type='get' to='localhost'", `<services xmlns='${NS}' type='stun'/>`)).getChild('services', NS)!;
    assert.deepEqual(only.getChildren('service').map((s) => s.attr('host')), ['stun.example.org']);

    const cred = await iq(a, "type='get' to='localhost'", `<credentials xmlns='${NS}'><service host='turn.example.org' type='turns'/></credentials>`);
    const c = cred.getChild('credentials', NS)!.getChild('service')!;
    assert.equal(c.attr('port'), '5349');
    assert.equal(c.attr('password'), createHmac('sha1', 'turn-secret').update(c.attr('username')!).digest('base64'));
    assert.equal(condition(await iq(a, "type='get' to='localhost'", `<credentials xmlns='${NS}'><service host='stun.example.org' type='stun'/></credentials>`)), 'item-not-found');
    assert.equal(condition(await iq(a, "type='get' to='localhost'", `<credentials xmlns='${NS}'/>`)), 'bad-request');
  } finally { await ts.stop(); }
});
