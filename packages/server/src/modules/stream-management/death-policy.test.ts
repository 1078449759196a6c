import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseFragment } from '@magpie/core/xml/parser';
import type { Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import type { StanzaError } from '@magpie/core/protocol/errors';
import type { ClientSession } from '../../session/session.js';
import type { ModuleApi } from '../module.js';
import { handleUnacked } from './death-policy.js';
import { SharedState } from '../../session/shared-state.js';

const DELAY = 'urn:xmpp:delay';
const ME = JID.parse('me@localhost/phone');

function fakeSession(jid: JID, opts: { presence?: boolean; priority?: number } = {}): ClientSession & { got: Element[] } {
  const got: Element[] = [];
  return { kind: 'c2s', id: jid.toString(), jid, host: jid.domain, username: jid.local, priority: opts.priority ?? 0,
    presence: opts.presence ? parseFragment('<presence/>') : undefined, interested: false, secure: false, remoteAddress: '127.0.0.1',
    log: undefined as never, data: new Map(), shared: new SharedState(), connectedAt: 0, closed: false, suspended: false, got,
    send: (s: Element) => { got.push(s); }, close: () => {} };
}

function fakeApi(others: ClientSession[], offline: boolean) {
  const stored: Element[] = [];
  const bounced: { id?: string; condition: string }[] = [];
  const api = {
    sessions: { resources: () => others },
    fire: async (name: string, ev: { stanza: Element }) => { if (name === 'deliver/refuse') return undefined; assert.equal(name, 'message/offline'); if (!offline) return undefined; stored.push(ev.stanza); return true; },
    bounce: (ev: { stanza: Element }, err: StanzaError) => { bounced.push({ id: ev.stanza.attrs.id, condition: err.condition }); },
    log: { error: () => {} },
  } as unknown as ModuleApi<unknown>;
  return { api, stored, bounced };
}

const items = (...xml: string[]) => xml.map((x, i) => ({ stanza: parseFragment(x), when: Date.UTC(2020, 0, 1, 0, 0, i) }));
const MIX = items(
  `<message from='a@x/1' to='me@localhost/phone' type='chat' id='c'><body>hi</body></message>`,
  `<message from='a@x/1' to='me@localhost/phone' id='n'><body>normal</body></message>`,
  `<message from='a@x/1' to='me@localhost/phone' type='chat' id='cs'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
  `<message from='room@muc/a' to='me@localhost/phone' type='groupchat' id='g'><body>g</body></message>`,
  `<message from='news@x' to='me@localhost/phone' type='headline' id='h'><body>h</body></message>`,
  `<message from='a@x/1' to='me@localhost/phone' type='error' id='e'/>`,
  `<iq from='a@x/1' to='me@localhost/phone' type='get' id='q'><query xmlns='jabber:iq:version'/></iq>`,
  `<iq from='a@x/1' to='me@localhost/phone' type='result' id='r'/>`,
  `<presence from='a@x/1' to='me@localhost/phone'/>`,
  `<message to='me@localhost/phone' type='chat' id='nofrom'><body>?</body></message>`,
);

describe('death policy for unacknowledged stanzas', () => {
  it('stores chat/normal with a body offline, bounces the rest as fits, never answers errors', async () => {
    const { api, stored, bounced } = fakeApi([], true);
    const n = await handleUnacked(api, fakeSession(ME), MIX);
    assert.deepEqual(stored.map((s) => s.attrs.id), ['c', 'n']);
    assert.deepEqual(bounced, [
      { id: 'cs', condition: 'recipient-unavailable' }, { id: 'g', condition: 'recipient-unavailable' },
      { id: 'q', condition: 'service-unavailable' }]);
    assert.deepEqual(n, { rerouted: 0, offline: 2, bounced: 3, dropped: 5 });
  });

  it('re-routes to another available resource, with the original time as a delay', async () => {
    const other = fakeSession(JID.parse('me@localhost/desk'), { presence: true });
    const negative = fakeSession(JID.parse('me@localhost/bot'), { presence: true, priority: -1 });
    const me = fakeSession(ME, { presence: true });
    const { api, stored } = fakeApi([me, other, negative], true);
    await handleUnacked(api, me, MIX.slice(0, 2));
    assert.equal(stored.length, 0);
    assert.deepEqual(other.got.map((s) => s.attrs.id), ['c', 'n']);
    assert.equal(negative.got.length, 0, 'never to a negative priority');
    assert.equal(me.got.length, 0, 'never back to the dead session');
    assert.equal(other.got[0]!.getChild('delay', DELAY)?.attrs.stamp, '2020-01-01T00:00:00.000Z');
    assert.equal(MIX[0]!.stanza.getChild('delay', DELAY), undefined, 'the queued stanza is not modified');
  });

  it('bounces with service-unavailable when offline storage refuses', async () => {
    const { api, bounced } = fakeApi([], false);
    await handleUnacked(api, fakeSession(ME), MIX.slice(0, 1));
    assert.deepEqual(bounced, [{ id: 'c', condition: 'service-unavailable' }]);
  });

  it('once a message went to offline storage, the later ones follow it even if a resource comes online meanwhile (order)', async () => {
    const others: ClientSession[] = [];
    const { api, stored } = fakeApi(others, true);
    const late = fakeSession(JID.parse('me@localhost/desk'), { presence: true });
    // The desk resource becomes available while the first message is being stored.
    const fire = (api as unknown as { fire: (n: string, ev: { stanza: Element }) => Promise<unknown> }).fire;
    (api as unknown as { fire: typeof fire }).fire = async (n, ev) => { const r = await fire(n, ev); others.push(late); return r; };
    await handleUnacked(api, fakeSession(ME), MIX.slice(0, 2));
    assert.deepEqual(stored.map((s) => s.attrs.id), ['c', 'n'], 'both stored, in order');
    assert.equal(late.got.length, 0, 'the later one did not overtake the stored one');
  });
});
