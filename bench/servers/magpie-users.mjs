// Bulk account creation for the Magpie benchmark server (one process instead of one
// `magpie adduser` per account). Usage: node magpie-users.mjs CONFIG.json COUNT PASSWORD
// CONFIG.json holds the same object as the server's YAML config. Creates user1..userCOUNT.

import { readFileSync } from 'node:fs';
import { MagpieServer } from '../../packages/server/dist/server.js';
import { validateConfig } from '../../packages/server/dist/config/load.js';

const [file, countArg, password] = process.argv.slice(2);
const count = Number(countArg);
if (!file || !Number.isInteger(count) || count < 1 || !password) {
  console.error('usage: magpie-users.mjs CONFIG.json COUNT PASSWORD');
  process.exit(2);
}
const config = validateConfig(JSON.parse(readFileSync(file, 'utf8')));
const domain = config.hosts[0].domain;
const server = new MagpieServer(config);
await server.init();
let created = 0, existed = 0;
const t0 = Date.now();
try {
  for (let i = 1; i <= count; i++) {
    try { await server.accounts.create(domain, `user${i}`, password); created++; }
    catch (e) {
      if (/exist/i.test(String(e?.message ?? e))) existed++;
      else throw e;
    }
  }
} finally {
  await server.storage.close();
}
console.log(JSON.stringify({ created, existed, ms: Date.now() - t0 }));
