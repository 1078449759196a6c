// `magpie export`: every account of the chosen hosts as XEP-0227 1.1 XML (§2 file format), written
// piece by piece: one user's small sections at a time, the large ones (offline messages, the
// message archive, PEP items) page by page, with the sink's backpressure respected, so memory
// stays bounded whatever the size of the server.
//
// Per user: <scram-credentials/> for every stored hash (§2.3; never a password: Magpie has none),
// the roster with ask and pre-approval (§2.4, RFC 6121 §2.1.2), inbound subscription requests
// (§2.9), the vCard (§2.7), private XML (§2.6), privacy lists (§2.8; the XEP-0191 blocklist is one
// of them, see blocking/privacy-rules.ts), PEP nodes with configuration, affiliations,
// subscriptions and items (§2.10), offline messages with their delay stamp (§2.5) and the MAM
// archive (§2.11). Not exported (no place in the format): DIGEST-MD5 secrets, MUC rooms, the
// pubsub service domains' nodes, MAM preferences, XEP-0357 push registrations, HTTP uploads.

import { Element, serialize, xml } from '@magpie/core/xml/element';
import { escapeAttr } from '@magpie/core/xml/escape';
import { parseFragment } from '@magpie/core/xml/parser';
import { formatDateTime } from '@magpie/core/protocol/datetime';
import { NS } from '@magpie/core/protocol/namespaces';
import type { Json, Storage, AccountRecord } from '../storage/storage.js';
import { SCRAM_HASHES } from '../accounts/accounts.js';
import { configForm } from '../modules/pubsub/node-config.js';
import type { Item, NodeRecord } from '../modules/pubsub/node-store.js';
import { listElement } from '../modules/privacy/privacy-xml.js';
import type { PrivacyItem } from '../modules/blocking/privacy-rules.js';
import {
  MECHANISM_OF, NS_DATA, NS_FORWARD, NS_MAM, NS_PIE, NS_PIE_MAM, NS_PIE_SCRAM, NS_PRIVACY, NS_PRIVATE,
  NS_PUBSUB, NS_PUBSUB_OWNER, NS_ROSTER, STORES,
} from './pie-format.js';

/** Where the XML goes; resolves when the sink can take more. */
export interface Sink { write(text: string): Promise<void> }

export interface ExportOptions {
  hosts: string[];
  /** Only this user (localpart) of each host. */
  user?: string;
  /** Include the MAM archive (§2.11). */
  archive: boolean;
  /** Items read per storage query for offline messages, archives and PEP items. */
  pageSize: number;
  /** Told about data that could not be exported (unreadable stored XML). */
  warn?: (msg: string) => void;
}

export interface ExportSummary { hosts: number; users: number; rosterItems: number; offline: number; archived: number; pepNodes: number; pepItems: number }

const openTag = (name: string, attrs: Record<string, string>, xmlns?: string): string =>
  `<${name}${xmlns ? ` xmlns="${escapeAttr(xmlns)}"` : ''}${Object.entries(attrs).map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('')}>`;

export async function exportPie(storage: Storage, o: ExportOptions, sink: Sink): Promise<ExportSummary> {
  const sum: ExportSummary = { hosts: 0, users: 0, rosterItems: 0, offline: 0, archived: 0, pepNodes: 0, pepItems: 0 };
  await sink.write(`<?xml version='1.0' encoding='UTF-8'?>\n${openTag('server-data', {}, NS_PIE)}\n`);
  for (const host of o.hosts) {
    sum.hosts++;
    await sink.write(`  ${openTag('host', { jid: host })}\n`);
    const users = o.user !== undefined ? [{ host, user: o.user }] : await storage.accounts.list(host);
    for (const { user } of users) {
      const rec = await storage.accounts.get(host, user);
      if (!rec) continue;
      await new UserExport(storage, rec, o, sink, sum).run();
      sum.users++;
    }
    await sink.write('  </host>\n');
  }
  await sink.write('</server-data>\n');
  return sum;
}

class UserExport {
  private readonly host: string;
  private readonly user: string;
  constructor(private readonly storage: Storage, private readonly rec: AccountRecord, private readonly o: ExportOptions,
    private readonly sink: Sink, private readonly sum: ExportSummary) {
    this.host = rec.host;
    this.user = rec.user;
  }

  private put(el: Element): Promise<void> { return this.sink.write('      ' + serialize(el, NS_PIE) + '\n'); }
  private warn(what: string, err: unknown): void {
    this.o.warn?.(`${this.user}@${this.host}: ${what} skipped: ${err instanceof Error ? err.message : String(err)}`);
  }
  private parse(text: string, what: string): Element | undefined {
    try { return parseFragment(text); } catch (e) { this.warn(what, e); return undefined; }
  }

  async run(): Promise<void> {
    await this.sink.write(`    ${openTag('user', { name: this.user })}\n`);
    for (const h of SCRAM_HASHES) {
      const c = this.rec.credentials.scram[h];
      if (!c) continue;
      await this.put(xml('scram-credentials', NS_PIE_SCRAM, { mechanism: MECHANISM_OF[h] },
        xml('iter-count', NS_PIE_SCRAM, {}, String(c.iterations)), xml('salt', NS_PIE_SCRAM, {}, c.salt),
        xml('server-key', NS_PIE_SCRAM, {}, c.serverKey), xml('stored-key', NS_PIE_SCRAM, {}, c.storedKey)));
    }
    await this.roster();
    await this.vcard();
    await this.privateXml();
    await this.privacy();
    await this.pep();
    await this.offline();
    if (this.o.archive) await this.archive();
    await this.sink.write('    </user>\n');
  }

  private async roster(): Promise<void> {
    const { map } = this.storage;
    const items = await map.getAll<Json>(this.host, this.user, STORES.roster);
    if (items.size) {
      const q = xml('query', NS_ROSTER);
      for (const v of items.values()) {
        if (!v || typeof v !== 'object' || Array.isArray(v) || typeof v.jid !== 'string') continue;
        const sub = ['to', 'from', 'both'].includes(v.subscription as string) ? v.subscription as string : 'none';
        const el = q.c('item', { jid: v.jid, name: typeof v.name === 'string' ? v.name : undefined, subscription: sub,
          ask: v.ask === 'subscribe' ? 'subscribe' : undefined, approved: v.approved === true ? 'true' : undefined });
        for (const g of Array.isArray(v.groups) ? v.groups : []) if (typeof g === 'string') el.c('group').t(g);
        this.sum.rosterItems++;
      }
      await this.put(q);
    }
    // §2.9: inbound requests as the presence stanzas they were.
    for (const [contact, text] of await map.getAll<Json>(this.host, this.user, STORES.rosterPending)) {
      const p = typeof text === 'string' ? this.parse(text, `the subscription request of ${contact}`) : undefined;
      const el = p && p.name === 'presence' ? p : xml('presence', NS.CLIENT);
      el.xmlns = NS.CLIENT;
      el.setAttr('from', contact).setAttr('type', 'subscribe');
      await this.put(el);
    }
  }

  private async vcard(): Promise<void> {
    const text = await this.storage.kv.get<Json>(this.host, this.user, STORES.vcard);
    const el = typeof text === 'string' ? this.parse(text, 'the vCard') : undefined;
    if (el) await this.put(el);
  }

  private async privateXml(): Promise<void> {
    const all = await this.storage.map.getAll<Json>(this.host, this.user, STORES.private);
    if (!all.size) return;
    const q = xml('query', NS_PRIVATE);
    for (const [ns, texts] of all) {
      for (const t of Array.isArray(texts) ? texts : []) {
        const el = typeof t === 'string' ? this.parse(t, `private XML ${ns}`) : undefined;
        if (el) q.append(el);
      }
    }
    await this.put(q);
  }

  private async privacy(): Promise<void> {
    const all = await this.storage.map.getAll<Json>(this.host, this.user, STORES.privacy);
    if (!all.size) return;
    const q = xml('query', NS_PRIVACY);
    const def = all.get('default');
    if (typeof def === 'string') q.c('default', { name: def });
    for (const [k, v] of all) {
      if (k.startsWith('list:') && Array.isArray(v)) q.append(listElement(k.slice(5), v as unknown as PrivacyItem[]));
    }
    await this.put(q);
  }

  private async pep(): Promise<void> {
    const nodes = await this.storage.map.getAll<Json>(this.host, this.user, STORES.pubsubNodes) as unknown as Map<string, NodeRecord>;
    if (!nodes.size) return;
    const owner = xml('pubsub', NS_PUBSUB_OWNER);
    for (const [node, rec] of nodes) {
      const form = configForm(rec.config, 'form');
      // A submitted form: values only (labels and options describe this server, not the node).
      form.setAttr('type', 'submit');
      for (const f of form.getChildren('field', NS_DATA)) {
        f.removeChildren((c) => c.name === 'option');
        delete f.attrs.label;
      }
      owner.c('configure', { node }).append(form);
      const affs = Object.entries(rec.affiliations ?? {});
      if (affs.length) {
        const a = owner.c('affiliations', { node });
        for (const [jid, affiliation] of affs) a.c('affiliation', { jid, affiliation });
      }
      const subs = Object.entries(rec.subscriptions ?? {});
      const pending = Object.entries(rec.pending ?? {});
      if (subs.length || pending.length) {
        const s = owner.c('subscriptions', { node });
        for (const [jid, subid] of subs) s.c('subscription', { jid, subscription: 'subscribed', subid });
        for (const [jid, subid] of pending) s.c('subscription', { jid, subscription: 'pending', subid });
      }
      this.sum.pepNodes++;
    }
    await this.put(owner);
    // Items node by node, each node's items written as they are read.
    await this.sink.write(`      ${openTag('pubsub', {}, NS_PUBSUB)}\n`);
    for (const [node, rec] of nodes) {
      await this.sink.write(`        ${openTag('items', { node })}\n`);
      if (rec.config.persist_items !== false) {
        const items = await this.storage.map.getAll<Json>(this.host, this.user, STORES.pubsubItems(node)) as unknown as Map<string, Item>;
        for (const it of [...items.values()].sort((a, b) => a.seq - b.seq)) {
          const el = xml('item', NS_PUBSUB, { id: it.id, publisher: it.publisher || undefined });
          if (it.payload) {
            const p = this.parse(it.payload, `PEP item ${node}/${it.id}`);
            if (!p) continue;
            el.append(p);
          }
          await this.sink.write('          ' + serialize(el, NS_PUBSUB) + '\n');
          this.sum.pepItems++;
        }
      }
      await this.sink.write('        </items>\n');
    }
    await this.sink.write('      </pubsub>\n');
  }

  /** Every item of an archive store, oldest first, a page at a time. */
  private async *pages(store: string): AsyncGenerator<{ id: string; when: number; payload: string }> {
    let after: string | undefined;
    for (;;) {
      const page = await this.storage.archive.query(this.host, this.user, store, { limit: this.o.pageSize, countUpTo: 0, ...(after ? { after } : {}) });
      for (const it of page.items) yield it;
      if (page.complete || page.items.length === 0) return;
      after = page.items.at(-1)!.id;
    }
  }

  private async offline(): Promise<void> {
    let open = false;
    for await (const it of this.pages(STORES.offline)) {
      const el = this.parse(it.payload, `offline message ${it.id}`);
      if (!el) continue;
      if (!open) { await this.sink.write('      <offline-messages>\n'); open = true; }
      el.xmlns = NS.CLIENT;
      // §2.5's example: the time it was stored, as offline delivery would stamp it.
      el.removeChildren((c) => c.name === 'delay' && c.xmlns === NS.DELAY && c.attrs.from === this.host);
      el.c('delay', { from: this.host, stamp: formatDateTime(it.when) }, NS.DELAY).t('Offline Storage');
      await this.sink.write('        ' + serialize(el, NS_PIE) + '\n');
      this.sum.offline++;
    }
    if (open) await this.sink.write('      </offline-messages>\n');
  }

  private async archive(): Promise<void> {
    let open = false;
    for await (const it of this.pages(STORES.mam)) {
      const el = this.parse(it.payload, `archived message ${it.id}`);
      if (!el) continue;
      if (!open) { await this.sink.write(`      ${openTag('archive', {}, NS_PIE_MAM)}\n`); open = true; }
      el.xmlns = NS.CLIENT;
      const result = xml('result', NS_MAM, { id: it.id }, xml('forwarded', NS_FORWARD, {}, xml('delay', NS.DELAY, { stamp: formatDateTime(it.when) }), el));
      await this.sink.write('        ' + serialize(result, NS_PIE_MAM) + '\n');
      this.sum.archived++;
    }
    if (open) await this.sink.write('      </archive>\n');
  }
}
