// Small helpers shared by the per-user service scenarios (vcard, private, last, caps).
import type { Element } from '@magpie/core/xml/element';
import { RawClient } from '../support/raw-client.js';
import type { TestServer } from '../support/server.js';
import { defineModule } from '@magpie/server/modules/module';
import { ROSTER, type RosterService } from '@magpie/server/modules/im-services/services';

export const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** A logged-in raw client (plain port over loopback). */
export async function online(ts: TestServer, user: string, password: string, resource = 'r'): Promise<RawClient & { jid: string }> {
  const c = await RawClient.connect(ts.port);
  const jid = await c.login(user, password, { resource });
  return Object.assign(c, { jid });
}

let seq = 0;
/** Send an iq (`attrs` are raw attribute text, e.g. "type='get' to='x'") and await its answer. */
export async function iq(c: RawClient, attrs: string, payload: string, ms = 5000): Promise<Element> {
  const id = `t${++seq}`;
  c.send(`<iq ${attrs} id='${id}'>${payload}</iq>`);
  return c.next((e) => e.name === 'iq' && e.attr('id') === id && (e.attr('type') === 'result' || e.attr('type') === 'error'), ms);
}

/** The defined condition of an error reply, or undefined for a result. */
export function condition(reply: Element): string | undefined {
  if (reply.attr('type') !== 'error') return undefined;
  const err = reply.getChild('error');
  return err?.elements().find((e) => e.xmlns === STANZAS && e.name !== 'text')?.name;
}

export function errorType(reply: Element): string | undefined { return reply.getChild('error')?.attr('type'); }

/**
 * The roster service (ROSTER) for scenarios that need presence subscriptions. While no roster
 * module is loaded, the stand-in module provides the service from a table the test fills;
 * once a roster module provides it, allow() makes the subscription the RFC 6121 §3 way
 * (subscribe, then subscribed), which also needs the presence module.
 */
export function rosterStandIn() {
  const table = new Map<string, Set<string>>();
  let inUse = false;
  const module = defineModule({
    manifest: { name: 'test-roster-stand-in', description: 'ROSTER stand-in for tests', specs: [], defaultEnabled: true },
    setup(api) {
      inUse = !api.service(ROSTER);
      if (!inUse) return;
      const hasFrom = async (host: string, user: string, contact: string) => table.get(`${user}@${host}`)?.has(contact) ?? false;
      api.provide<RosterService>(ROSTER, { hasFrom, hasTo: async () => false, get: async () => undefined, all: async () => [] });
    },
  });
  return {
    module,
    inUse: () => inUse,
    /** `contact` may see `user`'s presence: the user's subscription to the contact is 'from'. */
    async allow(ts: TestServer, user: string, contact: string, password: (u: string) => string): Promise<void> {
      if (inUse) {
        const k = `${user}@${ts.domain}`;
        if (!table.has(k)) table.set(k, new Set());
        table.get(k)!.add(`${contact}@${ts.domain}`);
        return;
      }
      const u = await online(ts, user, password(user), 'sub');
      const c = await online(ts, contact, password(contact), 'sub');
      try {
        // Requests reach available resources (RFC 6121 §3.1.3): both become available first.
        for (const x of [u, c]) { await iq(x, `type='get'`, `<query xmlns='jabber:iq:roster'/>`); x.send(`<presence/>`); }
        c.send(`<presence to='${user}@${ts.domain}' type='subscribe'/>`);
        await u.next((e) => e.name === 'presence' && e.attr('type') === 'subscribe');
        u.send(`<presence to='${contact}@${ts.domain}' type='subscribed'/>`);
        await c.next((e) => e.name === 'presence' && e.attr('type') === 'subscribed');
      } finally { u.destroy(); c.destroy(); }
    },
  };
}
