// Router unit tests with a fake session: push a stanza in, assert what comes out.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { xml, type Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { StanzaError } from '@magpie/core/protocol/errors';
import { HookBus } from '../hooks/bus.js';
import { Router } from './router.js';
import { silentLogger } from '../log/logger.js';
import type { ClientSession } from '../session/session.js';

function setup() {
  const hooks = new HookBus();
  const router = new Router({ hooks, log: silentLogger(), isLocalHost: (d) => d === 'example.org' });
  const out: Element[] = [];
  const jid = JID.parse('alice@example.org/home');
  const session = { kind: 'c2s', jid, send: (el: Element) => out.push(el) } as unknown as ClientSession;
  const route = (el: Element) => { el.attrs.from = jid.toString(); return router.route(el, { kind: 'c2s', session }, jid, el.attrs.to ? JID.parse(el.attrs.to) : undefined, session); };
  const cond = (el: Element) => el.getChild('error')?.elements()[0]?.name;
  return { hooks, router, out, route, cond };
}

it('dispatches iq get/set to registered handlers and returns their payload', async () => {
  const { router, out, route } = setup();
  router.iq.add({ type: 'get', scope: 'host', xmlns: 'urn:x', name: 'q' }, () => xml('q', 'urn:x', { ok: 'yes' }));
  await route(xml('iq', 'jabber:client', { type: 'get', id: '1', to: 'example.org' }, xml('q', 'urn:x')));
  assert.equal(out[0]!.attrs.type, 'result');
  assert.equal(out[0]!.attrs.id, '1');
  assert.equal(out[0]!.attrs.from, 'example.org');
  assert.equal(out[0]!.attrs.to, 'alice@example.org/home');
  assert.equal(out[0]!.getChild('q', 'urn:x')?.attrs.ok, 'yes');
});

it('unhandled iq → service-unavailable; a thrown StanzaError is returned; another exception → internal-server-error', async () => {
  const { router, out, route, cond } = setup();
  await route(xml('iq', 'jabber:client', { type: 'get', id: '1', to: 'example.org' }, xml('q', 'urn:none')));
  assert.equal(cond(out[0]!), 'service-unavailable');
  router.iq.add({ type: 'set', scope: 'bare', xmlns: 'urn:x', name: 'q' }, () => { throw new StanzaError('not-allowed'); });
  await route(xml('iq', 'jabber:client', { type: 'set', id: '2' }, xml('q', 'urn:x')));
  assert.equal(cond(out[1]!), 'not-allowed');
  assert.equal(out[1]!.attrs.from, 'alice@example.org', 'an iq without to is answered by the account');
  router.iq.add({ type: 'get', scope: 'bare', xmlns: 'urn:x', name: 'q' }, () => { throw new TypeError('bug'); });
  await route(xml('iq', 'jabber:client', { type: 'get', id: '3' }, xml('q', 'urn:x')));
  assert.equal(cond(out[2]!), 'internal-server-error');
});

it('a hook that throws on a message turns into internal-server-error for that stanza', async () => {
  const { hooks, out, route, cond } = setup();
  hooks.on('message/bare', () => { throw new Error('module bug'); });
  await route(xml('message', 'jabber:client', { to: 'bob@example.org', id: 'm' }, xml('body', 'jabber:client', {}, 'x')));
  assert.equal(out[0]!.attrs.type, 'error');
  assert.equal(cond(out[0]!), 'internal-server-error');
  assert.equal(out[0]!.getChildText('body'), 'x', 'message errors carry the original payload');
});

it('pre- hooks see client stanzas first and may stop them; remote domains bounce', async () => {
  const { hooks, out, route, cond } = setup();
  const seen: string[] = [];
  hooks.on('pre-message/full', (ev) => { seen.push(ev.to.toString()); return ev.stanza.attrs.id === 'blocked' ? true : undefined; });
  hooks.on('message/full', () => { seen.push('delivered'); return true; });
  await route(xml('message', 'jabber:client', { to: 'bob@example.org/x', id: 'blocked' }));
  await route(xml('message', 'jabber:client', { to: 'bob@example.org/x', id: 'ok' }));
  assert.deepEqual(seen, ['bob@example.org/x', 'bob@example.org/x', 'delivered']);
  await route(xml('message', 'jabber:client', { to: 'bob@remote.example', id: 'r' }));
  assert.equal(cond(out[0]!), 'remote-server-not-found');
  assert.equal(out[0]!.attrs.from, 'bob@remote.example');
});

it('request() resolves with the answer to a server-originated iq', async () => {
  const { hooks, router } = setup();
  hooks.on('iq/full', (ev) => {
    // Play the client: answer the server's ping.
    const answer = xml('iq', 'jabber:client', { type: 'result', id: ev.stanza.attrs.id, from: ev.to.toString(), to: ev.from.toString() });
    void router.route(answer, { kind: 'local' }, ev.to, ev.from);
    return true;
  });
  const r = await router.request(xml('iq', 'jabber:client', { type: 'get', from: 'example.org', to: 'alice@example.org/home' }, xml('ping', 'urn:xmpp:ping')), 1000);
  assert.equal(r.attrs.type, 'result');
});
