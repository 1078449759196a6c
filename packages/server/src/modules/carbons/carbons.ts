// Message Carbons (XEP-0280 1.0.1): enabling and disabling per resource (§4, §5, §10.1),
// received copies (§7) to an account's other enabled resources, sent copies (§8) to the sender's
// other enabled resources, per-message opt-out (§9 <private/>, XEP-0334 <no-copy/>), and the
// security rule of §11: every copy is stamped from the account's bare JID by this server, and
// a <received/>/<sent/> arriving inside a routed message is removed, so no peer can make a
// message look like a carbon.
//
// Where copies are made:
// - received copies after the delivery module placed a message ('message/delivered'), to each
//   enabled, available resource that was not sent the original (whatever the sender's domain)
//   and does not refuse the sender ('deliver/refuse': XEP-0016 privacy lists, per resource);
// - sent copies on 'pre-message/*' once every outbound filter let the message through (lowest
//   priority), whatever the recipient's domain;
// - a message between resources of one account gets sent copies only, made at delivery so the
//   resources that got the original are skipped.
// The <private/> element is left in place: XEP-0280 0.14.0 lifted the requirement to remove it
// (interop note in §9: removal let a sender silently change delivery).

import { z } from 'zod';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { Element } from '@magpie/core/xml/element';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import { defineModule } from '../module.js';
import { refuses } from '../delivery/refusal.js';
import { NS_CARBONS, carbonCopy, eligibility, stripForged, type Direction } from './eligibility.js';
import { ReplyTracker } from './reply-tracker.js';

// Shared session state (session/shared-state.ts): the node that routes a message may hold only a
// proxy of the resource to copy to, and must still know whether that resource enabled carbons.
// The value is the namespace enabled (urn:xmpp:carbons:2, the only one XEP-0280 1.0 defines).
const enabled = (s: ClientSession): boolean => s.shared.get('carbons') === NS_CARBONS;

export default defineModule({
  manifest: {
    name: 'carbons',
    description: 'Message carbons: copies of a user\'s conversations to all of their enabled resources',
    specs: [
      { spec: 'XEP-0280', version: '1.0.1', status: 'complete', notes: 'rules of §6.1 incl. MUC private messages and invitations; errors copied when they answer a copied message seen recently (errorTracking); `<private/>` left in place (§9); forged `<received/>`/`<sent/>` removed from routed messages; urn:xmpp:carbons:rules:0 not advertised' },
      { spec: 'XEP-0334', version: '1.0.0', status: 'partial', notes: 'no-copy (carbons), store and no-store (offline storage, incl. store on headlines); no-store and no-permanent-store in archives are the MAM module\'s' },
    ],
    options: z.object({
      /** Copied exchanges remembered so that an error answering one is copied too (§6.1); 0 disables. */
      errorTrackingEntries: z.number().int().min(0).max(1_000_000).default(10_000),
      /** How long such an exchange is remembered. */
      errorTrackingSeconds: z.number().int().positive().max(86_400).default(300),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const replies = new ReplyTracker(o.errorTrackingEntries, o.errorTrackingSeconds * 1000);
    const receivedCopies = api.metric('received-copies');
    const sentCopies = api.metric('sent-copies');
    const forged = api.metric('forged-removed');
    api.discoFeature(NS_CARBONS);

    // §4/§5/§10.1: only the resource itself may change its state; repeating is not an error.
    const toggle = (on: boolean) => (ev: StanzaEvent): undefined => {
      const s = ev.session;
      const own = ev.to.domain === s?.jid.domain && (ev.to.isDomain || ev.to.local === s.jid.local);
      if (!s || ev.origin.kind !== 'c2s' || !own) {
        throw new StanzaError('not-allowed', 'carbons are enabled by a client of this account for itself');
      }
      s.shared.set('carbons', on ? NS_CARBONS : undefined);
      return undefined;
    };
    // A session moving to another cluster node (XEP-0198 resumption there) keeps its choice.
    api.hook('session/export', ({ session, state }) => { if (enabled(session)) state.carbons = true; });
    api.hook('session/import', ({ session, state }) => { if (state.carbons === true) session.shared.set('carbons', NS_CARBONS); });
    for (const scope of ['bare', 'host'] as const) {
      api.iq({ type: 'set', scope, xmlns: NS_CARBONS, name: 'enable' }, toggle(true));
      api.iq({ type: 'set', scope, xmlns: NS_CARBONS, name: 'disable' }, toggle(false));
    }

    /** Copies to the enabled, available resources of `account` other than those in `skip`. */
    const copy = (direction: Direction, original: Element, account: string, skip: readonly ClientSession[]): number => {
      let n = 0;
      for (const s of api.sessions.resources(account)) {
        if (!enabled(s) || s.presence === undefined || skip.includes(s)) continue;
        s.send(carbonCopy(direction, original, account, s.jid.toString()));
        n++;
      }
      return n;
    };

    // §11: our copies are written to sessions, never routed: a routed one is forged.
    const removeForged = (ev: StanzaEvent): undefined => {
      const n = stripForged(ev.stanza);
      if (n) { forged.inc(n); api.log.info({ from: ev.from.toString(), to: ev.to.toString() }, 'removed a forged carbon from a routed message'); }
      return undefined;
    };
    for (const t of ['host', 'bare', 'full'] as const) {
      api.hook(`message/${t}`, removeForged, 1500);
      api.hook(`pre-message/${t}`, removeForged, 1500);
    }

    const sameAccount = (ev: StanzaEvent) => ev.from.local === ev.to.local && ev.from.domain === ev.to.domain;

    // §8: sent copies, after every outbound filter (blocking...) let the message through.
    const onSent = (ev: StanzaEvent): undefined => {
      const s = ev.session;
      if (!s || sameAccount(ev)) return undefined;
      const account = s.jid.bareString();
      const peer = ev.to.toString();
      const id = ev.stanza.attrs.id;
      const v = eligibility(ev.stanza, { direction: 'sent', peerIsFullJid: ev.to.resource !== '', answersEligible: () => replies.answers(account, peer, id) });
      if (!v.copy) return undefined;
      sentCopies.inc(copy('sent', ev.stanza, account, [s]));
      replies.remember(account, peer, id);
      return undefined;
    };
    for (const t of ['host', 'bare', 'full'] as const) api.hook(`pre-message/${t}`, onSent, -10_000);

    // §7: received copies to the resources the delivery rules did not give the original to.
    api.hook('message/delivered', async ({ event: ev, sessions }) => {
      if (!ev.to.local) return undefined;
      const account = ev.to.bareString();
      if (sameAccount(ev) && ev.session) {
        // One resource to another: the others see it as sent by the sender (§8).
        const v = eligibility(ev.stanza, { direction: 'sent', peerIsFullJid: ev.to.resource !== '' });
        if (v.copy) sentCopies.inc(copy('sent', ev.stanza, account, [ev.session, ...sessions]));
        return undefined;
      }
      const peer = ev.from.toString();
      const id = ev.stanza.attrs.id;
      const v = eligibility(ev.stanza, { direction: 'received', peerIsFullJid: ev.from.resource !== '', answersEligible: () => replies.answers(account, peer, id) });
      if (!v.copy) return undefined;
      // A resource whose privacy list refuses the sender gets no copy either (XEP-0016 §2.2:
      // the copy would get round its active list).
      const refusing: ClientSession[] = [];
      for (const s of api.sessions.resources(account)) {
        if (enabled(s) && s.presence !== undefined && !sessions.includes(s) && (await refuses(api, ev, s))) refusing.push(s);
      }
      receivedCopies.inc(copy('received', ev.stanza, account, [...sessions, ...refusing]));
      replies.remember(account, peer, id);
      return undefined;
    });
  },
});
