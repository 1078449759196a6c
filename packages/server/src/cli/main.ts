#!/usr/bin/env node
// The `magpie` command: start the server and manage accounts.
//   magpie start [--config FILE]
//   magpie adduser JID [PASSWORD]   (prompts when PASSWORD is omitted)
//   magpie passwd JID | deluser JID | users [DOMAIN] | check [--config FILE]
//   magpie export [--host H]... [--user U] [--out FILE|-] [--no-archive]     (XEP-0227)
//   magpie import FILE... [--dry-run] [--skip-existing|--overwrite] [--stop-on-error]
// Without --config, ./magpie.yaml is used when present, else the built-in defaults
// (localhost, ports 5222/5223, SQLite under ./data, a generated development certificate).

import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { JID } from '@magpie/core/jid/jid';
import { loadConfigFile, validateConfig, ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { MagpieServer } from '../server.js';
import { createLogger } from '../log/logger.js';
import { AccountExistsError } from '../accounts/accounts.js';
import { readPassword } from './prompt.js';
import { exportCommand, importCommand } from './migrate.js';
import { MAGPIE_VERSION } from '../version.js';

const USAGE = `usage: magpie <command> [--config FILE]
  start                 run the server
  adduser JID [PASSWORD] create an account (prompts for the password when omitted)
  passwd JID            change an account's password (prompts)
  deluser JID           delete an account and all its data
  users [DOMAIN]        list accounts
  check                 validate the configuration and exit
  export [--host H]... [--user JID|NAME] [--out FILE|-] [--no-archive]
                        write accounts and their data as XEP-0227 XML (default: standard output)
  import FILE... [--dry-run] [--skip-existing|--overwrite] [--stop-on-error]
                        read XEP-0227 files (Prosody, ejabberd, magpie export)
  --version             print the version`;

function loadConfig(path: string | undefined): Config {
  if (path) return loadConfigFile(path);
  if (existsSync('magpie.yaml')) return loadConfigFile('magpie.yaml');
  return validateConfig({});
}

function accountJid(server: MagpieServer, s: string | undefined): JID {
  if (!s) throw new UsageError('a JID is required');
  const j = JID.tryParse(s);
  if (!j || !j.local || j.resource) throw new UsageError(`'${s}' is not a bare JID (user@domain)`);
  if (!server.isLocalHost(j.domain)) throw new UsageError(`${j.domain} is not a host of this server (hosts: ${server.config.hosts.map((h) => h.domain).join(', ')})`);
  return j;
}

class UsageError extends Error {}

async function withServer<T>(cfg: Config, fn: (s: MagpieServer) => Promise<T>): Promise<T> {
  const server = new MagpieServer(cfg, { logger: createLogger({ level: 'warn', destination: 'stderr' }) });
  await server.init();
  try { return await fn(server); } finally { await server.storage.close(); }
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
    config: { type: 'string', short: 'c' }, version: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    // export / import (XEP-0227)
    host: { type: 'string', multiple: true }, user: { type: 'string' }, out: { type: 'string', short: 'o' }, 'no-archive': { type: 'boolean' },
    'dry-run': { type: 'boolean' }, 'skip-existing': { type: 'boolean' }, overwrite: { type: 'boolean' }, 'stop-on-error': { type: 'boolean' },
  } });
  if (values.version) { console.log(MAGPIE_VERSION); return 0; }
  const [cmd, ...args] = positionals;
  if (!cmd || values.help) { console.log(USAGE); return cmd || values.help ? 0 : 2; }
  const cfg = loadConfig(values.config);
  switch (cmd) {
    case 'check':
      console.log(`configuration OK: hosts ${cfg.hosts.map((h) => h.domain).join(', ')}; storage ${cfg.storage.type}; listeners ${cfg.listeners.map((l) => `${l.type}:${l.port}`).join(', ')}`);
      return 0;
    case 'start': {
      const server = new MagpieServer(cfg);
      await server.start();
      let stopping = false;
      const stop = (sig: string) => {
        if (stopping) return;
        stopping = true;
        server.log.info({ signal: sig }, 'shutting down');
        server.stop().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
      return -1; // keep running
    }
    case 'adduser': return withServer(cfg, async (s) => {
      const j = accountJid(s, args[0]);
      const pw = args[1] ?? await readPassword(`Password for ${j}: `);
      if (!pw) throw new UsageError('the password must not be empty');
      try { await s.accounts.create(j.domain, j.local, pw); } catch (e) {
        if (e instanceof AccountExistsError) { console.error(`${j} already exists`); return 1; }
        throw e;
      }
      console.log(`created ${j}`);
      return 0;
    });
    case 'passwd': return withServer(cfg, async (s) => {
      const j = accountJid(s, args[0]);
      const pw = args[1] ?? await readPassword(`New password for ${j}: `);
      if (!pw) throw new UsageError('the password must not be empty');
      if (!(await s.accounts.setPassword(j.domain, j.local, pw))) { console.error(`no such account: ${j}`); return 1; }
      console.log(`password changed for ${j}`);
      return 0;
    });
    case 'deluser': return withServer(cfg, async (s) => {
      const j = accountJid(s, args[0]);
      if (!(await s.accounts.delete(j.domain, j.local))) { console.error(`no such account: ${j}`); return 1; }
      console.log(`deleted ${j}`);
      return 0;
    });
    case 'users': return withServer(cfg, async (s) => {
      for (const u of await s.accounts.list(args[0])) console.log(`${u.user}@${u.host}`);
      return 0;
    });
    case 'export': return withServer(cfg, (s) => exportCommand(s, values, UsageError));
    case 'import': return withServer(cfg, (s) => importCommand(s, args, values, UsageError));
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

main(process.argv.slice(2)).then((code) => { if (code >= 0) process.exitCode = code; }, (e) => {
  if (e instanceof ConfigError) console.error(e.message);
  else if (e instanceof UsageError) console.error(`magpie: ${e.message}\n${USAGE}`);
  else console.error(e);
  process.exitCode = e instanceof UsageError ? 2 : 1;
});
