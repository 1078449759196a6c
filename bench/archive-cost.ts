// Benchmark: what the per-message modules cost on one c2s stream — N chat messages written by one
// client in one burst to another client on the same server, until the last one is read — with
// every default module, without the message archive (XEP-0313), and without the archive and the
// other per-message modules. Both clients and the server run in this process (SQLite storage).
//
// Run: node --conditions=magpie-src --import tsx bench/archive-cost.ts [messages]
import { startTestServer } from '../test/support/server.js';
import { RawClient } from '../test/support/raw-client.js';
const N = Number(process.argv[2] ?? 5000);
for (const disabled of [[], ['mam'], ['mam', 'carbons', 'csi', 'stream-management', 'push'], ]) {
  const ts = await startTestServer({ modules: { disabled } });
  await ts.addUser('alice', 'pw'); await ts.addUser('bob', 'pw');
  const a = await RawClient.connect(ts.port); await a.login('alice', 'pw', { resource: 'r' });
  const b = await RawClient.connect(ts.port); await b.login('bob', 'pw', { resource: 'r' });
  const base = b.elements.length;
  let batch = '';
  for (let i = 0; i < N; i++) batch += `<message to='bob@localhost/r' id='m${i}' type='chat'><body>message number ${i}</body></message>`;
  const t0 = Date.now();
  a.send(batch);
  await b.until(() => b.elements.length >= base + N, 300_000);
  console.log(JSON.stringify(disabled), Math.round(N / ((Date.now() - t0) / 1000)), 'msgs/s');
  a.destroy(); b.destroy(); await ts.stop();
}
