// Private XML Storage (XEP-0049 1.2, jabber:iq:private): a user keeps arbitrary XML fragments
// on the server, one slot per namespace of the fragment's root element (§3: "scoped by its own
// namespace"), stored in the map store 'private' keyed by that namespace. A set may carry
// several elements, also several in one namespace (§3.3); they replace that namespace's slot
// together. A get names one namespace (§3.3) and returns what is stored, or echoes the empty
// element it asked for when nothing is.
// Errors (§3.3, §4): a get/set for another user → <forbidden/> (the preferred condition); a query
// without a child element, or a child in jabber:iq:private itself → <not-acceptable/> (the
// "Not Acceptable" of §3.3; the "Bad Format" the XEP also mentions is no RFC 6120 condition, and
// XEP-0086 maps its code 406 to not-acceptable); a reserved namespace → <not-acceptable/>:
// always for the stream and jabber:iq:private namespaces, which cannot be private data, and
// optionally (§3.3 makes it OPTIONAL) for every 'jabber:*', 'http://jabber.org/*' and
// 'vcard-temp'. Limits (bytes per namespace, namespaces per user) → <policy-violation/>.

import { z } from 'zod';
import { Element, xml } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import { defineModule } from '../module.js';

export const NS_PRIVATE = 'jabber:iq:private';
const STORE = 'private';
/** Namespaces that are never private data: stanzas and this protocol itself. */
const ALWAYS_REFUSED = new Set<string>([NS.CLIENT, NS.SERVER, NS.COMPONENT, NS.STREAM, NS_PRIVATE]);
const isReserved = (ns: string): boolean => ns.startsWith('jabber:') || ns.startsWith('http://jabber.org/') || ns === 'vcard-temp';

export default defineModule({
  manifest: {
    name: 'private',
    description: 'Private XML storage (jabber:iq:private) for each account',
    specs: [{ spec: 'XEP-0049', version: '1.2', status: 'complete', notes: 'one slot per namespace; limits per namespace and per user' }],
    options: z.object({
      /** Largest fragment(s) stored for one namespace, in bytes of serialised XML. */
      maxBytes: z.number().int().positive().default(64 * 1024),
      /** Namespaces one user may store. */
      maxNamespaces: z.number().int().positive().default(64),
      /** Longest namespace name accepted. */
      maxNamespaceLength: z.number().int().positive().default(1024),
      /** Also refuse the namespaces §3.3 calls reserved ('jabber:*', 'http://jabber.org/*', 'vcard-temp'). */
      refuseReservedNamespaces: z.boolean().default(false),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const map = api.stores.map;
    api.discoFeature(NS_PRIVATE);

    /** The query's fragments grouped by namespace, checked (§3.3). */
    const fragments = (query: Element): Map<string, Element[]> => {
      const out = new Map<string, Element[]>();
      const children = query.elements();
      if (children.length === 0) throw new StanzaError('not-acceptable', 'the query must contain an element in its own namespace');
      for (const el of children) {
        const ns = el.xmlns;
        if (ALWAYS_REFUSED.has(ns) || (o.refuseReservedNamespaces && isReserved(ns))) throw new StanzaError('not-acceptable', `the namespace '${ns}' is reserved`);
        if (ns === '' || ns.length > o.maxNamespaceLength) throw new StanzaError('not-acceptable', 'the element needs a namespace of its own');
        const list = out.get(ns);
        if (list) list.push(el); else out.set(ns, [el]);
      }
      return out;
    };

    const own = (ev: { from: { bareString(): string }; to: { bareString(): string } }): void => {
      // §3.3, §5: only the user's own resources, whatever 'to' says.
      if (ev.from.bareString() !== ev.to.bareString()) throw new StanzaError('forbidden', 'private data belongs to its owner only');
    };

    api.iq({ type: 'get', scope: 'bare', xmlns: NS_PRIVATE, name: 'query' }, async (ev, query) => {
      own(ev);
      const wanted = fragments(query);
      if (wanted.size !== 1 || [...wanted.values()][0]!.length !== 1) throw new StanzaError('bad-request', 'ask for one namespace per request');
      const [ns, [asked]] = [...wanted][0]! as [string, Element[]];
      const stored = await map.get<string[]>(ev.to.domain, ev.to.local, STORE, ns);
      const result = xml('query', NS_PRIVATE);
      if (!stored) return result.append(xml(asked!.name, ns));
      for (const text of stored) {
        try { result.append(parseFragment(text)); } catch (e) {
          api.log.error({ ns, err: (e as Error).message }, 'stored private XML is unreadable');
        }
      }
      return result;
    });

    api.iq({ type: 'set', scope: 'bare', xmlns: NS_PRIVATE, name: 'query' }, async (ev, query) => {
      own(ev);
      const { domain, local } = ev.to;
      const entries: [string, string[]][] = [];
      for (const [ns, els] of fragments(query)) {
        const texts = els.map((e) => e.toString());
        const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t, 'utf8'), 0);
        if (bytes > o.maxBytes) throw new StanzaError('policy-violation', `private data in one namespace is limited to ${o.maxBytes} bytes`);
        entries.push([ns, texts]);
      }
      // Count namespaces only when this set adds some (reading every slot is not free).
      const existing = await Promise.all(entries.map(([ns]) => map.get(domain, local, STORE, ns)));
      const added = existing.filter((v) => v === undefined).length;
      if (added > 0) {
        const have = (await map.getAll(domain, local, STORE)).size;
        if (have + added > o.maxNamespaces) throw new StanzaError('policy-violation', `at most ${o.maxNamespaces} namespaces of private data`);
      }
      await map.setMany(domain, local, STORE, entries);
      return undefined;
    });
  },
});
