// Benchmark: PEP publish → notification fan-out (XEP-0163). One owner with C contacts, each
// online with a +notify client, publishes N items one after another; reports the publish round
// trip (median, p95) and the rate at which notifications reach every contact.
//
// Run: node --conditions=magpie-src --import tsx bench/pep.ts [contacts] [items]

import { startTestServer } from '../test/support/server.js';
import { befriend, iq } from '../test/im/roster-helpers.js';
import { online, publish } from '../test/pubsub/pubsub-helpers.js';

const CONTACTS = Number(process.argv[2] ?? 20);
const ITEMS = Number(process.argv[3] ?? 500);
const NODE = 'http://jabber.org/protocol/tune';

const ts = await startTestServer();
await ts.addUser('owner', 'pw');
for (let i = 0; i < CONTACTS; i++) { await ts.addUser(`c${i}`, 'pw'); await befriend(ts, 'owner', `c${i}`); }
const contacts = [];
for (let i = 0; i < CONTACTS; i++) contacts.push(await online(ts, `c${i}`, 'r', [NODE]));
const owner = await online(ts, 'owner', 'r');
await iq(owner, 'get', `<ping xmlns='urn:xmpp:ping'/>`, 'localhost');

const count = (c: (typeof contacts)[number]): number => c.elements.filter((e) => e.name === 'message' && e.getChild('event', 'http://jabber.org/protocol/pubsub#event')).length;
const before = contacts.map(count);
const rtts: number[] = [];
const t0 = performance.now();
for (let i = 0; i < ITEMS; i++) {
  const s = performance.now();
  const r = await publish(owner, NODE, `<tune xmlns='${NODE}'><title>Song ${i}</title><artist>Band</artist></tune>`, 'current');
  if (r.attr('type') !== 'result') throw new Error(r.toString());
  rtts.push(performance.now() - s);
}
const deadline = Date.now() + 60_000;
while (contacts.some((c, i) => count(c) - before[i]! < ITEMS) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
const total = performance.now() - t0;
rtts.sort((a, b) => a - b);
const delivered = contacts.reduce((n, c, i) => n + count(c) - before[i]!, 0);
console.log(JSON.stringify({
  contacts: CONTACTS, items: ITEMS,
  publishRttMedianMs: +rtts[Math.floor(rtts.length / 2)]!.toFixed(2), publishRttP95Ms: +rtts[Math.floor(rtts.length * 0.95)]!.toFixed(2),
  publishesPerSecond: +(ITEMS / (total / 1000)).toFixed(1), notificationsDelivered: delivered, notificationsPerSecond: +(delivered / (total / 1000)).toFixed(0),
}));
for (const c of contacts) c.destroy();
owner.destroy();
await ts.stop();
