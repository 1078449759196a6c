// PubSub (XEP-0060) and PEP (XEP-0163) on several cluster nodes (issue #8): a service used on
// three nodes at once stays one service. A node created through node1 is published to through
// node2 at once; concurrent publishes from two nodes all land (the account lock in PostgreSQL
// serialises them, each node re-reads before changing); a configuration change made through one
// node is what the others answer with; PEP items published from two nodes' resources of one
// account are all kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element } from '@magpie/core/xml/element';
import { startTestServer, skipOrFail, type TestServer } from '../support/server.js';
import type { RawClient } from '../support/raw-client.js';
import { login } from '../im/roster-helpers.js';
import { OWNER, PUBSUB, publish, pubsubIq } from '../pubsub/pubsub-helpers.js';
import { clusterEnv, nodeConfig } from './cluster-helpers.js';

const SVC = 'pubsub.localhost';
const form = (type: string, fields: Record<string, string>) => `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#${type}</value></field>${
  Object.entries(fields).map(([k, v]) => `<field var='${k}'><value>${v}</value></field>`).join('')}</x>`;
const itemIds = (r: Element): string[] => r.getChild('pubsub', PUBSUB)!.getChild('items', PUBSUB)!.getChildren('item', PUBSUB).map((i) => i.attr('id')!);

test('cluster: one PubSub service and one PEP service across three nodes', async (t) => {
  const env = await clusterEnv();
  if (!env) { skipOrFail(t, 'PostgreSQL or Redis is not available'); return; }
  const nodes: TestServer[] = [];
  const clients: RawClient[] = [];
  try {
    for (let i = 1; i <= 3; i++) {
      nodes.push(await startTestServer({ ...nodeConfig(env, `ps-node${i}`), modules: { options: { pubsub: { service: { creators: 'local' }, pep: { defaultMaxItems: 100 } } } } }));
    }
    for (const u of ['alice', 'bob']) await nodes[0]!.addUser(u, 'pw');
    const on = async (n: number, u: string, r: string) => { const c = await login(nodes[n]!, u, r); clients.push(c); return c; };
    const a1 = await on(0, 'alice', 'n1');
    const a2 = await on(1, 'alice', 'n2');
    const b3 = await on(2, 'bob', 'n3');

    // Created through node1 (after node2 and node3 have read the service), used through node2 at once.
    assert.equal((await pubsubIq(b3, 'get', `<items node='nothing-yet'/>`, SVC)).attr('type'), 'error');
    assert.equal((await pubsubIq(a2, 'get', `<items node='nothing-yet'/>`, SVC)).attr('type'), 'error');
    const created = await pubsubIq(a1, 'set', `<create node='news'/><configure>${form('node_config', { 'pubsub#max_items': '100', 'pubsub#publish_model': 'open' })}</configure>`, SVC);
    assert.equal(created.attr('type'), 'result', created.toString());
    const first = await publish(a2, 'news', `<entry xmlns='urn:test'>from node2</entry>`, 'first', undefined, SVC);
    assert.equal(first.attr('type'), 'result', first.toString());

    // 2 x 20 concurrent publishes from node1 and node3: every item is kept.
    const burst = (c: RawClient, tag: string) => Array.from({ length: 20 }, (_, i) => publish(c, 'news', `<entry xmlns='urn:test'>${tag}${i}</entry>`, `${tag}-${i}`, undefined, SVC));
    const results = await Promise.all([...burst(a1, 'a'), ...burst(b3, 'b')]);
    assert.deepEqual(results.filter((r) => r.attr('type') !== 'result').map((r) => r.toString()), []);
    const items = itemIds(await pubsubIq(a2, 'get', `<items node='news'/>`, SVC));
    assert.equal(items.length, 41, `every item is kept: ${items.join()}`);
    assert.equal(new Set(items).size, 41);

    // A configuration change through node3's client is what node1 answers with.
    const cfg = await pubsubIq(a2, 'set', `<configure node='news'>${form('node_config', { 'pubsub#title': 'Cluster news' })}</configure>`, SVC, OWNER);
    assert.equal(cfg.attr('type'), 'result', cfg.toString());
    const got = await pubsubIq(a1, 'get', `<configure node='news'/>`, SVC, OWNER);
    const title = got.getChild('pubsub', OWNER)!.getChild('configure', OWNER)!.getChild('x', 'jabber:x:data')!.getChildren('field').find((f) => f.attr('var') === 'pubsub#title');
    assert.equal(title?.getChildText('value'), 'Cluster news');

    // PEP: two resources of one account on two nodes publish to one of its nodes at once.
    const pep = (c: RawClient, tag: string) => Array.from({ length: 15 }, (_, i) => publish(c, 'urn:test:notes', `<note xmlns='urn:test'>${tag}${i}</note>`, `${tag}-${i}`));
    const pr = await Promise.all([...pep(a1, 'x'), ...pep(a2, 'y')]);
    assert.deepEqual(pr.filter((r) => r.attr('type') !== 'result').map((r) => r.toString()), []);
    const notes = itemIds(await pubsubIq(a1, 'get', `<items node='urn:test:notes'/>`));
    assert.equal(new Set(notes).size, 30, `every PEP item is kept: ${notes.join()}`);

    // Read-your-writes across nodes: a publish through node2 is answered only once node1 and
    // node3 have dropped their copy, so a read through either right after the answer sees it
    // (before invalidations were acknowledged, node1 could still answer from its old copy).
    for (let i = 0; i < 30; i++) {
      const pep = i % 2 === 0; // alice's PEP node from node2, or the service's node from node3
      const r = pep ? await publish(a2, 'urn:test:notes', `<note xmlns='urn:test'>z${i}</note>`, `z-${i}`)
        : await publish(b3, 'news', `<entry xmlns='urn:test'>z${i}</entry>`, `z-${i}`, undefined, SVC);
      assert.equal(r.attr('type'), 'result', r.toString());
      const seen = itemIds(await pubsubIq(a1, 'get', `<items node='${pep ? 'urn:test:notes' : 'news'}' max_items='1'/>`, pep ? undefined : SVC));
      assert.deepEqual(seen, [`z-${i}`], `round ${i}: the item just published is the newest on node1`);
    }
  } finally {
    for (const c of clients) c.destroy();
    for (const n of nodes) await n.stop();
    await env.cleanup();
  }
});

// Pending subscriptions (XEP-0060 §6.1.4, §8.6) across nodes: concurrent requests through two
// nodes never exceed the per-node limit (each request is decided under the service's lock on
// what the last one wrote), and an owner on another node approves through the authorization form.
test('cluster: pending subscription requests are one list across nodes', async (t) => {
  const env = await clusterEnv();
  if (!env) { skipOrFail(t, 'PostgreSQL or Redis is not available'); return; }
  const nodes: TestServer[] = [];
  const clients: RawClient[] = [];
  try {
    for (let i = 1; i <= 2; i++) {
      nodes.push(await startTestServer({ ...nodeConfig(env, `pp-node${i}`), modules: { options: { pubsub: { service: { creators: 'local', maxPendingPerNode: 3 } } } } }));
    }
    const users = ['u0', 'u1', 'u2', 'u3', 'u4', 'u5'];
    for (const u of ['owner', ...users]) await nodes[0]!.addUser(u, 'pw');
    const on = async (n: number, u: string) => { const c = await login(nodes[n]!, u, 'r'); clients.push(c); c.send('<presence/>'); return c; };
    const owner = await on(1, 'owner');
    assert.equal((await pubsubIq(owner, 'set', `<create node='club'/><configure>${form('node_config', { 'pubsub#access_model': 'authorize' })}</configure>`, SVC)).attr('type'), 'result');
    const subs = await Promise.all(users.map((u, i) => on(i % 2, u)));
    const answers = await Promise.all(subs.map((c, i) => pubsubIq(c, 'set', `<subscribe node='club' jid='${users[i]}@localhost'/>`, SVC)));
    const states = answers.map((r) => r.getChild('pubsub', PUBSUB)?.getChild('subscription', PUBSUB)?.attr('subscription') ?? r.getChild('error')?.elements()[0]?.name);
    assert.equal(states.filter((s) => s === 'pending').length, 3, states.join());
    assert.equal(states.filter((s) => s === 'policy-violation').length, 3, states.join());

    // The owner, on node2, answers a request made through node1; the subscriber hears it there.
    const i = states.findIndex((s, k) => s === 'pending' && k % 2 === 0);
    assert.ok(i >= 0, 'a request went through node1');
    const request = await waitFor(owner, (e) => e.name === 'message' && !!e.getChild('x', 'jabber:x:data') && e.toString().includes(`${users[i]}@localhost`));
    const fields = Object.fromEntries(request.getChild('x', 'jabber:x:data')!.getChildren('field').map((f) => [f.attr('var'), f.getChildText('value')]));
    owner.send(`<message to='${SVC}'><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${PUBSUB}#subscribe_authorization</value></field>`
      + `<field var='pubsub#node'><value>club</value></field><field var='pubsub#subscriber_jid'><value>${users[i]}@localhost</value></field>`
      + `<field var='pubsub#subid'><value>${fields['pubsub#subid']}</value></field><field var='pubsub#allow'><value>1</value></field></x></message>`);
    await waitFor(subs[i]!, (e) => e.name === 'message' && e.getChild('event', `${PUBSUB}#event`)?.getChild('subscription')?.attr('subscription') === 'subscribed');
    const list = await pubsubIq(subs[i]!, 'get', `<items node='club'/>`, SVC);
    assert.equal(list.attr('type'), 'result', list.toString());
  } finally {
    for (const c of clients) c.destroy();
    for (const n of nodes) await n.stop();
    await env.cleanup();
  }
});

async function waitFor(c: RawClient, pred: (e: Element) => boolean, ms = 10_000): Promise<Element> {
  let found: Element | undefined;
  await c.until(() => { found = c.elements.find(pred); return found !== undefined; }, ms, 'element');
  return found!;
}
