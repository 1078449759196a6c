// Bulk roster creation for the Magpie benchmark server, through its storage API (no XMPP), for
// the presence scenario. Usage: node magpie-rosters.mjs CONFIG.json USERS HALF
// Gives user i the contacts user(i±1..i±HALF) (modulo USERS, 1-based) with subscription 'both',
// stored as the roster module stores them (roster-store.ts): map store 'roster' keyed by the
// contact's bare JID, plus a version record in kv store 'roster' ({ epoch, n }).

import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { MagpieServer } from '../../packages/server/dist/server.js';
import { validateConfig } from '../../packages/server/dist/config/load.js';

const [file, usersArg, halfArg] = process.argv.slice(2);
const users = Number(usersArg), half = Number(halfArg);
if (!file || !Number.isInteger(users) || users < 2 || !Number.isInteger(half) || half < 1 || 2 * half >= users) {
  console.error('usage: magpie-rosters.mjs CONFIG.json USERS HALF (2*HALF < USERS)');
  process.exit(2);
}
const config = validateConfig(JSON.parse(readFileSync(file, 'utf8')));
const domain = config.hosts[0].domain;
const server = new MagpieServer(config);
await server.init();
const t0 = Date.now();
let items = 0;
try {
  for (let i = 1; i <= users; i++) {
    const entries = [];
    for (let d = 1; d <= half; d++) {
      for (const j of [((i - 1 + d) % users) + 1, ((i - 1 - d + users) % users) + 1]) {
        const jid = `user${j}@${domain}`;
        entries.push([jid, { jid, subscription: 'both', groups: [] }]);
      }
    }
    await server.storage.map.setMany(domain, `user${i}`, 'roster', entries);
    await server.storage.kv.set(domain, `user${i}`, 'roster', { epoch: randomBytes(4).toString('hex'), n: 1 });
    items += entries.length;
  }
} finally {
  await server.storage.close();
}
console.log(JSON.stringify({ users, items, ms: Date.now() - t0 }));
