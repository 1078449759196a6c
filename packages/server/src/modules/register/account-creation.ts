// Account creation on an unauthenticated stream (XEP-0077 §3.1, §3.1.1 "Registration with a
// Server"): the client asks for the fields with an iq get and sends them with an iq set, before
// SASL, then authenticates with the new account on the same stream. The iqs reach this module
// through the 'stream/negotiation' hook (the stream knows nothing of registration).
//
// Policy, checked in this order on every get and set:
// - the host must be listed in registrationHosts, else not-allowed (the service exists, for
//   password changes, but account creation is refused by policy);
// - the connection must be encrypted, or from loopback, as for SASL PLAIN (§8: "SHOULD NOT be
//   used unless the channel ... has been secured"), else not-authorized (the condition §3.3
//   gives an unsafe channel);
// - the client's address must be in allowFrom when that list is set, else forbidden.
// A set then also meets, in order: one account per connection and maxAttemptsPerConnection
// refused attempts (§3.1.1: not-acceptable when an entity "attempts to register too many times
// before authenticating" or "a second identity"); the username and password rules
// (./credentials-policy.ts: not-acceptable); the per-address quota (./address-limits.ts), refused
// with policy-violation of type wait: a local policy, to retry later (XEP-0077 names no
// condition for it; ejabberd answers resource-constraint, which RFC 6120 §8.3.3.15 reserves for
// a server short of resources); an existing account is conflict.
// Accounts are created through the account service exactly as `magpie adduser` does (SCRAM
// keys only; account/created fires). Each outcome is logged with the username and address,
// never the password.

import { JID } from '@magpie/core/jid/jid';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { Element } from '@magpie/core/xml/element';
import type { ConnectionInfo, NegotiationEvent } from '../../hooks/events.js';
import { AccountExistsError, type AccountService } from '../../accounts/accounts.js';
import type { Logger } from '../../log/logger.js';
import type { RegisterOptions } from './options.js';
import { addressKey, type RegistrationQuota } from './address-limits.js';
import { acceptablePassword, acceptableUsername } from './credentials-policy.js';
import { NS_REGISTER, readSubmission, registrationForm } from './register-xml.js';
import { iqError, iqResult } from './replies.js';

export interface CreationContext {
  o: RegisterOptions;
  log: Logger;
  accounts: AccountService;
  quota: RegistrationQuota;
  /** Host accepts account creation (registrationHosts). */
  openHost(host: string): boolean;
  /** Address passes allowFrom (true when the list is empty). */
  addressAllowed(address: string): boolean;
  count(what: 'created' | 'refused' | 'rate-limited'): void;
}

/** What one connection did so far (ConnectionInfo.data). */
interface ConnectionState { refused: number; created?: string }
const STATE = 'register';

const secureEnough = (c: ConnectionInfo): boolean => !c.tlsRequired && (c.secure || c.loopback);

/** May this connection create an account on `host` now (also decides the stream feature). */
export function registrationOffered(ctx: CreationContext, host: string, c: ConnectionInfo): boolean {
  return ctx.openHost(host) && secureEnough(c) && ctx.addressAllowed(c.remoteAddress);
}

/** The 'stream/negotiation' handler: true when the element was a registration iq and was answered. */
export async function handleUnauthenticatedIq(ctx: CreationContext, ev: NegotiationEvent): Promise<true | undefined> {
  const el = ev.element;
  const stream = ev.stream;
  if (stream.authenticated || el.name !== 'iq' || el.xmlns !== NS.CLIENT) return undefined;
  const type = el.attrs.type;
  const q = el.elements()[0];
  if ((type !== 'get' && type !== 'set') || !q || q.name !== 'query' || q.xmlns !== NS_REGISTER) return undefined;
  // Only the server itself registers accounts; an iq addressed elsewhere before authentication
  // is left to the stream (a not-authorized stream error).
  if (el.attrs.to !== undefined && JID.tryParse(el.attrs.to)?.toString() !== stream.host) return undefined;
  const from = el.attrs.to;
  try {
    if (!el.attrs.id || el.elements().length !== 1) throw new StanzaError('bad-request', 'an iq needs an id and exactly one child');
    const payload = type === 'get' ? offer(ctx, stream.host, stream.connection) : await create(ctx, q, stream.host, stream.connection);
    stream.send(iqResult(el, payload, from));
  } catch (e) {
    const err = e instanceof StanzaError ? e : new StanzaError('internal-server-error');
    if (!(e instanceof StanzaError)) ctx.log.error({ err: e, host: stream.host, addr: stream.connection.remoteAddress }, 'in-band registration failed');
    stream.send(iqError(el, err, from));
  }
  return true;
}

function admissible(ctx: CreationContext, host: string, c: ConnectionInfo): void {
  if (!ctx.openHost(host)) throw new StanzaError('not-allowed', 'account creation is not enabled on this server');
  if (!secureEnough(c)) throw new StanzaError('not-authorized', 'account creation needs an encrypted connection (STARTTLS)');
  if (!ctx.addressAllowed(c.remoteAddress)) throw new StanzaError('forbidden', 'account creation is not allowed from your address');
}

function offer(ctx: CreationContext, host: string, c: ConnectionInfo): Element {
  admissible(ctx, host, c);
  return registrationForm(ctx.o.instructions);
}

async function create(ctx: CreationContext, q: Element, host: string, c: ConnectionInfo): Promise<undefined> {
  admissible(ctx, host, c);
  let st = c.data.get(STATE) as ConnectionState | undefined;
  if (!st) { st = { refused: 0 }; c.data.set(STATE, st); }
  if (st.created !== undefined) throw new StanzaError('not-acceptable', 'an account was already created on this connection; authenticate with it');
  if (st.refused >= ctx.o.maxAttemptsPerConnection) throw new StanzaError('not-acceptable', 'too many registration attempts on this connection');
  const addr = c.remoteAddress;
  let user: string | undefined;
  try {
    const sub = readSubmission(q);
    // §3.2 table: an unauthenticated entity has no registration to cancel.
    if (sub.kind === 'remove') throw new StanzaError('unexpected-request', 'authenticate before cancelling a registration');
    user = acceptableUsername(sub.username, ctx.o);
    const password = acceptablePassword(sub.password, ctx.o);
    const key = addressKey(addr, ctx.o.ipv6Prefix);
    if (!ctx.quota.take(key)) {
      ctx.count('rate-limited');
      ctx.log.warn({ host, user, addr }, 'in-band registration refused: too many accounts from this address');
      throw new StanzaError('policy-violation', 'too many accounts were created from your address; try again later', 'wait');
    }
    try { await ctx.accounts.create(host, user, password); } catch (e) {
      ctx.quota.release(key);
      if (e instanceof AccountExistsError) throw new StanzaError('conflict', 'that username is taken');
      throw e;
    }
  } catch (e) {
    st.refused++;
    ctx.count('refused');
    if (e instanceof StanzaError && e.condition !== 'policy-violation') ctx.log.info({ host, user, addr, condition: e.condition }, 'in-band registration refused');
    throw e;
  }
  st.created = user;
  ctx.count('created');
  ctx.log.info({ host, user, addr }, 'account created in-band');
  return undefined;
}
