// What an authenticated user does with jabber:iq:register on its own server (XEP-0077 §3.1
// "already registered", §3.2 cancellation, §3.3 password change), addressed to the server or to
// the user's own bare JID (a request without 'to', as slixmpp sends it).
//
// - Only a local account asks about itself: a request to another account's bare JID is
//   not-authorized (nobody changes someone else's password or account), and one from another
//   server (federation) is service-unavailable (there is nothing to register here remotely).
// - get (§3.1): <registered/> and the username; the password element stays empty (only SCRAM
//   keys are stored).
// - Password change (§3.3), unless passwordChange is off (not-allowed): on an encrypted or
//   loopback connection only (else not-authorized, "the channel [is not] safe enough"); a
//   <username/> must name the requester (else not-authorized); an empty or missing password is
//   bad-request and leaves the password as it is ("MUST maintain the existing password"); the
//   password rules of credentials-policy.ts apply (not-acceptable). With the changepassword
//   form (§14.3) an old_password, when given, must be right (not-authorized). The new password
//   becomes SCRAM keys as with `magpie passwd`. The account's other sessions are then closed
//   with a <reset/> stream error (closeOtherSessions, on by default, as Prosody does): a
//   password is usually changed because it may be known to someone else, whose sessions must
//   not outlive it; their clients reconnect and must authenticate with the new one.
// - Cancellation (§3.2), unless cancellation is off (not-allowed): <remove/> alone
//   (bad-request otherwise). The result is written first, then the account's presence
//   subscriptions are cancelled (§3.2 SHOULD: unsubscribe and unsubscribed to each contact of
//   its roster, so contacts' rosters are corrected here and on other servers), then the
//   account is deleted through the account service as `magpie deluser` does: every stored
//   record goes, account/deleted fires for the modules, and every session of the account,
//   this one included, is closed with a <not-authorized/> stream error (§3.2).
// Errors never copy the request back (./replies.ts).

import { StanzaError, StreamError } from '@magpie/core/protocol/errors';
import { JID } from '@magpie/core/jid/jid';
import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { scramVerifyPassword } from '@magpie/core/sasl/scram';
import { IQ_HANDLED, type IqHandler } from '../../router/iq-registry.js';
import type { StanzaEvent } from '../../hooks/events.js';
import type { ModuleApi } from '../module.js';
import { isLoopbackAddress } from '../../transports/transport.js';
import { nodeCrypto } from '../../sasl/node-crypto.js';
import { AccountService } from '../../accounts/accounts.js';
import { ROSTER, type RosterService } from '../im-services/services.js';
import type { RegisterOptions } from './options.js';
import { acceptablePassword } from './credentials-policy.js';
import { readSubmission, registeredForm } from './register-xml.js';
import { iqError, iqResult } from './replies.js';
/** The handler answered by itself (cancellation answers before the stream closes). */
const ANSWERED = Symbol('answered');
type Count = (what: 'password-changed' | 'cancelled') => void;

/** Answer `ev` on the requester's session (c2s) or through the router. */
function answer(api: ModuleApi<RegisterOptions>, ev: StanzaEvent, reply: Element): void {
  if (ev.origin.kind === 'c2s') ev.origin.session.send(reply); else void api.send(reply);
}

/** The requester's own account, or the error for anyone else. */
function ownAccount(api: ModuleApi<RegisterOptions>, ev: StanzaEvent): { host: string; user: string } {
  if (ev.origin.kind !== 'c2s' || !ev.from.local || !api.isLocalHost(ev.from.domain)) throw new StanzaError('service-unavailable');
  if (ev.to.local ? ev.to.bareString() !== ev.from.bareString() : ev.to.domain !== ev.from.domain) throw new StanzaError('not-authorized', 'only the account itself may do this');
  return { host: ev.from.domain, user: ev.from.local };
}

export function accountHandlers(api: ModuleApi<RegisterOptions>, count: Count): { get: IqHandler; set: IqHandler } {
  const o = api.options;
  const guarded = (fn: (ev: StanzaEvent, q: Element) => Promise<Element | undefined | typeof ANSWERED>): IqHandler => async (ev, q): Promise<typeof IQ_HANDLED> => {
    let reply: Element;
    try {
      const r = await fn(ev, q);
      if (r === ANSWERED) return IQ_HANDLED;
      reply = iqResult(ev.stanza, r, ev.to.toString(), ev.from.toString());
    } catch (e) {
      if (!(e instanceof StanzaError)) api.log.error({ err: e, user: ev.from.bareString() }, 'jabber:iq:register request failed');
      reply = iqError(ev.stanza, e instanceof StanzaError ? e : new StanzaError('internal-server-error'), ev.to.toString(), ev.from.toString());
    }
    answer(api, ev, reply);
    return IQ_HANDLED;
  };

  const get = guarded(async (ev) => registeredForm(ownAccount(api, ev).user));

  const set = guarded(async (ev, q) => {
    const { host, user } = ownAccount(api, ev);
    const sub = readSubmission(q);
    if (sub.kind === 'remove') {
      if (!o.cancellation) throw new StanzaError('not-allowed', 'accounts cannot be deleted in-band here');
      await cancel(ev, host, user);
      return ANSWERED;
    }
    if (!o.passwordChange) throw new StanzaError('not-allowed', 'passwords cannot be changed in-band here');
    const s = ev.session;
    if (!s || !(s.secure || isLoopbackAddress(s.remoteAddress))) throw new StanzaError('not-authorized', 'a password change needs an encrypted connection');
    if (sub.username && !namesAccount(sub.username, host, user)) throw new StanzaError('not-authorized', 'you may only change your own password');
    if (sub.password === undefined || sub.password === '') throw new StanzaError('bad-request', 'a new password is required; the password is unchanged');
    const password = acceptablePassword(sub.password, o);
    if (sub.oldPassword !== undefined) {
      const cred = await api.accounts.scram(host, user, 'SHA-256');
      if (!cred || !(await scramVerifyPassword(nodeCrypto, 'SHA-256', cred, sub.oldPassword))) throw new StanzaError('not-authorized', 'the old password is wrong');
    }
    if (!(await api.accounts.setPassword(host, user, password))) throw new StanzaError('registration-required', 'the account no longer exists');
    count('password-changed');
    api.log.info({ host, user, addr: s.remoteAddress, closeOtherSessions: o.closeOtherSessions }, 'password changed in-band');
    if (o.closeOtherSessions) {
      // Not kept for XEP-0198 resumption: stream management keeps no session the server closed.
      const self = s.jid.toString();
      for (const other of [...api.sessions.resources(`${user}@${host}`)]) {
        if (other.jid.toString() !== self && !other.closed) other.close(new StreamError('reset', 'the account password was changed'));
      }
    }
    return undefined;
  });

  /** §3.2: answer first (deleting closes this stream), then unsubscribe, then delete. */
  async function cancel(ev: StanzaEvent, host: string, user: string): Promise<void> {
    answer(api, ev, iqResult(ev.stanza, undefined, ev.to.toString(), ev.from.toString()));
    const bare = `${user}@${host}`;
    try {
      const roster = api.service<RosterService>(ROSTER);
      for (const item of roster ? await roster.all(host, user) : []) {
        const types: string[] = [];
        if (item.subscription === 'to' || item.subscription === 'both' || item.ask === 'subscribe') types.push('unsubscribe');
        if (item.subscription === 'from' || item.subscription === 'both' || item.approved) types.push('unsubscribed');
        for (const type of types) await api.send(xml('presence', NS.CLIENT, { type, from: bare, to: item.jid }));
      }
      count('cancelled');
      api.log.info({ host, user, addr: ev.session?.remoteAddress }, 'account deleted in-band');
      await api.accounts.delete(host, user);
    } catch (e) {
      // Answered already: the client believes the account is gone, so its stream must end.
      api.log.error({ err: e, host, user }, 'in-band account deletion failed');
      ev.session?.close(new StreamError('internal-server-error', 'the account could not be deleted'));
    }
  }

  return { get, set };
}

/** A <username/> naming the requester's account: its localpart, or its bare JID (§14.3's form example). */
function namesAccount(given: string, host: string, user: string): boolean {
  if (given.includes('@')) {
    const j = JID.tryParse(given);
    return !!j && j.isBare && j.local === user && j.domain === host;
  }
  try { return AccountService.normalizeUser(given) === user; } catch { return false; }
}
