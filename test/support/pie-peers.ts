// Real XEP-0227 files from Debian's ejabberd 23.01 and Prosody 0.12, made in throwaway
// directories (docs: /work/shared/docs/TESTING-WITH-PEERS.md): ejabberd runs as its own node
// (unique name, epmd and distribution on 127.0.0.1, c2s on a loopback port), gets users and data
// through ejabberdctl, and writes export_piefxis; Prosody's accounts come from prosodyctl
// register, its roster, vCard and private XML from Prosody's own datamanager, and the file from
// prosody-migrator with the xep0227 storage (mod_storage_xep0227) as output.

import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const EJABBERDCTL = '/usr/sbin/ejabberdctl';
const PROSODYCTL = '/usr/bin/prosodyctl';
const MIGRATOR = '/usr/bin/prosody-migrator';

export const ejabberdAvailable = (): boolean => existsSync(EJABBERDCTL) && process.getuid?.() === 0;
export const prosodyAvailable = (): boolean => existsSync(PROSODYCTL) && existsSync(MIGRATOR) && spawnSync('lua5.4', ['-v']).status === 0 && process.getuid?.() === 0;

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

const chownTo = (user: string, dir: string): void => { run('chown', ['-R', `${user}:`, dir]); chmodSync(dir, 0o755); };

/**
 * Runs ejabberd for `host` with the given password format, lets `seed` call ejabberdctl, exports
 * every host with export_piefxis and stops. Returns the main file (it XIncludes a file per host).
 */
export function ejabberdExport(dir: string, host: string, passwordFormat: 'plain' | 'scram', port: number, seed: (ctl: (...args: string[]) => string) => void): string {
  for (const d of ['spool', 'logs', 'out']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync('/etc/ejabberd/inetrc', join(dir, 'inetrc'));
  writeFileSync(join(dir, 'ejabberdctl.cfg'), [
    `ERLANG_NODE=magpiepie${process.pid}${Date.now() % 100000}@localhost`, 'ERL_EPMD_ADDRESS=127.0.0.1', 'INET_DIST_INTERFACE=127.0.0.1',
    'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"', `EJABBERD_PID_PATH=${dir}/ejabberd.pid`, '',
  ].join('\n'));
  writeFileSync(join(dir, 'ejabberd.yml'), `hosts: [${host}]
loglevel: warning
certfiles: []
auth_method: [internal]
auth_password_format: ${passwordFormat}
listen:
  - { port: ${port}, ip: "127.0.0.1", module: ejabberd_c2s }
modules:
  mod_roster: {}
  mod_vcard: {}
  mod_offline: {}
  mod_private: {}
  mod_privacy: {}
  mod_blocking: {}
  mod_caps: {}
  mod_disco: {}
  mod_admin_extra: {}
`);
  chownTo('ejabberd', dir);
  const base = ['--config-dir', dir, '--config', join(dir, 'ejabberd.yml'), '--ctl-config', join(dir, 'ejabberdctl.cfg'), '--spool', join(dir, 'spool'), '--logs', join(dir, 'logs')];
  const ctl = (...args: string[]): string => run(EJABBERDCTL, [...base, ...args]);
  ctl('start');
  try {
    ctl('started');
    seed(ctl);
    ctl('export_piefxis', join(dir, 'out'));
  } finally {
    spawnSync(EJABBERDCTL, [...base, 'stop'], { timeout: 60_000 });
    spawnSync(EJABBERDCTL, [...base, 'stopped'], { timeout: 60_000 });
  }
  // The main file is the one that is not a host file (<stamp>_<host>.xml).
  const main = readdirSync(join(dir, 'out')).find((f) => /^\d{8}-\d{6}\.xml$/.test(f));
  if (!main) throw new Error('ejabberd wrote no export: ' + readdirSync(join(dir, 'out')).join(', '));
  return join(dir, 'out', main);
}

/**
 * Prosody: accounts with `prosodyctl register`, then `seedLua` (run by lua5.4 with Prosody's
 * libraries, `dm` = util.datamanager on the data directory, `st` = util.stanza) writes the rest;
 * prosody-migrator copies the stores to xep0227 files (one per user). Returns those files.
 */
export function prosodyExport(dir: string, host: string, users: [string, string][], seedLua: string): string[] {
  const data = join(dir, 'data');
  const out = join(dir, 'out');
  mkdirSync(data, { recursive: true });
  mkdirSync(out, { recursive: true });
  const cfg = join(dir, 'prosody.cfg.lua');
  writeFileSync(cfg, `data_path = "${data}"\nrun_as_root = true\npidfile = "${dir}/prosody.pid"\nlog = { error = "${dir}/prosody.err" }\nVirtualHost "${host}"\n`);
  for (const [u, pw] of users) run(PROSODYCTL, ['--config', cfg, 'register', u, host, pw]);
  writeFileSync(join(dir, 'seed.lua'), `package.path = "/usr/lib/prosody/?.lua;" .. package.path
package.cpath = "/usr/lib/prosody/?.so;" .. package.cpath
local dm = require "util.datamanager"
local st = require "util.stanza"
dm.set_data_path(arg[1])
${seedLua}
`);
  run('lua5.4', [join(dir, 'seed.lua'), data]);
  // The xep0227 driver writes into Prosody's data path, which the migrator script hardcodes: a
  // copy of the script points it at our directory instead.
  writeFileSync(join(dir, 'migrator.lua'), readFileSync(MIGRATOR, 'utf8')
    .replace(/^CFG_DATADIR=.*$/m, `CFG_DATADIR='${out}';`).replace(/^CFG_CONFIGDIR=.*$/m, `CFG_CONFIGDIR='${dir}';`));
  writeFileSync(join(dir, 'migrator.cfg.lua'), `input { hosts = { ["${host}"] = { "accounts", "roster", "vcard", "private" } }; type = "internal"; path = "${data}"; }
output { type = "xep0227"; path = "${out}"; }
`);
  chownTo('prosody', dir); // the migrator drops root privileges to the prosody user
  run('lua5.4', [join(dir, 'migrator.lua'), '--config', join(dir, 'migrator.cfg.lua'), 'input', 'output'], { cwd: dir });
  return readdirSync(out).filter((f) => f.endsWith('.xml')).map((f) => join(out, f));
}
