// Bookmarks: PEP Native Bookmarks (XEP-0402 1.2) kept in step with the legacy XEP-0048 forms
// (§"Compatibility"): the private XML storage document <storage xmlns='storage:bookmarks'/>
// (XEP-0049, announced as 'urn:xmpp:bookmarks:1#compat') and the PEP node 'storage:bookmarks'
// ('#compat-pep'). The XEP-0402 node is the source of truth: a private XML get is answered from
// it (plus the legacy-only <url/> entries), a private XML set or a publish to the legacy PEP node
// is turned into XEP-0402 publishes and retractions, and every change to the XEP-0402 node
// rewrites the legacy forms. Each direction writes only what differs, so the echo of a write
// changes nothing and the two sides settle.

import { xml, type Element } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import { defineModule } from '../module.js';
import { PEP, type PepService } from '../pubsub/pubsub.js';
import type { PubSubService } from '../pubsub/engine.js';
import { payloadOf } from '../pubsub/notify.js';
import { NS_BOOKMARKS, NS_LEGACY, fromLegacy, fromNative, sameBookmark, toLegacy, toNative, type Bookmark } from './conversion.js';

const NS_PRIVATE = 'jabber:iq:private';
/** The legacy document's non-conference children (XEP-0048 <url/>), kept in this module's map. */
const STORE = 'bookmarks-legacy';
const NATIVE_OPTIONS = new Map([['pubsub#persist_items', ['true']], ['pubsub#max_items', ['max']], ['pubsub#send_last_published_item', ['never']], ['pubsub#access_model', ['whitelist']]]);
const LEGACY_OPTIONS = new Map([['pubsub#persist_items', ['true']], ['pubsub#access_model', ['whitelist']]]);

export default defineModule({
  manifest: {
    name: 'bookmarks',
    description: 'PEP Native Bookmarks, unified with the legacy private XML and PEP bookmarks',
    specs: [
      { spec: 'XEP-0402', version: '1.2', status: 'complete', notes: 'with #compat (XEP-0049 storage:bookmarks) and #compat-pep (PEP node storage:bookmarks); XEP-0048 <url/> bookmarks stay in the legacy form only' },
      { spec: 'XEP-0048', version: '1.2', status: 'complete', notes: 'served from XEP-0402 bookmarks through private XML storage and PEP' },
    ],
    depends: ['pubsub', 'private'],
    defaultEnabled: true,
  },
  setup(api) {
    const pep = api.service<PepService>(PEP);
    if (!pep) throw new Error('bookmarks: the pep service is missing');
    if (!pep.enabled) { api.log.info('PEP is disabled: bookmarks are kept in private XML storage only'); return; }
    api.discoFeature(`${NS_BOOKMARKS}#compat`, 'account');
    api.discoFeature(`${NS_BOOKMARKS}#compat-pep`, 'account');

    const owner = (svc: PubSubService): JID => JID.parse(svc.spec.owner!);

    const native = async (svc: PubSubService): Promise<Map<string, { b: Bookmark; ext?: Element }>> => {
      const out = new Map<string, { b: Bookmark; ext?: Element }>();
      if (!(await svc.record(NS_BOOKMARKS))) return out;
      for (const it of await svc.itemsOf(NS_BOOKMARKS)) {
        const p = payloadOf(it);
        const b = fromNative(it.id, p);
        if (!b) continue;
        const ext = p?.getChild('extensions', NS_BOOKMARKS);
        out.set(b.jid, ext ? { b, ext } : { b });
      }
      return out;
    };
    const legacyOthers = async (svc: PubSubService): Promise<Element[]> => {
      const texts = await api.stores.map.get<string[]>(svc.spec.host, svc.spec.user, STORE, 'others');
      return (texts ?? []).flatMap((t) => { try { return [parseFragment(t)]; } catch { return []; } });
    };

    /** Make the XEP-0402 node hold exactly `wanted` (publishing as the account). */
    const applyToNative = async (svc: PubSubService, wanted: Bookmark[]): Promise<void> => {
      const have = await native(svc);
      const me = owner(svc);
      for (const b of wanted) {
        const cur = have.get(b.jid);
        if (cur && sameBookmark(cur.b, b)) continue;
        const exists = !!(await svc.record(NS_BOOKMARKS));
        await svc.publish(NS_BOOKMARKS, me, b.jid, toNative(b, cur?.ext).toString(), exists ? undefined : NATIVE_OPTIONS);
      }
      const gone = [...have.keys()].filter((j) => !wanted.some((b) => b.jid === j));
      if (gone.length) await svc.retract(NS_BOOKMARKS, me, gone, true);
    };

    /** Rewrite the legacy PEP node from the XEP-0402 node, when it differs. */
    const syncLegacyPep = async (svc: PubSubService): Promise<void> => {
      const doc = toLegacy([...(await native(svc)).values()].map((v) => v.b), await legacyOthers(svc)).toString();
      if (await svc.record(NS_LEGACY)) {
        const cur = (await svc.itemsOf(NS_LEGACY)).at(-1);
        if (cur && cur.payload === doc) return;
      }
      await svc.publish(NS_LEGACY, owner(svc), 'current', doc, (await svc.record(NS_LEGACY)) ? undefined : LEGACY_OPTIONS);
    };

    pep.onEvent(async (who, node, kind, items) => {
      const svc = pep.of(who);
      if (node === NS_BOOKMARKS) { await syncLegacyPep(svc); return; }
      if (node === NS_LEGACY && kind === 'items') {
        const p = items[0] && payloadOf(items[0]);
        if (!p || p.name !== 'storage' || p.xmlns !== NS_LEGACY) return;
        const { bookmarks, others } = fromLegacy(p);
        await api.stores.map.set(svc.spec.host, svc.spec.user, STORE, 'others', others.map(String));
        await applyToNative(svc, bookmarks);
      }
    });

    // XEP-0049 get/set of storage:bookmarks, seen before the private module. A get of the
    // bookmarks alone is answered here; a set is converted, then left to the private module,
    // which checks its limits, stores the rest and answers.
    api.hook('iq/bare', async (ev) => {
      const s = ev.stanza;
      const type = s.attrs.type;
      if (type !== 'get' && type !== 'set') return undefined;
      const q = s.getChild('query', NS_PRIVATE);
      const storage = q?.getChild('storage', NS_LEGACY);
      if (!q || !storage) return undefined;
      if (ev.from.bareString() !== ev.to.bareString()) return undefined; // the private module refuses it
      if (type === 'get' && q.elements().length !== 1) return undefined;
      try {
        const svc = pep.of(ev.to.bare);
        if (type === 'set') {
          const { bookmarks, others } = fromLegacy(storage);
          await api.stores.map.set(ev.to.domain, ev.to.local, STORE, 'others', others.map(String));
          await applyToNative(svc, bookmarks);
          await syncLegacyPep(svc);
          return undefined;
        }
        const payload = xml('query', NS_PRIVATE, {}, toLegacy([...(await native(svc)).values()].map((v) => v.b), await legacyOthers(svc)));
        await api.send(xml('iq', NS.CLIENT, { type: 'result', id: s.attrs.id, from: ev.to.bareString(), to: ev.from.toString() }, payload));
      } catch (e) {
        if (!(e instanceof StanzaError)) api.log.error({ err: e }, 'bookmarks conversion failed');
        api.bounce(ev, e instanceof StanzaError ? e : new StanzaError('internal-server-error'));
      }
      return true;
    }, 10);
  },
});
