// `magpie import FILE`: a XEP-0227 file (ejabberd's export_piefxis, Prosody's xep0227 storage,
// `magpie export`) into this server's storage, user by user (./pie-reader.ts), each user read and
// checked whole (./pie-user.ts) before anything of it is written. Existing accounts are an error,
// or skipped (--skip-existing), or replaced with everything they held (--overwrite). A user's
// errors are reported and the import goes on (or stops, --stop-on-error); a dry run reads and
// checks everything and writes nothing. The report never contains a password: only the
// messages built here, which name users, items and reasons.

import { JID } from '@magpie/core/jid/jid';
import type { Storage } from '../storage/storage.js';
import type { AccountService } from '../accounts/accounts.js';
import { PieFormatError, PieReader, type PieVisitor, type ReadLimits } from './pie-reader.js';
import { applyUser, readUser, userName, type ReadUserOptions } from './pie-user.js';

export interface ImportOptions extends ReadUserOptions {
  files: string[];
  dryRun: boolean;
  existing: 'error' | 'skip' | 'overwrite';
  stopOnError: boolean;
  limits: ReadLimits;
  pageSize: number;
  isLocalHost(domain: string): boolean;
}

export interface ImportSummary {
  users: number; skipped: number; failed: number; errors: number; warnings: number;
  rosterItems: number; subscriptionRequests: number; vcards: number; privateXml: number; privacyLists: number;
  pepNodes: number; pepItems: number; offline: number; archived: number;
}

export type Report = (level: 'error' | 'warning', msg: string) => void;

class Stop extends Error {}

export async function importPie(storage: Storage, accounts: AccountService, o: ImportOptions, report: Report): Promise<ImportSummary> {
  const sum: ImportSummary = { users: 0, skipped: 0, failed: 0, errors: 0, warnings: 0, rosterItems: 0, subscriptionRequests: 0, vcards: 0, privateXml: 0, privacyLists: 0, pepNodes: 0, pepItems: 0, offline: 0, archived: 0 };
  const seen = new Set<string>();
  const error = (msg: string): void => {
    sum.errors++;
    report('error', msg);
    if (o.stopOnError) throw new Stop(msg);
  };
  const warn = (msg: string): void => { sum.warnings++; report('warning', msg); };
  let host = '';
  const visitor: PieVisitor = {
    host(jid) {
      const j = JID.tryParse(jid);
      if (!j || !j.isDomain) { error(`host '${jid ?? ''}': not a domain JID; its users are skipped`); return false; }
      if (!o.isLocalHost(j.domain)) { error(`host ${j.domain} is not a host of this server (configure it in hosts); its users are skipped`); return false; }
      host = j.domain;
      return true;
    },
    warn,
    async user(_h, el) {
      let name: string;
      try { name = userName(host, el); } catch (e) { sum.failed++; error(`${host}: ${(e as Error).message}`); return; }
      const jid = `${name}@${host}`;
      if (seen.has(jid)) { sum.failed++; error(`${jid}: appears twice in the file; the second is skipped`); return; }
      seen.add(jid);
      const plan = readUser(host, el, o);
      for (const w of plan.warnings) warn(`${jid}: ${w}`);
      for (const e of plan.errors) error(`${jid}: ${e}`);
      const exists = (await storage.accounts.get(host, name)) !== undefined;
      if (exists && o.existing === 'skip') { sum.skipped++; return; }
      if (exists && o.existing === 'error') { sum.failed++; error(`${jid}: the account exists (--skip-existing or --overwrite)`); return; }
      if (!o.dryRun) {
        try {
          if (!(await applyUser(plan, { storage, accounts, pageSize: o.pageSize, replace: exists }))) {
            sum.failed++; error(`${jid}: the account exists`); return;
          }
        } catch (e) {
          if (e instanceof Stop) throw e;
          sum.failed++;
          error(`${jid}: writing failed, the account may be incomplete: ${(e as Error).message}`);
          return;
        }
      }
      sum.users++;
      sum.rosterItems += plan.roster.length;
      sum.subscriptionRequests += plan.pending.length;
      sum.vcards += plan.vcard !== undefined ? 1 : 0;
      sum.privateXml += plan.private.length;
      sum.privacyLists += plan.privacy.filter(([k]) => k.startsWith('list:')).length;
      sum.pepNodes += plan.pep.length;
      sum.pepItems += plan.pep.reduce((n, p) => n + p.items.length, 0);
      sum.offline += plan.offline.length;
      sum.archived += plan.archive.length;
    },
  };
  let bytes = 0;
  for (const file of o.files) {
    const reader = new PieReader(file, { ...o.limits, maxFileBytes: o.limits.maxFileBytes - bytes }, visitor);
    try {
      await reader.read();
    } catch (e) {
      if (e instanceof Stop) return sum;
      if (!(e instanceof PieFormatError)) throw e;
      sum.errors++;
      report('error', e.message);
      if (o.stopOnError) return sum;
    }
    bytes += reader.bytesRead;
  }
  return sum;
}

export function formatSummary(s: ImportSummary, dryRun: boolean): string {
  return `${dryRun ? 'dry run (nothing written): ' : ''}${s.users} users imported, ${s.skipped} skipped (existing), ${s.failed} failed; ` +
    `${s.rosterItems} roster items, ${s.subscriptionRequests} subscription requests, ${s.vcards} vCards, ${s.privateXml} private XML namespaces, ` +
    `${s.privacyLists} privacy lists, ${s.pepNodes} PEP nodes (${s.pepItems} items), ${s.offline} offline messages, ${s.archived} archived messages; ` +
    `${s.errors} errors, ${s.warnings} warnings`;
}
