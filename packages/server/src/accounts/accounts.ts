// Accounts: creation, password changes and lookups used by SASL and routing. Passwords are
// never stored: each account keeps salted SCRAM keys for SHA-1, SHA-256 and SHA-512
// (RFC 5802 §3) and, only on hosts that enable DIGEST-MD5, that mechanism's secret.
// Existence checks sit on the routing path (a message to a bare JID), so they are cached.

import { JID } from '@magpie/core/jid/jid';
import { deriveScramCredential } from '@magpie/core/sasl/scram';
import type { AccountStore, ScramCredential, StoredCredentials } from '../storage/storage.js';
import { nodeCrypto } from '../sasl/node-crypto.js';
import { digestMd5Secret } from '../sasl/digest-md5.js';

export const SCRAM_HASHES = ['SHA-1', 'SHA-256', 'SHA-512'] as const;
export type ScramHash = (typeof SCRAM_HASHES)[number];

export interface AccountServiceOptions {
  iterations?: number;
  /** PBKDF2 iterations per host (hosts[].auth.scramIterations); `iterations` where absent. */
  iterationsByHost?: Map<string, number>;
  /** Hosts on which DIGEST-MD5 is enabled: the realm is the host's domain. */
  digestMd5Hosts?: Set<string>;
  cacheSize?: number;
  /** Told after an account is created or deleted (the server fires account/created, account/deleted). */
  onChange?: (change: 'created' | 'deleted', host: string, user: string) => Promise<void> | void;
}

export class AccountExistsError extends Error {}

export class AccountService {
  private exists = new Map<string, boolean>();
  private readonly iterations: number;
  private readonly cacheSize: number;
  constructor(private readonly store: AccountStore, private readonly opts: AccountServiceOptions = {}) {
    this.iterations = opts.iterations ?? 4096;
    this.cacheSize = opts.cacheSize ?? 50_000;
  }

  /** Canonical localpart (UsernameCaseMapped, RFC 7622 §3.3); throws JIDError when invalid. */
  static normalizeUser(username: string): string { return JID.of(username, 'localhost').local; }

  async credentialsFor(host: string, username: string, password: string): Promise<StoredCredentials> {
    const scram: StoredCredentials['scram'] = {};
    const iterations = this.opts.iterationsByHost?.get(host) ?? this.iterations;
    for (const h of SCRAM_HASHES) scram[h] = await deriveScramCredential(nodeCrypto, h, password, iterations);
    const creds: StoredCredentials = { scram };
    if (this.opts.digestMd5Hosts?.has(host)) creds.digestMd5 = digestMd5Secret(username, host, password);
    return creds;
  }

  /**
   * Create with credentials as they are (a XEP-0227 import of SCRAM keys, whose password nobody
   * knows); false when the account exists.
   */
  async createWithCredentials(host: string, username: string, credentials: StoredCredentials): Promise<boolean> {
    const user = AccountService.normalizeUser(username);
    if (!(await this.store.create(host, user, credentials))) return false;
    this.remember(host, user, true);
    await this.opts.onChange?.('created', host, user);
    return true;
  }

  async setCredentials(host: string, username: string, credentials: StoredCredentials): Promise<boolean> {
    return this.store.setCredentials(host, AccountService.normalizeUser(username), credentials);
  }

  /**
   * After a successful PLAIN login: derive the SCRAM hashes (and the DIGEST-MD5 secret) the
   * account lacks, e.g. imported with SCRAM-SHA-1 keys only, so that the stronger mechanisms work
   * from then on. The password is only in memory here, as during any PLAIN check.
   */
  async completeCredentials(host: string, user: string, password: string): Promise<boolean> {
    const rec = await this.store.get(host, user);
    if (!rec) return false;
    const missing = SCRAM_HASHES.filter((h) => !rec.credentials.scram[h]);
    const needDigest = this.opts.digestMd5Hosts?.has(host) && rec.credentials.digestMd5 === undefined;
    if (missing.length === 0 && !needDigest) return false;
    const fresh = await this.credentialsFor(host, user, password);
    const scram = { ...rec.credentials.scram };
    for (const h of missing) scram[h] = fresh.scram[h]!;
    const next: StoredCredentials = { ...rec.credentials, scram };
    if (needDigest && fresh.digestMd5 !== undefined) next.digestMd5 = fresh.digestMd5;
    return this.store.setCredentials(host, user, next);
  }

  async create(host: string, username: string, password: string): Promise<void> {
    const user = AccountService.normalizeUser(username);
    if (!(await this.store.create(host, user, await this.credentialsFor(host, user, password)))) throw new AccountExistsError(`${user}@${host} already exists`);
    this.remember(host, user, true);
    await this.opts.onChange?.('created', host, user);
  }

  async setPassword(host: string, username: string, password: string): Promise<boolean> {
    const user = AccountService.normalizeUser(username);
    return this.store.setCredentials(host, user, await this.credentialsFor(host, user, password));
  }

  async delete(host: string, username: string): Promise<boolean> {
    const user = AccountService.normalizeUser(username);
    const ok = await this.store.delete(host, user);
    this.exists.delete(host + '\0' + user);
    if (ok) await this.opts.onChange?.('deleted', host, user);
    return ok;
  }

  list(host?: string): Promise<{ host: string; user: string }[]> { return this.store.list(host); }

  async userExists(host: string, user: string): Promise<boolean> {
    const k = host + '\0' + user;
    const cached = this.exists.get(k);
    if (cached !== undefined) return cached;
    const found = (await this.store.get(host, user)) !== undefined;
    this.remember(host, user, found);
    return found;
  }

  async scram(host: string, user: string, hash: ScramHash): Promise<ScramCredential | undefined> {
    return (await this.store.get(host, user))?.credentials.scram[hash];
  }

  async digestSecret(host: string, user: string): Promise<string | undefined> {
    return (await this.store.get(host, user))?.credentials.digestMd5;
  }

  private remember(host: string, user: string, v: boolean): void {
    if (this.exists.size >= this.cacheSize) this.exists.clear();
    this.exists.set(host + '\0' + user, v);
  }
}
