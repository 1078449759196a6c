// vcard-temp (XEP-0054 1.3.0): the server stores each account's vCard and answers for it.
// §3.1: a user's get of their own vCard without one is an empty <vCard/> result (one of the
// two answers the section allows). §3.2: a user sets their vCard with an iq set to no 'to' (or
// their own bare JID); a set on anyone else's vCard is <forbidden/>. §3.3: anyone gets a user's
// vCard at the bare JID; the server answers on the account's behalf, and when the account has no
// vCard *or does not exist* it answers <service-unavailable/> in both cases (1.3.0 aligns with
// RFC 6121 §8.5.1, and the same answer prevents directory harvesting). §4: the 'vcard-temp'
// feature, on the server and on accounts. The server's own vCard (§3.3, last note) is an option.
// Stored as serialised XML in the kv store 'vcard'; a vCard larger than `maxBytes` is refused
// with <policy-violation/> (RFC 6120 §8.3.3.12: a local service policy; the XEP names none).

import { z } from 'zod';
import { Element, xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { StanzaError } from '@magpie/core/protocol/errors';
import { defineModule } from '../module.js';

export const NS_VCARD = 'vcard-temp';
const STORE = 'vcard';

/** What the vcard module offers others (XEP-0398 avatar conversion): read, write, hear writes. */
export const VCARD = 'vcard';
export interface VCardService {
  get(host: string, user: string): Promise<Element | undefined>;
  /** Store a vCard on the account's behalf (limits apply as for the user's own set). */
  set(host: string, user: string, vcard: Element): Promise<void>;
  /** Called after each stored change, whoever made it; awaited before the set is answered. */
  onSet(listener: (host: string, user: string, vcard: Element) => Promise<void> | void): () => void;
}

/** Parse stored or configured vCard XML, checking it is a vcard-temp <vCard/>. */
export function parseVCard(text: string): Element {
  const el = parseFragment(text);
  if (el.name !== 'vCard' || el.xmlns !== NS_VCARD) throw new Error(`not a <vCard xmlns='${NS_VCARD}'/> element`);
  return el;
}

export default defineModule({
  manifest: {
    name: 'vcard',
    description: 'vCards of accounts (vcard-temp), stored by the server and served on their behalf',
    specs: [{ spec: 'XEP-0054', version: '1.3.0', status: 'complete', notes: 'another user\'s missing vCard and a missing account both answer service-unavailable (§3.3); a size limit (policy-violation)' }],
    options: z.object({
      /** Largest vCard stored, in bytes of serialised XML (photos included). */
      maxBytes: z.number().int().positive().default(64 * 1024),
      /** The server's own vCard, as XML (<vCard xmlns='vcard-temp'>...</vCard>); none by default. */
      serverVCard: z.string().optional(),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const store = api.stores.kv(STORE);
    let serverVCard: Element | undefined;
    if (o.serverVCard !== undefined) {
      try { serverVCard = parseVCard(o.serverVCard); } catch (e) { throw new Error(`modules.options.vcard.serverVCard: ${(e as Error).message}`); }
    }

    api.discoFeature(NS_VCARD, 'host');
    api.discoFeature(NS_VCARD, 'account');

    const load = async (host: string, user: string): Promise<Element | undefined> => {
      const text = await store.get<string>(host, user);
      if (text === undefined) return undefined;
      try { return parseVCard(text); } catch (e) {
        api.log.error({ host, user, err: (e as Error).message }, 'stored vCard is unreadable');
        return undefined;
      }
    };

    api.iq({ type: 'get', scope: 'bare', xmlns: NS_VCARD, name: 'vCard' }, async (ev) => {
      const { domain, local } = ev.to;
      const own = ev.from.bareString() === ev.to.bareString();
      const vcard = await load(domain, local);
      if (vcard) return vcard;
      if (own) return xml('vCard', NS_VCARD); // §3.1
      throw new StanzaError('service-unavailable'); // §3.3: no vCard, or no such account
    });

    const listeners = new Set<(host: string, user: string, vcard: Element) => Promise<void> | void>();
    const save = async (host: string, user: string, vcard: Element): Promise<void> => {
      const text = vcard.toString();
      if (Buffer.byteLength(text, 'utf8') > o.maxBytes) throw new StanzaError('policy-violation', `the vCard exceeds ${o.maxBytes} bytes`);
      // An empty <vCard/> removes it, as there is no other way to (§3.2 replaces it entirely).
      await store.set(host, user, vcard.elements().length === 0 ? undefined : text);
      for (const l of listeners) {
        try { await l(host, user, vcard); } catch (e) { api.log.error({ err: e, host, user }, 'vCard listener failed'); }
      }
    };
    api.provide<VCardService>(VCARD, {
      get: load, set: save,
      onSet: (l) => { listeners.add(l); return () => { listeners.delete(l); }; },
    });

    api.iq({ type: 'set', scope: 'bare', xmlns: NS_VCARD, name: 'vCard' }, async (ev, vcard) => {
      // §3.2: only the account itself (the stamped 'from' is one of its resources).
      if (ev.from.bareString() !== ev.to.bareString()) throw new StanzaError('forbidden', 'a vCard may only be set by its owner');
      await save(ev.to.domain, ev.to.local, vcard);
      return undefined;
    });

    api.iq({ type: 'get', scope: 'host', xmlns: NS_VCARD, name: 'vCard' }, () => {
      if (!serverVCard) throw new StanzaError('service-unavailable');
      return serverVCard.clone();
    });
    api.iq({ type: 'set', scope: 'host', xmlns: NS_VCARD, name: 'vCard' }, () => {
      throw new StanzaError('forbidden', 'the server\'s vCard is configured, not set');
    });
  },
});
