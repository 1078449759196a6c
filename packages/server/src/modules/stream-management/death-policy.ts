// What happens to stanzas the client never acknowledged when a session ends for good (XEP-0198
// §4 "Before the session state is discarded"): they are treated like stanzas sent to an
// unavailable resource (RFC 6121 §8.5.3.2), never silently lost:
// - chat/normal messages with a body go to another available resource of the account (with a
//   XEP-0203 delay carrying the original send time) that does not refuse the sender (XEP-0016
//   privacy lists), else to offline storage ('message/offline',
//   which stamps its own delay on delivery), else bounce with service-unavailable;
// - other messages bounce with recipient-unavailable, except errors (never answered, RFC 6120
//   §8.3.1) and headlines (RFC 6121 §8.5.2.1.2: silently ignored when undeliverable);
// - iq get/set bounce with service-unavailable; iq results and errors cannot be answered;
// - presence is state, superseded by the unavailable presence broadcast for this session, and
//   subscription requests are kept by the roster (RFC 6121 §3.1.3), so it is not bounced.

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { JID } from '@magpie/core/jid/jid';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import type { ModuleApi } from '../module.js';
import { bareTargets } from '../delivery/delivery.js';
import { accepting } from '../delivery/refusal.js';
import type { Unacked } from './unacked-queue.js';

export type Outcome = 'rerouted' | 'offline' | 'bounced' | 'dropped';

/** A copy with a XEP-0203 delay from this server, unless it already carries one. */
export function delayed(stanza: Element, domain: string, when: number): Element {
  if (stanza.getChild('delay', NS.DELAY)) return stanza;
  const out = stanza.clone();
  out.append(xml('delay', NS.DELAY, { from: domain, stamp: new Date(when).toISOString() }, 'Undelivered'));
  return out;
}

export async function handleUnacked(api: ModuleApi<unknown>, session: ClientSession, items: Unacked[]): Promise<Record<Outcome, number>> {
  const counts: Record<Outcome, number> = { rerouted: 0, offline: 0, bounced: 0, dropped: 0 };
  // In order: an earlier message must reach offline storage before a later one, and once one
  // has gone there the later ones follow it (re-routing them live would overtake it: a resource
  // that comes online meanwhile would get them before the stored one).
  const order = { offline: false };
  for (const { stanza, when } of items) {
    let outcome: Outcome;
    try { outcome = await handleOne(api, session, stanza, when, order); } catch (e) {
      api.log.error({ err: e, jid: session.jid.toString() }, 'an unacknowledged stanza could not be handled');
      outcome = 'dropped';
    }
    counts[outcome]++;
  }
  return counts;
}

async function handleOne(api: ModuleApi<unknown>, session: ClientSession, stanza: Element, when: number, order: { offline: boolean }): Promise<Outcome> {
  const type = stanza.attrs.type;
  const from = stanza.attrs.from !== undefined ? JID.tryParse(stanza.attrs.from) : undefined;
  if (type === 'error' || !from) return 'dropped';
  const ev: StanzaEvent = { stanza, origin: { kind: 'local' }, from, to: session.jid };
  if (stanza.name === 'message') {
    const kind = type ?? 'normal';
    if ((kind === 'chat' || kind === 'normal') && stanza.getChild('body')) {
      // Only to resources that do not refuse the sender (XEP-0016 §2.2, ../delivery/refusal.ts).
      const others = order.offline ? [] : bareTargets(await accepting(api, ev, bareTargets(api.sessions.resources(session.jid.bareString()).filter((s) => s !== session && !s.closed), true)), false);
      if (others.length) {
        const copy = delayed(stanza, session.host, when);
        for (const s of others) s.send(copy);
        return 'rerouted';
      }
      if ((await api.fire('message/offline', ev)) !== undefined) { order.offline = true; return 'offline'; }
      api.bounce(ev, new StanzaError('service-unavailable', 'the recipient is offline'));
      return 'bounced';
    }
    if (kind === 'headline') return 'dropped';
    api.bounce(ev, new StanzaError('recipient-unavailable', 'the recipient disconnected before receiving this'));
    return 'bounced';
  }
  if (stanza.name === 'iq' && (type === 'get' || type === 'set')) {
    api.bounce(ev, new StanzaError('service-unavailable', 'the recipient disconnected before receiving this'));
    return 'bounced';
  }
  return 'dropped';
}
