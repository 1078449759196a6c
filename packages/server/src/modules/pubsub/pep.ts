// Personal Eventing Protocol (XEP-0163 1.2.2): a virtual PubSub service on every account's bare
// JID, owned by the account. Nodes are auto-created on first publish (§3, with the
// publish-options as configuration); contacts with a presence subscription ('from'/'both') are
// implicitly subscribed ("auto-subscribe", §4) and, like the owner's own resources, receive
// notifications only on their available resources whose verified entity capabilities (the
// 'caps' service, XEP-0115) include '<node>+notify' ("filtered notifications", §4.2, §4.3.3);
// explicit XEP-0060 subscriptions are honoured too, as their options (XEP-0060 §6.3) say. The
// 'authorize' access model is not offered here, so no authorization requests are sent; a
// subscription's change of state is told to the subscriber (XEP-0060 §13.14). The last
// published item goes to each newly-available resource with +notify, of the owner and of its
// contacts (§4.3.4, the on_sub_and_presence default), when its capabilities become known.
// Contacts on other servers: their +notify interests are learnt from the caps in the presence
// they send the account (./pep-remote.ts).

import { JID } from '@magpie/core/jid/jid';
import { xml } from '@magpie/core/xml/element';
import type { ModuleApi } from '../module.js';
import type { ClientSession } from '../../session/session.js';
import { BLOCKING, ROSTER, type BlockingService, type RosterService } from '../im-services/services.js';
import { CAPS, type CapsService } from '../caps/client-caps.js';
import type { EventKind, Notifier, PubSubService } from './engine.js';
import type { Item, NodeRecord } from './node-store.js';
import { authorizationMessage, eventElement, eventMessage, subscriptionMessage } from './notify.js';
import { deliveryTargets } from './subscription-options.js';
import type { RemoteInterest } from './pep-remote.js';

export type PepListener = (owner: JID, node: string, kind: EventKind, items: Item[]) => Promise<void> | void;

export interface PepNotifierDeps {
  api: ModuleApi<unknown>;
  /** The PEP service of an account, if the account exists. */
  serviceOf(bare: JID): PubSubService;
  listeners: Set<PepListener>;
  /** Listener work started by an event, per account, awaited before the request that caused it is answered. */
  pending: Map<string, Set<Promise<void>>>;
  /** Resources of remote contacts that want a node's events. */
  remote(): RemoteInterest | undefined;
}

const NS_DELAY = 'urn:xmpp:delay';

export function createPepNotifier(d: PepNotifierDeps): Notifier & {
  onAvailable(s: ClientSession, features: string[]): Promise<void>;
  onRemoteKnown(owner: JID, remote: string, features: string[]): Promise<void>;
} {
  const { api } = d;
  const caps = (): CapsService | undefined => api.service<CapsService>(CAPS);
  const roster = (): RosterService | undefined => api.service<RosterService>(ROSTER);
  // XEP-0191/XEP-0016: a contact the owner blocks hears nothing of the owner's PEP either.
  const blocked = async (owner: PubSubService, jid: string): Promise<boolean> =>
    (await api.service<BlockingService>(BLOCKING)?.isBlocked(owner.spec.host, owner.spec.user, jid, 'presence-out')) ?? false;
  const wants = (s: ClientSession, node: string): boolean => s.presence !== undefined && !!caps()?.featuresOf(s.jid.toString())?.includes(`${node}+notify`);

  /** Every full (or bare) JID that should receive an event about `node` of `svc`. */
  const recipients = async (svc: PubSubService, node: string, rec: NodeRecord): Promise<Set<string>> => {
    const owner = svc.spec.owner!;
    const out = new Set<string>();
    for (const s of api.sessions.resources(owner)) if (wants(s, node)) out.add(s.jid.toString());
    const contacts = (await roster()?.all(svc.spec.host, svc.spec.user)) ?? [];
    for (const it of contacts) {
      if (it.subscription !== 'from' && it.subscription !== 'both') continue;
      const targets = api.sessions.resources(it.jid).filter((s) => wants(s, node)).map((s) => s.jid.toString());
      targets.push(...(d.remote()?.interested(owner, it.jid, node) ?? []));
      if (targets.length === 0 || !(await svc.mayAccess(rec, it.jid)) || (await blocked(svc, it.jid))) continue;
      for (const t of targets) out.add(t);
    }
    for (const jid of Object.keys(rec.subscriptions)) {
      const j = JID.tryParse(jid);
      if (!j || !(await svc.mayAccess(rec, jid)) || (await blocked(svc, jid))) continue;
      // §4.3.3: a bare JID subscriber whose interested resources are known gets them only.
      if (j.isBare && [...out].some((t) => t.startsWith(`${jid}/`))) continue;
      for (const t of deliveryTargets(api.sessions, jid, rec.subOptions?.[jid])) out.add(t);
    }
    return out;
  };

  const sendLast = async (svc: PubSubService, node: string, rec: NodeRecord, to: string, items: Item[]): Promise<void> => {
    for (const item of items) {
      const msg = eventMessage(svc.jid, to, rec, eventElement(node, rec, 'items', [item]));
      msg.append(xml('delay', NS_DELAY, { from: svc.jid, stamp: new Date(item.t).toISOString() }));
      await api.send(msg);
    }
  };

  /** The last item of each of `svc`'s nodes `s` is interested in and may see. */
  const lastOf = async (svc: PubSubService, to: string, features: Set<string>): Promise<void> => {
    if (JID.parse(to).bareString() !== svc.jid && (await blocked(svc, to))) return;
    for (const node of await svc.nodeNames()) {
      if (!features.has(`${node}+notify`)) continue;
      const rec = await svc.record(node);
      if (!rec || rec.config.send_last_published_item !== 'on_sub_and_presence') continue;
      if (!(await svc.mayAccess(rec, to))) continue;
      const last = (await svc.itemsOf(node)).at(-1);
      if (last) await sendLast(svc, node, rec, to, [last]);
    }
  };

  return {
    async event(svc, node, rec, kind, items) {
      const ev = eventElement(node, rec, kind, items);
      for (const to of await recipients(svc, node, rec)) await api.send(eventMessage(svc.jid, to, rec, ev));
      const owner = JID.parse(svc.spec.owner!);
      for (const l of d.listeners) {
        // Not awaited here: a listener may publish to the same service, whose queue is busy
        // with this very event; the request handler awaits `pending` before answering.
        let set = d.pending.get(svc.spec.owner!);
        if (!set) { set = new Set(); d.pending.set(svc.spec.owner!, set); }
        const mine = set;
        const p: Promise<void> = Promise.resolve().then(() => l(owner, node, kind, items))
          .catch((e: unknown) => api.log.error({ err: e, node }, 'PEP listener failed'))
          .finally(() => { mine.delete(p); if (mine.size === 0 && d.pending.get(svc.spec.owner!) === mine) d.pending.delete(svc.spec.owner!); });
        mine.add(p);
      }
    },
    async lastItems(svc, node, rec, to, items) {
      for (const t of deliveryTargets(api.sessions, to, rec.subOptions?.[to])) await sendLast(svc, node, rec, t, items);
    },
    subscription: (svc, node, jid, state, subid) => api.send(subscriptionMessage(svc.jid, node, jid, state, subid)),
    async authorizationRequest(svc, node, owners, jid, subid) {
      for (const o of owners) await api.send(authorizationMessage(svc.jid, o, node, jid, subid));
    },
    async onAvailable(s, features) {
      const f = new Set(features);
      await lastOf(d.serviceOf(s.jid.bare), s.jid.toString(), f);
      for (const it of (await roster()?.all(s.host, s.username)) ?? []) {
        if (it.subscription !== 'to' && it.subscription !== 'both') continue;
        const contact = JID.tryParse(it.jid);
        if (!contact?.local || !api.isLocalHost(contact.domain)) continue;
        if (!(await api.accounts.userExists(contact.domain, contact.local))) continue;
        await lastOf(d.serviceOf(contact), s.jid.toString(), f);
      }
    },
    /** A remote contact's resource whose interests just became known (§4.3.4 for other servers). */
    async onRemoteKnown(owner, remote, features) {
      const it = await roster()?.get(owner.domain, owner.local, JID.parse(remote).bareString());
      if (it?.subscription !== 'from' && it?.subscription !== 'both') return;
      await lastOf(d.serviceOf(owner), remote, new Set(features));
    },
  };
}
