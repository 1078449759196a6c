// The PubSub engine (XEP-0060 1.26) shared by PEP (XEP-0163: one service per account, owned by
// it) and the generic service on pubsub.<host>: nodes, items, subscriptions, affiliations,
// configuration, access and publish models. It knows nothing of stanzas beyond the item
// payloads: ./protocol.ts turns requests into calls and results into XML, and the `Notifier`
// (./notify.ts, ./pep.ts) decides who receives event notifications.
// Mutations of one service are serialised (a queue per service), so concurrent publishes to one
// node cannot both see the same item count or both auto-create it. In a cluster (issue #8) the
// service may be used on several nodes at once: each mutation then also holds the account's lock
// in storage and re-reads the service first, and tells the other nodes to drop their copy.
// Access model 'authorize' (§4.5, §6.1.4, §8.6; the generic service only): a request from an
// entity without affiliation becomes a pending subscription, kept in the node record (at most
// `authorize.maxPendingPerNode` per node) apart from the subscriptions, so nothing that reads
// subscriptions (notifications, the 'subscribers' publish model, item retrieval) sees it until an
// owner approves it, by the authorization form (§8.6) or by setting it 'subscribed' (§8.8).
// Members, publishers and owners subscribe at once (§6.1.4 allows that policy). Subscription
// options (§6.3, ./subscription-options.ts) are kept per subscribed JID, pending or not.

import { randomUUID } from 'node:crypto';
import { StanzaError } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import { xml } from '@magpie/core/xml/element';
import { ACCESS_MODELS, NS_ERRORS, applyConfig, checkPreconditions, pubsubError, unsupported, type AccessModel, type NodeConfig } from './node-config.js';
import { NodeStore, type Affiliation, type Item, type NodeRecord, type SubOptions } from './node-store.js';
import { DEFAULT_SUB_OPTIONS, applySubOptions, isDefault } from './subscription-options.js';

export interface Limits {
  /** Most items a node keeps (and the meaning of max_items='max'). */
  maxItems: number;
  /** Most nodes in one service. */
  maxNodes: number;
  /** Largest item payload, bytes of serialised XML. */
  maxItemBytes: number;
}

/** What the engine asks its owner about people: roster relations for presence/roster access. */
export interface Relations {
  /** The owner's roster item for `contact` (bare JIDs), with its subscription and groups. */
  rosterItem(owner: string, contact: string): Promise<{ subscription: string; groups: string[] } | undefined>;
  /** Is `jid` on this server, so that its presence is known (subscription option show-values)? */
  presenceKnown(jid: string): boolean;
}

export type EventKind = 'items' | 'retract' | 'delete' | 'purge' | 'config';
export interface Notifier {
  /** A node event; `items` for publish (new items) or retract (their ids). */
  event(svc: PubSubService, node: string, rec: NodeRecord, kind: EventKind, items: Item[]): Promise<void>;
  /** The last item(s) of a node for one new subscriber (send_last_published_item). */
  lastItems(svc: PubSubService, node: string, rec: NodeRecord, to: string, items: Item[]): Promise<void>;
  /** §13.14: tell `jid` that its subscription is now `state` (approved, or denied/removed). */
  subscription(svc: PubSubService, node: string, jid: string, state: 'subscribed' | 'none', subid?: string): Promise<void>;
  /** §8.6: ask the node's owners to approve or deny the pending request of `jid`. */
  authorizationRequest(svc: PubSubService, node: string, owners: string[], jid: string, subid: string): Promise<void>;
}

export type SubscriptionState = 'subscribed' | 'pending';

export interface ServiceSpec {
  host: string; user: string;
  /** The service's JID: the account's bare JID (PEP) or the service domain. */
  jid: string;
  /** PEP: the account (bare JID) owns every node. */
  owner?: string;
  defaults: NodeConfig;
  limits: Limits;
  /** Who may create nodes (the PEP owner only; a policy on the generic service). */
  mayCreate(from: JID): boolean;
  /** The 'authorize' access model is offered, with this many pending requests per node at most. */
  authorize?: { maxPendingPerNode: number };
}

interface NodeState { rec: NodeRecord; items?: Item[] }

/** Cluster mode: how mutations are serialised across nodes, and how the others learn of them. */
export interface ServiceSync {
  lock<T>(fn: () => Promise<T>): Promise<T>;
  /** Resolves once the other nodes have dropped their copy (the change is answered after). */
  changed(): Promise<void>;
}

const bareOf = (jid: string): string => { const j = JID.parse(jid); return j.bareString(); };
/** Affiliations that subscribe to an 'authorize' node without approval. */
const PRE_APPROVED: readonly Affiliation[] = ['owner', 'publisher', 'member'];

export class PubSubService {
  private loaded?: Promise<Map<string, NodeState>>;
  private queue: Promise<unknown> = Promise.resolve();
  readonly store: NodeStore;

  constructor(readonly spec: ServiceSpec, store: NodeStore, private relations: Relations, private notifier: Notifier, private readonly sync?: ServiceSync) { this.store = store; }

  /** Forget what was read from storage (another cluster node changed the service). */
  invalidate(): void { this.loaded = undefined; }

  get jid(): string { return this.spec.jid; }
  get isPep(): boolean { return this.spec.owner !== undefined; }

  /** Run `fn` after every mutation queued before it. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const sync = this.sync;
    const run = !sync ? fn : async () => {
      let ran = false;
      try {
        return await sync.lock(() => {
          this.loaded = undefined; // what another node wrote before we got the lock
          ran = true;
          return fn();
        });
      } finally {
        // Outside the lock (the next mutation need not wait for it), before the answer.
        if (ran) await sync.changed();
      }
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private nodesMap(): Promise<Map<string, NodeState>> {
    this.loaded ??= this.store.nodes().then((m) => new Map([...m].map(([k, rec]) => [k, { rec }])));
    return this.loaded;
  }
  async nodeNames(): Promise<string[]> { return [...(await this.nodesMap()).keys()]; }
  async record(node: string): Promise<NodeRecord | undefined> { return (await this.nodesMap()).get(node)?.rec; }

  private async state(node: string): Promise<NodeState> {
    const st = (await this.nodesMap()).get(node);
    if (!st) throw new StanzaError('item-not-found', `no node ${node}`);
    return st;
  }
  async itemsOf(node: string): Promise<Item[]> {
    const st = await this.state(node);
    st.items ??= st.rec.config.persist_items ? await this.store.items(node) : [];
    return st.items;
  }

  affiliation(rec: NodeRecord, jid: string): Affiliation {
    const bare = bareOf(jid);
    if (this.spec.owner !== undefined && bare === this.spec.owner) return 'owner';
    return rec.affiliations[bare] ?? 'none';
  }
  /** The access models this service offers. */
  get accessModels(): readonly AccessModel[] {
    return this.spec.authorize ? ACCESS_MODELS : ACCESS_MODELS.filter((m) => m !== 'authorize');
  }
  /** `base` with a submitted configuration applied, in the models this service offers. */
  private configured(base: NodeConfig, fields: Map<string, string[]>): NodeConfig {
    const c = applyConfig(base, fields);
    if (!this.accessModels.includes(c.access_model)) throw unsupported(`access-${c.access_model}`);
    return c;
  }
  private owners(rec: NodeRecord): string[] {
    return this.spec.owner !== undefined ? [this.spec.owner] : Object.keys(rec.affiliations).filter((j) => rec.affiliations[j] === 'owner');
  }
  requireOwner(rec: NodeRecord, from: JID): void {
    if (this.affiliation(rec, from.toString()) !== 'owner') throw new StanzaError('forbidden', 'only an owner of the node may do this');
  }

  /** May `jid` see the node's items and subscribe to it (XEP-0060 §4.5, §6.1.3, §6.5.9)? Throws the error when not. */
  async checkAccess(rec: NodeRecord, jid: string): Promise<void> {
    const aff = this.affiliation(rec, jid);
    if (aff === 'outcast') throw new StanzaError('forbidden', 'you are banned from this node');
    if (aff === 'owner' || aff === 'publisher' || aff === 'member') return;
    const bare = bareOf(jid);
    switch (rec.config.access_model) {
      case 'open': return;
      case 'presence': {
        for (const o of this.owners(rec)) {
          const it = await this.relations.rosterItem(o, bare);
          if (it && (it.subscription === 'from' || it.subscription === 'both')) return;
        }
        throw pubsubError('not-authorized', 'presence-subscription-required');
      }
      case 'roster': {
        const allowed = new Set(rec.config.roster_groups_allowed);
        for (const o of this.owners(rec)) {
          const it = await this.relations.rosterItem(o, bare);
          if (it && it.groups.some((g) => allowed.has(g))) return;
        }
        throw pubsubError('not-authorized', 'not-in-roster-group');
      }
      case 'authorize':
        // §6.5.1: only subscribers retrieve items; a pending request is not a subscription.
        if (Object.keys(rec.subscriptions).some((j) => bareOf(j) === bare)) return;
        throw pubsubError('not-authorized', 'not-subscribed');
      case 'whitelist': throw pubsubError('not-allowed', 'closed-node');
    }
  }
  async mayAccess(rec: NodeRecord, jid: string): Promise<boolean> {
    try { await this.checkAccess(rec, jid); return true; } catch { return false; }
  }
  /** May `jid` learn that the node exists (disco)? An 'authorize' node shows itself to whoever may ask to subscribe. */
  async mayDiscover(rec: NodeRecord, jid: string): Promise<boolean> {
    if (rec.config.access_model === 'authorize') return this.affiliation(rec, jid) !== 'outcast';
    return this.mayAccess(rec, jid);
  }

  /** The options of the subscription (or pending request) of `jid`. */
  subOptionsOf(rec: NodeRecord, jid: string): SubOptions {
    return rec.subOptions?.[jid] ?? DEFAULT_SUB_OPTIONS;
  }
  private setSubOptions(rec: NodeRecord, jid: string, o: SubOptions | undefined): void {
    if (o && !isDefault(o)) { (rec.subOptions ??= {})[jid] = o; return; }
    if (!rec.subOptions) return;
    delete rec.subOptions[jid];
    if (Object.keys(rec.subOptions).length === 0) delete rec.subOptions;
  }
  /** The subscription id of `jid`'s subscription or pending request, and which of the two it is. */
  subscriptionOf(rec: NodeRecord, jid: string): { subid: string; state: SubscriptionState } | undefined {
    const sub = rec.subscriptions[jid];
    if (sub) return { subid: sub, state: 'subscribed' };
    const p = rec.pending?.[jid];
    return p ? { subid: p, state: 'pending' } : undefined;
  }
  private dropPending(rec: NodeRecord, jid: string): void {
    if (!rec.pending) return;
    delete rec.pending[jid];
    if (Object.keys(rec.pending).length === 0) delete rec.pending;
  }
  /** Approve a pending request: it becomes a subscription with the same id; the subscriber hears it. */
  private async approve(node: string, rec: NodeRecord, jid: string): Promise<() => Promise<void>> {
    const subid = rec.pending![jid]!;
    rec.subscriptions[jid] = subid;
    this.dropPending(rec, jid);
    return async () => {
      await this.notifier.subscription(this, node, jid, 'subscribed', subid);
      await this.sendLastOnSubscribe(node, rec, jid);
    };
  }
  /** End a subscription or pending request (denied, removed, outcast); the former subscriber hears it. */
  private end(node: string, rec: NodeRecord, jid: string): (() => Promise<void>) | undefined {
    const had = rec.subscriptions[jid] ?? rec.pending?.[jid];
    delete rec.subscriptions[jid];
    this.dropPending(rec, jid);
    this.setSubOptions(rec, jid, undefined);
    return had ? () => this.notifier.subscription(this, node, jid, 'none') : undefined;
  }
  private async sendLastOnSubscribe(node: string, rec: NodeRecord, jid: string): Promise<void> {
    const mode = rec.config.send_last_published_item;
    if (mode !== 'on_sub' && mode !== 'on_sub_and_presence') return;
    const last = (await this.itemsOf(node)).at(-1);
    if (last) await this.notifier.lastItems(this, node, rec, jid, [last]);
  }

  private newRecord(owner: JID, config: NodeConfig): NodeRecord {
    const rec: NodeRecord = { config, affiliations: {}, subscriptions: {}, created: Date.now() };
    if (!this.isPep) rec.affiliations[owner.bareString()] = 'owner';
    return rec;
  }
  private validateName(node: string): void {
    if (node === '' || node.length > 1024) throw new StanzaError('not-acceptable', 'node names are 1 to 1024 characters');
  }

  /** §8.1: create a node (an instant node when `node` is undefined); returns its name. */
  create(node: string | undefined, from: JID, config?: Map<string, string[]>): Promise<string> {
    return this.serial(async () => {
      if (!this.spec.mayCreate(from)) throw new StanzaError('forbidden', 'you may not create nodes here');
      const nodes = await this.nodesMap();
      const name = node ?? randomUUID();
      this.validateName(name);
      if (nodes.has(name)) throw new StanzaError('conflict', `the node ${name} exists`);
      if (nodes.size >= this.spec.limits.maxNodes) throw pubsubError('not-allowed', 'max-nodes-exceeded');
      const rec = this.newRecord(from, config ? this.configured(this.spec.defaults, config) : { ...this.spec.defaults });
      nodes.set(name, { rec, items: [] });
      await this.store.saveNode(name, rec);
      return name;
    });
  }

  /** §8.2: apply a submitted configuration form. */
  configure(node: string, from: JID, fields: Map<string, string[]>): Promise<void> {
    return this.serial(async () => {
      const st = await this.state(node);
      this.requireOwner(st.rec, from);
      const before = st.rec.config;
      const config = this.configured(before, fields);
      const items = await this.itemsOf(node);
      st.rec = { ...st.rec, config };
      // Persisting switched on or off: move the items between memory and the store.
      if (before.persist_items && !config.persist_items) await this.store.clearItems(node);
      if (!before.persist_items && config.persist_items) await this.store.changeItems(node, items, []);
      await this.trim(node, st);
      await this.store.saveNode(node, st.rec);
      if (config.notify_config) await this.notifier.event(this, node, st.rec, 'config', []);
    });
  }

  private capacity(c: NodeConfig): number {
    return c.max_items === 'max' ? this.spec.limits.maxItems : Math.min(c.max_items, this.spec.limits.maxItems);
  }
  /** Drop the oldest items beyond max_items. */
  private async trim(node: string, st: NodeState): Promise<void> {
    const items = st.items ?? [];
    const over = items.length - this.capacity(st.rec.config);
    if (over <= 0) return;
    const dropped = items.splice(0, over);
    if (st.rec.config.persist_items) await this.store.changeItems(node, [], dropped.map((i) => i.id));
  }

  /** §8.4: delete a node; subscribers are told first (notify_delete). */
  remove(node: string, from: JID): Promise<void> {
    return this.serial(async () => {
      const st = await this.state(node);
      this.requireOwner(st.rec, from);
      (await this.nodesMap()).delete(node);
      await this.store.clearItems(node);
      await this.store.saveNode(node, undefined);
      if (st.rec.config.notify_delete) await this.notifier.event(this, node, st.rec, 'delete', []);
    });
  }

  /** §8.5: purge every item. */
  purge(node: string, from: JID): Promise<void> {
    return this.serial(async () => {
      const st = await this.state(node);
      this.requireOwner(st.rec, from);
      st.items = [];
      await this.store.clearItems(node);
      if (st.rec.config.notify_retract) await this.notifier.event(this, node, st.rec, 'purge', []);
    });
  }

  /**
   * §7.1: publish one item (auto-creating the node, §7.1.4, with the publish-options as its
   * configuration; an existing node must meet them, §7.1.5). Returns the item's id.
   */
  publish(node: string, from: JID, id: string | undefined, payload: string, options?: Map<string, string[]>): Promise<string> {
    return this.serial(async () => {
      this.validateName(node);
      const nodes = await this.nodesMap();
      let st = nodes.get(node);
      if (!st) {
        if (!this.spec.mayCreate(from)) throw new StanzaError('item-not-found', `no node ${node}`);
        if (nodes.size >= this.spec.limits.maxNodes) throw pubsubError('not-allowed', 'max-nodes-exceeded');
        let config: NodeConfig;
        try { config = options ? this.configured(this.spec.defaults, options) : { ...this.spec.defaults }; } catch (e) {
          if (e instanceof StanzaError && e.condition === 'feature-not-implemented') throw e;
          throw pubsubError('conflict', 'precondition-not-met', (e as Error).message);
        }
        if (!payload && config.persist_items) throw pubsubError('bad-request', 'payload-required');
        st = { rec: this.newRecord(from, config), items: [] };
        nodes.set(node, st);
        await this.store.saveNode(node, st.rec);
      } else if (options) {
        checkPreconditions(st.rec.config, options);
      }
      // §7.1.3.6: a persistent node's items carry a payload.
      if (!payload && st.rec.config.persist_items) throw pubsubError('bad-request', 'payload-required');
      const rec = st.rec;
      const aff = this.affiliation(rec, from.toString());
      const may = aff === 'owner' || aff === 'publisher' || aff === 'publish-only'
        || (rec.config.publish_model === 'open' && aff !== 'outcast')
        || (rec.config.publish_model === 'subscribers' && aff !== 'outcast' && Object.keys(rec.subscriptions).some((j) => bareOf(j) === from.bareString()));
      if (!may) throw new StanzaError('forbidden', 'you may not publish to this node');
      if (Buffer.byteLength(payload, 'utf8') > this.spec.limits.maxItemBytes) throw pubsubError('not-acceptable', 'payload-too-big');
      const items = await this.itemsOf(node);
      const itemId = id ?? randomUUID();
      const old = items.findIndex((i) => i.id === itemId);
      if (old >= 0) items.splice(old, 1); // a republished id replaces the item and becomes the newest (§7.1.2)
      const item: Item = { id: itemId, payload, publisher: from.toString(), seq: (items.at(-1)?.seq ?? 0) + 1, t: Date.now() };
      items.push(item);
      if (rec.config.persist_items) await this.store.changeItems(node, [item], []);
      await this.trim(node, st);
      if (rec.config.deliver_notifications) await this.notifier.event(this, node, rec, 'items', [item]);
      return itemId;
    });
  }

  /** §7.2: retract items by id; `notify` asks for retraction notifications. */
  retract(node: string, from: JID, ids: string[], notify: boolean): Promise<void> {
    return this.serial(async () => {
      const st = await this.state(node);
      const items = await this.itemsOf(node);
      const found = ids.map((id) => items.find((i) => i.id === id));
      if (found.some((i) => !i)) throw new StanzaError('item-not-found', 'no such item');
      const aff = this.affiliation(st.rec, from.toString());
      // §7.2.3.1: publishers may retract any item; others only their own (open publish model).
      const mayAll = aff === 'owner' || aff === 'publisher';
      if (!mayAll && found.some((i) => bareOf(i!.publisher) !== from.bareString() || aff === 'outcast')) throw new StanzaError('forbidden', 'you may not retract this item');
      st.items = items.filter((i) => !ids.includes(i.id));
      if (st.rec.config.persist_items) await this.store.changeItems(node, [], ids);
      if (notify || st.rec.config.notify_retract) await this.notifier.event(this, node, st.rec, 'retract', found as Item[]);
    });
  }

  /** §6.5: items the requester may see: by id, or the `max` most recent, oldest first. */
  async items(node: string, from: JID, opts: { ids?: string[]; max?: number }): Promise<Item[]> {
    const st = await this.state(node);
    await this.checkAccess(st.rec, from.toString());
    const items = await this.itemsOf(node);
    if (opts.ids?.length) return opts.ids.map((id) => items.find((i) => i.id === id)).filter((i): i is Item => i !== undefined);
    return opts.max !== undefined ? items.slice(Math.max(0, items.length - opts.max)) : [...items];
  }

  /**
   * §6.1: subscribe `jid` (whose bare JID must be the requester's, §6.1.3.1), with the options
   * submitted along (§6.3.7). On an 'authorize' node the request waits for an owner (§6.1.4).
   */
  subscribe(node: string, from: JID, jid: JID, options?: Map<string, string[]>): Promise<{ subid: string; state: SubscriptionState; options: SubOptions; presenceKnown: boolean }> {
    return this.serial(async () => {
      if (jid.bareString() !== from.bareString()) throw pubsubError('bad-request', 'invalid-jid');
      const st = await this.state(node);
      const rec = st.rec;
      const key = jid.toString();
      // Checked before anything changes: bad options leave no subscription behind.
      const presenceKnown = this.relations.presenceKnown(key);
      const opts = options ? applySubOptions(this.subOptionsOf(rec, key), options, presenceKnown) : undefined;
      const aff = this.affiliation(rec, key);
      if (aff === 'outcast') throw new StanzaError('forbidden', 'you are banned from this node');
      if (rec.config.access_model === 'authorize' && !PRE_APPROVED.includes(aff) && !rec.subscriptions[key]) {
        const pending = rec.pending ?? {};
        // §6.1.3.7: one request at a time.
        if (pending[key]) throw pubsubError('not-authorized', 'pending-subscription');
        // §6.1.3.9: "too many" is local policy; it bounds what one node keeps for its owners.
        if (Object.keys(pending).length >= this.spec.authorize!.maxPendingPerNode) {
          throw new StanzaError('policy-violation', 'too many subscription requests are waiting for approval on this node', 'wait', xml('too-many-subscriptions', NS_ERRORS));
        }
        const subid = randomUUID();
        rec.pending = { ...pending, [key]: subid };
        this.setSubOptions(rec, key, opts);
        await this.store.saveNode(node, rec);
        await this.notifier.authorizationRequest(this, node, this.owners(rec), key, subid);
        return { subid, state: 'pending', options: this.subOptionsOf(rec, key), presenceKnown };
      }
      await this.checkAccess(rec, key);
      // A request left pending when the node stopped being 'authorize' (or the requester gained
      // an affiliation) is granted now, keeping its id.
      const pendingId = rec.pending?.[key];
      if (pendingId) this.dropPending(rec, key);
      rec.subscriptions[key] ??= pendingId ?? randomUUID();
      if (opts) this.setSubOptions(rec, key, opts);
      await this.store.saveNode(node, rec);
      await this.sendLastOnSubscribe(node, rec, key);
      return { subid: rec.subscriptions[key]!, state: 'subscribed', options: this.subOptionsOf(rec, key), presenceKnown };
    });
  }

  /** §6.2: end a subscription, or withdraw a pending request. */
  unsubscribe(node: string, from: JID, jid: JID): Promise<void> {
    return this.serial(async () => {
      const st = await this.state(node);
      if (jid.bareString() !== from.bareString() && this.affiliation(st.rec, from.toString()) !== 'owner') throw pubsubError('bad-request', 'invalid-jid');
      const key = jid.toString();
      if (!this.subscriptionOf(st.rec, key)) throw pubsubError('unexpected-request', 'not-subscribed');
      delete st.rec.subscriptions[key];
      this.dropPending(st.rec, key);
      this.setSubOptions(st.rec, key, undefined);
      await this.store.saveNode(node, st.rec);
    });
  }

  /** §6.3.4: whose options `from` may see and change (its own JIDs only), and the subscription they belong to. */
  private optionsTarget(rec: NodeRecord, from: JID, jid: JID, subid: string | undefined): { key: string; subid: string } {
    if (jid.bareString() !== from.bareString()) throw new StanzaError('forbidden', 'only the subscriber may see or change its subscription options');
    const key = jid.toString();
    const sub = this.subscriptionOf(rec, key);
    if (!sub) throw pubsubError('unexpected-request', 'not-subscribed');
    if (subid !== undefined && subid !== sub.subid) throw pubsubError('not-acceptable', 'invalid-subid');
    return { key, subid: sub.subid };
  }

  /** §6.3.1–§6.3.4: the options of `jid`'s subscription (or pending request). */
  async subscriptionOptions(node: string, from: JID, jid: JID, subid: string | undefined): Promise<{ subid: string; options: SubOptions; presenceKnown: boolean }> {
    const st = await this.state(node);
    const t = this.optionsTarget(st.rec, from, jid, subid);
    return { subid: t.subid, options: this.subOptionsOf(st.rec, t.key), presenceKnown: this.relations.presenceKnown(t.key) };
  }

  /** §6.3.5: apply a submitted options form. */
  setSubscriptionOptions(node: string, from: JID, jid: JID, subid: string | undefined, fields: Map<string, string[]>): Promise<void> {
    return this.serial(async () => {
      const st = await this.state(node);
      const t = this.optionsTarget(st.rec, from, jid, subid);
      this.setSubOptions(st.rec, t.key, applySubOptions(this.subOptionsOf(st.rec, t.key), fields, this.relations.presenceKnown(t.key)));
      await this.store.saveNode(node, st.rec);
    });
  }

  /**
   * §8.6: an owner's answer to an authorization request. `subid`, when the form carries one,
   * must be the request's (an answer to an older request of the same JID is not this one's).
   */
  decide(node: string, from: JID, subscriber: string, subid: string | undefined, allow: boolean): Promise<void> {
    return this.serial(async () => {
      const st = await this.state(node);
      this.requireOwner(st.rec, from);
      const want = st.rec.pending?.[subscriber];
      // Another owner may have answered first ("first approval wins", §13.13).
      if (!want || (subid !== undefined && subid !== want)) throw new StanzaError('item-not-found', 'no such pending subscription request');
      const then = allow ? await this.approve(node, st.rec, subscriber) : this.end(node, st.rec, subscriber);
      await this.store.saveNode(node, st.rec);
      await then?.();
    });
  }

  /**
   * §8.8, §8.9: the owner changes subscriptions / affiliations. A subscription set to 'none' is
   * removed (a pending request denied), one set to 'subscribed' created (a pending request
   * approved); the subscriber is told either way (§8.8.4).
   */
  setSubscriptions(node: string, from: JID, changes: [string, 'subscribed' | 'none'][]): Promise<void> {
    return this.serial(async () => {
      const st = await this.state(node);
      this.requireOwner(st.rec, from);
      const then: (() => Promise<void>)[] = [];
      for (const [jid, s] of changes) {
        if (s === 'none') { const t = this.end(node, st.rec, jid); if (t) then.push(t); } else if (st.rec.pending?.[jid]) then.push(await this.approve(node, st.rec, jid));
        else if (!st.rec.subscriptions[jid]) {
          const subid = randomUUID();
          st.rec.subscriptions[jid] = subid;
          then.push(() => this.notifier.subscription(this, node, jid, 'subscribed', subid));
        }
      }
      await this.store.saveNode(node, st.rec);
      for (const t of then) await t();
    });
  }
  setAffiliations(node: string, from: JID, changes: [string, Affiliation][]): Promise<void> {
    return this.serial(async () => {
      const st = await this.state(node);
      this.requireOwner(st.rec, from);
      if (this.isPep && changes.some(([j, a]) => a === 'owner' || j === this.spec.owner)) throw unsupported('modify-affiliations');
      const next = { ...st.rec.affiliations };
      for (const [jid, a] of changes) { if (a === 'none') delete next[jid]; else next[jid] = a; }
      // §8.9.2.4: the last owner cannot give up ownership.
      if (!this.isPep && !Object.values(next).includes('owner')) throw new StanzaError('not-acceptable', 'a node needs an owner');
      st.rec.affiliations = next;
      // §8.7.4 note: an outcast loses its subscriptions and requests; a new member, publisher or
      // owner has its pending request approved.
      const then: (() => Promise<void>)[] = [];
      for (const [jid, a] of changes) {
        const mine = (keys: Record<string, string> | undefined): string[] => Object.keys(keys ?? {}).filter((k) => bareOf(k) === jid);
        if (a === 'outcast') {
          for (const k of [...mine(st.rec.subscriptions), ...mine(st.rec.pending)]) { const t = this.end(node, st.rec, k); if (t) then.push(t); }
        } else if (PRE_APPROVED.includes(a)) {
          for (const k of mine(st.rec.pending)) then.push(await this.approve(node, st.rec, k));
        }
      }
      await this.store.saveNode(node, st.rec);
      for (const t of then) await t();
    });
  }
}
