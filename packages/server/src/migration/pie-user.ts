// One <user/> of a XEP-0227 file (§2.2–§2.11) read into what Magpie stores, every JID checked
// with the PRECIS profiles of RFC 7622 (@magpie/core/jid). Reading is pure (a dry run reads
// everything the real import does); `applyUser` then writes it.
//
// Invalid data (a JID that is not one, a malformed credential, a privacy list the XEP-0016 rules
// refuse) is an error: the item is left out and the import ends with a non-zero status. Data the
// format allows but Magpie does not keep (another SCRAM hash, unknown node configuration fields,
// elements in namespaces not listed in XEP-0227) is a warning (§2: SHOULD ignore and notify).
//
// Module limits (vCard bytes, roster size, ...) are not applied: they bound what a user may send,
// and an operator's import is not a user's request; migration.maxUserBytes bounds each user.

import { randomBytes, randomUUID } from 'node:crypto';
import { Element, serialize } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { NS } from '@magpie/core/protocol/namespaces';
import { parseDateTime } from '@magpie/core/protocol/datetime';
import { fromBase64, tryPrepareOpaqueString } from '@magpie/core/sasl/encoding';
import type { Json, ScramCredential, Storage, StoredCredentials, ArchiveItem } from '../storage/storage.js';
import type { AccountService } from '../accounts/accounts.js';
import { applyConfig, type NodeConfig } from '../modules/pubsub/node-config.js';
import { AFFILIATIONS, type Affiliation, type Item, type NodeRecord } from '../modules/pubsub/node-store.js';
import { parseItems } from '../modules/privacy/privacy-xml.js';
import { fromLegacy, toNative, NS_BOOKMARKS, NS_LEGACY } from '../modules/bookmarks/conversion.js';
import {
  HASH_OF, KEY_BYTES, NS_DATA, NS_FORWARD, NS_MAM, NS_PIE, NS_PIE_MAM, NS_PIE_SCRAM, NS_PRIVACY, NS_PRIVATE,
  NS_PUBSUB, NS_PUBSUB_OWNER, NS_ROSTER, NS_VCARD, STORES,
} from './pie-format.js';

export interface UserPlan {
  host: string;
  user: string;
  /** Keys as they are, or a password to derive them from (then forgotten). */
  credentials: StoredCredentials;
  password?: string;
  roster: [string, Json][];
  pending: [string, string][];
  vcard?: string;
  private: [string, string[]][];
  privacy: [string, Json][];
  pep: { node: string; rec: NodeRecord; items: Item[] }[];
  bookmarksLegacy?: string[];
  offline: { when: number; with: string; payload: string; bytes: number }[];
  archive: (Omit<ArchiveItem, 'id'> & { id?: string })[];
  errors: string[];
  warnings: string[];
}

export interface ReadUserOptions {
  /** Defaults of a new PEP node (the pubsub module's options). */
  pepDefaults: NodeConfig;
  /** Turn XEP-0048 private bookmarks into XEP-0402 PEP bookmarks (the bookmarks module serves those). */
  bookmarksToPep: boolean;
}

/** The user's localpart, PRECIS-checked; throws with a message for the report. */
export function userName(host: string, el: Element): string {
  const name = el.attrs.name;
  if (!name) throw new Error('a <user/> without a name');
  try { return JID.of(name, host).local; } catch (e) { throw new Error(`user name '${name}' is not a valid localpart: ${(e as Error).message}`); }
}

/** A bare JID, canonical, or undefined (with `why` set by the caller's message). */
function bareJid(s: string | undefined): string | undefined {
  const j = JID.tryParse(s);
  return j && !j.resource ? j.toString() : undefined;
}

export function readUser(host: string, el: Element, o: ReadUserOptions): UserPlan {
  const user = userName(host, el);
  const self = `${user}@${host}`;
  const plan: UserPlan = { host, user, credentials: { scram: {} }, roster: [], pending: [], private: [], privacy: [], pep: [], offline: [], archive: [], errors: [], warnings: [] };
  const err = (m: string): void => { plan.errors.push(m); };
  const warn = (m: string): void => { plan.warnings.push(m); };

  const password = el.attrs.password;
  if (password !== undefined && password !== '') {
    if (tryPrepareOpaqueString(password) === undefined) err('the password attribute is not a valid password (RFC 8265 OpaqueString)');
    else plan.password = password;
  }
  for (const k of Object.keys(el.attrs)) if (k !== 'name' && k !== 'password') warn(`user attribute ${k} ignored`);

  let privacyDefault: string | undefined;
  const lists = new Set<string>();
  let legacyBookmarks: Element | undefined;
  let archiveIds = new Set<string>();
  for (const c of el.elements()) {
    const key = `${c.xmlns} ${c.name}`;
    switch (key) {
      case `${NS_PIE_SCRAM} scram-credentials`: {
        const mech = c.attrs.mechanism ?? '';
        const hash = HASH_OF[mech];
        if (!hash) { warn(`SCRAM credentials for ${mech || 'no mechanism'} ignored (Magpie keeps SCRAM-SHA-1, -256, -512)`); break; }
        if (plan.credentials.scram[hash]) { err(`two sets of ${mech} credentials`); break; }
        const text = (n: string): string => (c.getChildText(n, NS_PIE_SCRAM) ?? '').trim();
        const iter = text('iter-count');
        const cred: ScramCredential = { iterations: Number(iter), salt: text('salt'), serverKey: text('server-key'), storedKey: text('stored-key') };
        // ejabberd 23.01 (export_piefxis) base64-encodes salt and keys twice. Keys of the wrong
        // length whose decoded text is base64 of the right length can only be that: then the
        // salt is decoded once too (the same exporter wrote it).
        const once = (b64: string): string | undefined => { const b = fromBase64(b64); return b ? Buffer.from(b).toString('latin1') : undefined; };
        const twice = (b64: string): boolean => fromBase64(b64)?.length !== KEY_BYTES[hash] && fromBase64(once(b64) ?? '')?.length === KEY_BYTES[hash];
        if (twice(cred.serverKey) && twice(cred.storedKey) && fromBase64(once(cred.salt) ?? '')?.length) {
          cred.serverKey = once(cred.serverKey)!; cred.storedKey = once(cred.storedKey)!; cred.salt = once(cred.salt)!;
          warn(`${mech}: salt and keys were base64-encoded twice (ejabberd 23.01); decoded once`);
        }
        const salt = fromBase64(cred.salt);
        if (!/^[1-9][0-9]{0,9}$/.test(iter) || cred.iterations > 0xffffffff) err(`${mech}: iter-count '${iter}' is not a positive integer`);
        else if (!salt || salt.length === 0) err(`${mech}: the salt is not base64`);
        else if (fromBase64(cred.serverKey)?.length !== KEY_BYTES[hash] || fromBase64(cred.storedKey)?.length !== KEY_BYTES[hash]) err(`${mech}: server-key and stored-key must be ${KEY_BYTES[hash]} bytes in base64`);
        else plan.credentials.scram[hash] = cred;
        break;
      }
      case `${NS_ROSTER} query`: readRoster(c, self, plan); break;
      case `${NS.CLIENT} presence`:
      // Prosody 0.12 (mod_storage_xep0227) writes the presence without a namespace of its own.
      case `${NS_PIE} presence`: {
        // §2.9: an inbound subscription request.
        if (c.attrs.type !== 'subscribe') { warn(`presence of type ${c.attrs.type ?? 'available'} ignored`); break; }
        const from = bareJid(c.attrs.from);
        if (!from) { err(`subscription request from '${c.attrs.from ?? ''}': not a bare JID`); break; }
        const p = c.clone();
        p.xmlns = NS.CLIENT;
        p.setAttr('from', from).setAttr('to', self);
        plan.pending.push([from, serialize(p)]);
        break;
      }
      case `${NS_VCARD} vCard`: if (c.elements().length) plan.vcard = serialize(c); break;
      case `${NS_PRIVATE} query`: {
        const byNs = new Map<string, string[]>();
        for (const frag of c.elements()) {
          if (frag.xmlns === NS_LEGACY && frag.name === 'storage' && o.bookmarksToPep) { legacyBookmarks = frag; continue; }
          if (frag.xmlns === '' || [NS.CLIENT, NS.SERVER, NS_PRIVATE].includes(frag.xmlns)) { err(`private XML in namespace '${frag.xmlns}' refused`); continue; }
          const list = byNs.get(frag.xmlns) ?? [];
          list.push(serialize(frag));
          byNs.set(frag.xmlns, list);
        }
        plan.private.push(...byNs);
        break;
      }
      case `${NS_PRIVACY} query`: {
        for (const l of c.elements()) {
          // ejabberd writes <default/> without a name for "no default list".
          if (l.name === 'default' && l.xmlns === NS_PRIVACY) { privacyDefault = l.attrs.name || undefined; continue; }
          if (l.name !== 'list' || l.xmlns !== NS_PRIVACY) { warn(`<${l.name}/> in privacy lists ignored`); continue; }
          const name = l.attrs.name;
          if (!name) { err('a privacy list without a name'); continue; }
          try {
            plan.privacy.push([`list:${name}`, parseItems(l) as unknown as Json]);
            lists.add(name);
          } catch (e) { err(`privacy list '${name}': ${(e as Error).message || (e as { condition?: string }).condition}`); }
        }
        break;
      }
      case `${NS_PUBSUB_OWNER} pubsub`: readPepConfig(c, self, o, plan); break;
      case `${NS_PUBSUB} pubsub`: readPepItems(c, self, o, plan); break;
      case `${NS_PIE} offline-messages`: readOffline(c, host, plan); break;
      case `${NS_PIE_MAM} archive`: archiveIds = readArchive(c, self, plan, archiveIds); break;
      default: warn(`<${c.name} xmlns='${c.xmlns}'/> is not understood; skipped`);
    }
  }
  if (privacyDefault !== undefined) {
    if (lists.has(privacyDefault)) plan.privacy.push(['default', privacyDefault]);
    else err(`the default privacy list '${privacyDefault}' does not exist`);
  }
  if (legacyBookmarks) bookmarksToPep(legacyBookmarks, self, o, plan);
  if (!plan.password && Object.keys(plan.credentials.scram).length === 0) warn('no credentials: the account cannot log in until `magpie passwd` sets a password');
  return plan;
}

function readRoster(q: Element, self: string, plan: UserPlan): void {
  const seen = new Set<string>();
  for (const it of q.getChildren('item', NS_ROSTER)) {
    const jid = bareJid(it.attrs.jid);
    if (!jid) { plan.errors.push(`roster item '${it.attrs.jid ?? ''}': not a bare JID`); continue; }
    if (jid === self) { plan.warnings.push('a roster item for the account itself skipped (RFC 6121 §2.3.3)'); continue; }
    if (seen.has(jid)) { plan.errors.push(`roster item ${jid} appears twice`); continue; }
    seen.add(jid);
    const sub = it.attrs.subscription ?? 'none';
    const item: { [k: string]: Json } = { jid, subscription: ['to', 'from', 'both'].includes(sub) ? sub : 'none', groups: [] };
    if (!['none', 'to', 'from', 'both'].includes(sub)) plan.warnings.push(`roster item ${jid}: subscription '${sub}' read as none`);
    if (it.attrs.name) item.name = it.attrs.name;
    if (it.attrs.ask === 'subscribe') item.ask = 'subscribe';
    if (it.attrs.approved === 'true' || it.attrs.approved === '1') item.approved = true;
    const groups: string[] = [];
    for (const g of it.getChildren('group', NS_ROSTER)) { const t = g.text(); if (t !== '' && !groups.includes(t)) groups.push(t); }
    item.groups = groups;
    plan.roster.push([jid, item]);
  }
}

function pepNode(plan: UserPlan, node: string, o: ReadUserOptions): { node: string; rec: NodeRecord; items: Item[] } {
  let n = plan.pep.find((p) => p.node === node);
  if (!n) {
    n = { node, rec: { config: { ...o.pepDefaults, roster_groups_allowed: [...o.pepDefaults.roster_groups_allowed] }, affiliations: {}, subscriptions: {}, created: Date.now() }, items: [] };
    plan.pep.push(n);
  }
  return n;
}

function readPepConfig(ps: Element, self: string, o: ReadUserOptions, plan: UserPlan): void {
  for (const c of ps.elements()) {
    const node = c.attrs.node;
    if (!node || node.length > 1024) { plan.errors.push(`PEP <${c.name}/> without a valid node name`); continue; }
    const n = pepNode(plan, node, o);
    if (c.name === 'configure') {
      const form = c.getChild('x', NS_DATA);
      for (const f of form?.getChildren('field', NS_DATA) ?? []) {
        const name = f.attrs.var;
        if (!name || name === 'FORM_TYPE') continue;
        const values = f.getChildren('value', NS_DATA).map((v) => v.text());
        try { n.rec.config = applyConfig(n.rec.config, new Map([[name, values]])); } catch (e) {
          plan.warnings.push(`PEP node ${node}: ${(e as Error).message}; the default kept`);
        }
      }
      // PEP offers no 'authorize' (pubsub/node-config.ts): the closest stricter model.
      if (n.rec.config.access_model === 'authorize') {
        n.rec.config.access_model = 'whitelist';
        plan.warnings.push(`PEP node ${node}: access model authorize is not offered for PEP; whitelist used`);
      }
    } else if (c.name === 'affiliations') {
      for (const a of c.getChildren('affiliation')) {
        const jid = bareJid(a.attrs.jid);
        const aff = a.attrs.affiliation as Affiliation;
        if (!jid) { plan.errors.push(`PEP node ${node}: affiliation of '${a.attrs.jid ?? ''}': not a bare JID`); continue; }
        if (!AFFILIATIONS.includes(aff)) { plan.errors.push(`PEP node ${node}: '${aff}' is not an affiliation`); continue; }
        if (jid === self || aff === 'none') continue; // the account owns its PEP nodes implicitly
        n.rec.affiliations[jid] = aff;
      }
    } else if (c.name === 'subscriptions') {
      for (const s of c.getChildren('subscription')) {
        const j = JID.tryParse(s.attrs.jid);
        if (!j) { plan.errors.push(`PEP node ${node}: subscription of '${s.attrs.jid ?? ''}': not a JID`); continue; }
        // Prosody 0.12 writes subscribed='subscribed' where XEP-0060 has subscription='subscribed'.
        const state = s.attrs.subscription ?? s.attrs.subscribed;
        const subid = s.attrs.subid || randomUUID();
        if (state === 'subscribed') n.rec.subscriptions[j.toString()] = subid;
        else if (state === 'pending') (n.rec.pending ??= {})[j.toString()] = subid;
        else plan.warnings.push(`PEP node ${node}: subscription state '${state ?? ''}' of ${j} skipped`);
      }
    } else {
      plan.warnings.push(`PEP <${c.name}/> is not understood; skipped`);
    }
  }
}

function readPepItems(ps: Element, self: string, o: ReadUserOptions, plan: UserPlan): void {
  for (const items of ps.getChildren('items', NS_PUBSUB)) {
    const node = items.attrs.node;
    if (!node || node.length > 1024) { plan.errors.push('PEP <items/> without a valid node name'); continue; }
    // §2.10.2 wants a configuration for each node; one that lacks it gets the defaults.
    const n = pepNode(plan, node, o);
    for (const it of items.getChildren('item', NS_PUBSUB)) {
      const payload = it.elements()[0];
      const publisher = JID.tryParse(it.attrs.publisher)?.toString() ?? self;
      const id = it.attrs.id || randomUUID();
      n.items = n.items.filter((x) => x.id !== id);
      n.items.push({ id, payload: payload ? serialize(payload) : '', publisher, seq: n.items.length + 1, t: Date.now() });
    }
  }
}

function bookmarksToPep(storage: Element, self: string, o: ReadUserOptions, plan: UserPlan): void {
  const { bookmarks, others } = fromLegacy(storage);
  if (plan.pep.some((p) => p.node === NS_BOOKMARKS)) {
    plan.warnings.push('private XEP-0048 bookmarks ignored: the file has XEP-0402 bookmarks');
    return;
  }
  if (bookmarks.length) {
    const n = pepNode(plan, NS_BOOKMARKS, o);
    // The options the bookmarks module gives the node it creates (XEP-0402 §5).
    n.rec.config = { ...n.rec.config, persist_items: true, max_items: 'max', send_last_published_item: 'never', access_model: 'whitelist' };
    for (const b of bookmarks) n.items.push({ id: b.jid, payload: serialize(toNative(b)), publisher: self, seq: n.items.length + 1, t: Date.now() });
  }
  if (others.length) plan.bookmarksLegacy = others.map((e) => serialize(e));
}

function readOffline(list: Element, host: string, plan: UserPlan): void {
  for (const m of list.elements()) {
    if (m.name !== 'message' || (m.xmlns !== NS.CLIENT && m.xmlns !== NS.SERVER)) { plan.warnings.push(`<${m.name}/> in offline-messages skipped`); continue; }
    const from = JID.tryParse(m.attrs.from);
    if (!from) { plan.errors.push(`offline message from '${m.attrs.from ?? ''}': not a JID`); continue; }
    const delays = m.getChildren('delay', NS.DELAY);
    const stamp = (delays.find((d) => d.attrs.from === host) ?? delays.at(-1))?.attrs.stamp;
    const when = stamp !== undefined ? parseDateTime(stamp) : undefined;
    if (stamp !== undefined && when === undefined) plan.warnings.push(`offline message from ${from}: bad delay stamp '${stamp}', import time used`);
    const el = m.clone();
    el.xmlns = NS.CLIENT;
    // Delivery stamps its own delay from this host (offline/offline-policy.ts withDelay).
    el.removeChildren((c) => c.name === 'delay' && c.xmlns === NS.DELAY && c.attrs.from === host);
    const payload = serialize(el);
    plan.offline.push({ when: when ?? Date.now(), with: from.bareString(), payload, bytes: Buffer.byteLength(payload) });
  }
}

function readArchive(a: Element, self: string, plan: UserPlan, ids: Set<string>): Set<string> {
  for (const r of a.elements()) {
    const fwd = r.name === 'result' && r.xmlns === NS_MAM ? r.getChild('forwarded', NS_FORWARD) : undefined;
    const m = fwd?.getChild('message', NS.CLIENT);
    if (!m) { plan.warnings.push(`<${r.name}/> in the archive skipped (a MAM <result/> with a forwarded message is expected)`); continue; }
    const when = parseDateTime(fwd!.getChild('delay', NS.DELAY)?.attrs.stamp ?? '');
    const from = JID.tryParse(m.attrs.from);
    const to = JID.tryParse(m.attrs.to);
    if (when === undefined) { plan.errors.push(`archived message ${r.attrs.id ?? ''}: no valid delay stamp`); continue; }
    if (!from || !to) { plan.errors.push(`archived message ${r.attrs.id ?? ''}: from/to are not JIDs`); continue; }
    const out = from.bareString() === self;
    const peer = out ? to : from;
    const item: Omit<ArchiveItem, 'id'> & { id?: string } = {
      when, with: peer.bareString(), payload: serialize(m), meta: { dir: out ? 'out' : 'in', type: m.attrs.type ?? 'normal' },
    };
    if (peer.resource) item.withResource = peer.resource;
    // Ids are kept (clients may hold them as RSM positions); a repeated one gets a fresh id.
    const id = r.attrs.id;
    if (id && !ids.has(id)) { item.id = id; ids.add(id); }
    plan.archive.push(item);
  }
  return ids;
}

export interface ApplyOptions { accounts: AccountService; storage: Storage; pageSize: number; replace: boolean }

/** Write a plan; false when the account exists and `replace` is off. */
export async function applyUser(p: UserPlan, o: ApplyOptions): Promise<boolean> {
  const { host, user } = p;
  const { storage } = o;
  let creds = p.credentials;
  if (p.password !== undefined) creds = await o.accounts.credentialsFor(host, user, p.password);
  if (o.replace) await o.accounts.delete(host, user);
  if (!(await o.accounts.createWithCredentials(host, user, creds))) return false;
  if (p.roster.length) {
    await storage.map.setMany(host, user, STORES.roster, p.roster);
    // A fresh version epoch: a client's cached version from the old server never matches.
    await storage.kv.set(host, user, STORES.rosterVersion, { epoch: randomBytes(4).toString('hex'), n: 1 });
  }
  if (p.pending.length) await storage.map.setMany(host, user, STORES.rosterPending, p.pending);
  if (p.vcard !== undefined) await storage.kv.set(host, user, STORES.vcard, p.vcard);
  if (p.private.length) await storage.map.setMany(host, user, STORES.private, p.private);
  if (p.privacy.length) await storage.map.setMany(host, user, STORES.privacy, p.privacy);
  for (const n of p.pep) {
    await storage.map.set(host, user, STORES.pubsubNodes, n.node, n.rec as unknown as Json);
    for (let i = 0; i < n.items.length; i += o.pageSize) {
      await storage.map.setMany(host, user, STORES.pubsubItems(n.node), n.items.slice(i, i + o.pageSize).map((it) => [it.id, it as unknown as Json]));
    }
  }
  if (p.bookmarksLegacy) await storage.map.set(host, user, 'bookmarks-legacy', 'others', p.bookmarksLegacy);
  if (p.offline.length) {
    for (let i = 0; i < p.offline.length; i += o.pageSize) {
      await storage.archive.appendMany(host, user, STORES.offline, p.offline.slice(i, i + o.pageSize).map((m) => ({ when: m.when, with: m.with, payload: m.payload, meta: { bytes: m.bytes } })));
    }
    // The quota's byte count (offline/offline-queue.ts).
    await storage.kv.set(host, user, STORES.offline, { bytes: p.offline.reduce((n, m) => n + m.bytes, 0) });
  }
  for (let i = 0; i < p.archive.length; i += o.pageSize) {
    await storage.archive.appendMany(host, user, STORES.mam, p.archive.slice(i, i + o.pageSize));
  }
  return true;
}
