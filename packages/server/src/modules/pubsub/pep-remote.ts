// Contacts on other servers (XEP-0163 §4.2, §4.3.3): what they want to be notified about is
// learnt from the entity capabilities in the presence they send to a local account (XEP-0115
// §6.1): the account's bare JID asks the contact's full JID for disco#info on 'node#ver' and
// checks the answer against 'ver' (§5.4) before believing it; verified answers are cached per
// verification string. Unavailable presence forgets the resource. Bounded per account and in
// total, since remote peers choose how many resources and strings they announce.

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import type { JID } from '@magpie/core/jid/jid';
import type { ModuleApi } from '../module.js';
import type { StanzaEvent } from '../../hooks/events.js';
import { CAPS_HASHES, verificationString } from '../caps/verification.js';

const NS_CAPS = 'http://jabber.org/protocol/caps';

export interface RemoteInterest {
  /** Full JIDs of `contact`'s (a remote bare JID) available resources that want `node` events for `owner`. */
  interested(owner: string, contact: string, node: string): string[];
}

export function createRemoteInterest(api: ModuleApi<unknown>, o: { maxResourcesPerAccount: number; maxCachedVers: number; queryTimeoutMs: number },
  onKnown: (owner: JID, remote: string, features: string[]) => void): RemoteInterest {
  /** owner bare → remote full JID → verification key ('hash ver'). */
  const byOwner = new Map<string, Map<string, string>>();
  const verified = new Map<string, string[]>();
  const inflight = new Map<string, Promise<string[] | undefined>>();

  const lookup = async (owner: string, remote: string, hash: string, node: string, ver: string): Promise<string[] | undefined> => {
    const key = `${hash} ${ver}`;
    const hit = verified.get(key);
    if (hit) return hit;
    const running = inflight.get(key);
    if (running) { const r = await running; if (r) return r; }
    const p = (async () => {
      let q: Element | undefined;
      try {
        const res = await api.request(xml('iq', NS.CLIENT, { type: 'get', from: owner, to: remote }, xml('query', NS.DISCO_INFO, { node: `${node}#${ver}` })), o.queryTimeoutMs);
        q = res.getChild('query', NS.DISCO_INFO);
      } catch { return undefined; }
      if (!q || verificationString(q, hash) !== ver) return undefined;
      const features = q.getChildren('feature', NS.DISCO_INFO).map((f) => f.attr('var') ?? '').filter((f) => f);
      verified.set(key, features);
      while (verified.size > o.maxCachedVers) verified.delete(verified.keys().next().value!);
      return features;
    })().finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  };

  const observe = (ev: StanzaEvent): undefined => {
    if (api.isLocalHost(ev.from.domain) || !ev.from.resource || ev.to.resource) return undefined;
    const owner = ev.to.bareString();
    const remote = ev.from.toString();
    const type = ev.stanza.attrs.type;
    if (type === 'unavailable') { byOwner.get(owner)?.delete(remote); return undefined; }
    if (type !== undefined) return undefined;
    const c = ev.stanza.getChild('c', NS_CAPS);
    const hash = c?.attr('hash')?.toLowerCase();
    const node = c?.attr('node');
    const ver = c?.attr('ver');
    if (!hash || !node || !ver || !CAPS_HASHES[hash]) return undefined;
    let m = byOwner.get(owner);
    if (!m) { m = new Map(); byOwner.set(owner, m); }
    const key = `${hash} ${ver}`;
    if (m.get(remote) === key) return undefined;
    if (!m.has(remote) && m.size >= o.maxResourcesPerAccount) return undefined;
    m.set(remote, key);
    void lookup(owner, remote, hash, node, ver).then((features) => {
      if (features && byOwner.get(owner)?.get(remote) === key) onKnown(ev.to.bare, remote, features);
    });
    return undefined;
  };
  // Before the presence module delivers it (priority -50); never stops the event.
  api.hook('presence/bare', observe, 10);

  return {
    interested(owner, contact, node) {
      const out: string[] = [];
      for (const [full, key] of byOwner.get(owner) ?? []) {
        if (!full.startsWith(`${contact}/`)) continue;
        if (verified.get(key)?.includes(`${node}+notify`)) out.push(full);
      }
      return out;
    },
  };
}
