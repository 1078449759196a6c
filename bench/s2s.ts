// Benchmark: server-to-server message throughput between two Magpie servers on loopback
// (federation module, STARTTLS + dialback with generated certificates, one s2s stream): how long
// the first message takes including connection setup, then N chat messages sent by a client on
// A in one write, until the last one reaches the client on B. Both servers run in this process.
//
// Run: node --conditions=magpie-src --import tsx bench/s2s.ts [messages]

import { loginAt, route, startFederated } from '../test/s2s/federation-helpers.js';

const N = Number(process.argv[2] ?? 5000);
const A = await startFederated('a.localhost');
const B = await startFederated('b.localhost');
route(A, B); route(B, A);
await A.addUser('alice', 'pw'); await B.addUser('bob', 'pw');
const alice = await loginAt(A, 'alice', 'r');
const bob = await loginAt(B, 'bob', 'r');
const base = bob.elements.length;

let t0 = Date.now();
alice.send(`<message to='bob@b.localhost/r' id='w'><body>warm</body></message>`);
await bob.until(() => bob.elements.length >= base + 1, 30_000);
const setup = Date.now() - t0;

let batch = '';
for (let i = 0; i < N; i++) batch += `<message to='bob@b.localhost/r' id='m${i}' type='chat'><body>message number ${i}</body></message>`;
t0 = Date.now();
alice.send(batch);
await bob.until(() => bob.elements.length >= base + 1 + N, 300_000);
const ms = Date.now() - t0;
const last = bob.elements[bob.elements.length - 1]!;
if (last.attr('id') !== `m${N - 1}`) throw new Error(`out of order: last is ${last.attr('id')}`);
console.log(`first message with connection setup (TCP, STARTTLS, dialback both ways): ${setup} ms`);
console.log(`${N} messages A→B over one s2s stream: ${ms} ms, ${Math.round(N / (ms / 1000))} messages/s`);
alice.destroy(); bob.destroy();
await A.stop(); await B.stop();
