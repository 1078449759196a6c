// The `magpie export` and `magpie import` commands (XEP-0227; docs/migration.md): argument
// handling, the output file (created 0600, never overwritten: it holds credentials, XEP-0227 §4),
// and the report on standard error with the summary on standard output.

import { createWriteStream, existsSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { JID } from '@magpie/core/jid/jid';
import type { MagpieServer } from '../server.js';
import { exportPie, type Sink } from '../migration/pie-export.js';
import { importPie, formatSummary } from '../migration/pie-import.js';
import { defaultNodeConfig } from '../modules/pubsub/node-config.js';
import pubsubModule from '../modules/pubsub/pubsub.js';

type Values = Record<string, string | boolean | string[] | undefined>;
type UsageErrorClass = new (msg: string) => Error;

function sinkOf(stream: NodeJS.WritableStream): Sink {
  return {
    async write(text) {
      if (!stream.write(text)) await once(stream, 'drain');
    },
  };
}

export async function exportCommand(s: MagpieServer, v: Values, UsageError: UsageErrorClass): Promise<number> {
  const hostsArg = (v.host as string[] | undefined) ?? [];
  const all = s.config.hosts.map((h) => h.domain);
  let user: string | undefined;
  let hosts = hostsArg.length ? hostsArg : all;
  if (typeof v.user === 'string') {
    const j = JID.tryParse(v.user.includes('@') ? v.user : `${v.user}@localhost`);
    if (!j || !j.local || j.resource) throw new UsageError(`'${v.user}' is not a user name or bare JID`);
    user = j.local;
    if (v.user.includes('@')) hosts = [j.domain];
  }
  for (const h of hosts) if (!s.isLocalHost(h)) throw new UsageError(`${h} is not a host of this server (hosts: ${all.join(', ')})`);
  const out = typeof v.out === 'string' && v.out !== '-' ? v.out : undefined;
  if (out && existsSync(out)) throw new UsageError(`${out} exists; an export never overwrites a file`);
  let file: WriteStream | undefined;
  if (out) {
    file = createWriteStream(out, { flags: 'wx', mode: 0o600 });
    await once(file, 'open');
  }
  let warnings = 0;
  const sum = await exportPie(s.storage, {
    hosts, ...(user !== undefined ? { user } : {}), archive: v['no-archive'] !== true, pageSize: s.config.migration.pageSize,
    warn: (m) => { warnings++; console.error(`warning: ${m}`); },
  }, sinkOf(file ?? process.stdout));
  if (file) { file.end(); await once(file, 'finish'); }
  console.error(`exported ${sum.users} users of ${sum.hosts} hosts: ${sum.rosterItems} roster items, ${sum.pepNodes} PEP nodes (${sum.pepItems} items), ` +
    `${sum.offline} offline messages, ${sum.archived} archived messages${warnings ? `; ${warnings} warnings` : ''}`);
  return 0;
}

export async function importCommand(s: MagpieServer, files: string[], v: Values, UsageError: UsageErrorClass): Promise<number> {
  if (!files.length) throw new UsageError('import needs a FILE');
  for (const f of files) if (!existsSync(f) || !statSync(f).isFile()) throw new UsageError(`${f}: no such file`);
  if (v['skip-existing'] && v.overwrite) throw new UsageError('--skip-existing and --overwrite exclude each other');
  const cfg = s.config;
  const enabled = (m: string): boolean => (cfg.modules.enabled ? cfg.modules.enabled.includes(m) : true) && !cfg.modules.disabled.includes(m);
  // New PEP nodes get the configured defaults, as the pubsub module gives them.
  const pubsubOptions = pubsubModule.manifest.options!.parse(cfg.modules.options.pubsub ?? {});
  const dryRun = v['dry-run'] === true;
  // Several files (Prosody writes one per user) are imported as one: one summary, and a user
  // found in two files is reported like one found twice in a file.
  const sum = await importPie(s.storage, s.accounts, {
    files, dryRun,
    existing: v.overwrite ? 'overwrite' : v['skip-existing'] ? 'skip' : 'error',
    stopOnError: v['stop-on-error'] === true,
    limits: { ...cfg.limits, maxUserBytes: cfg.migration.maxUserBytes, maxFileBytes: cfg.migration.maxFileBytes },
    pageSize: cfg.migration.pageSize,
    isLocalHost: (d) => s.isLocalHost(d),
    pepDefaults: defaultNodeConfig(pubsubOptions.pep, true),
    bookmarksToPep: enabled('bookmarks') && enabled('pubsub'),
  }, (level, msg) => console.error(`${level}: ${msg}`));
  console.log(formatSummary(sum, dryRun));
  return sum.errors > 0 ? 1 : 0;
}
