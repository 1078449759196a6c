// What a username and a password must satisfy before they reach the account service
// (XEP-0077 §3.1, §3.3): a username is a JID localpart (PRECIS UsernameCaseMapped, RFC 7622
// §3.3) of bounded length; a password is not empty (§3.1 note, §3.3 "MUST NOT change the
// password to a null value"), passes the OpaqueString profile that SCRAM applies (RFC 8265 §4.2,
// RFC 7677), and has a length within the configured bounds. Refusals are not-acceptable with a
// text saying which rule failed; they never echo the password.

import { StanzaError } from '@magpie/core/protocol/errors';
import { tryPrepareOpaqueString } from '@magpie/core/sasl/encoding';
import { AccountService } from '../../accounts/accounts.js';
import type { RegisterOptions } from './options.js';

/** The canonical localpart for `raw`, or a not-acceptable error. */
export function acceptableUsername(raw: string | undefined, o: RegisterOptions): string {
  if (raw === undefined || raw === '') throw new StanzaError('not-acceptable', 'a username is required');
  let user: string;
  try { user = AccountService.normalizeUser(raw); } catch { throw new StanzaError('not-acceptable', 'the username is not a valid JID localpart'); }
  if ([...user].length > o.maxUsernameLength) throw new StanzaError('not-acceptable', `the username is longer than ${o.maxUsernameLength} characters`);
  return user;
}

/** `raw` when it is an acceptable password, else a not-acceptable error. */
export function acceptablePassword(raw: string | undefined, o: RegisterOptions): string {
  if (raw === undefined || raw === '') throw new StanzaError('not-acceptable', 'a password is required');
  const prepared = tryPrepareOpaqueString(raw);
  if (prepared === undefined) throw new StanzaError('not-acceptable', 'the password contains a character that is not allowed');
  const n = [...prepared].length;
  if (n < o.minPasswordLength) throw new StanzaError('not-acceptable', `the password must have at least ${o.minPasswordLength} characters`);
  if (n > o.maxPasswordLength) throw new StanzaError('not-acceptable', `the password must have at most ${o.maxPasswordLength} characters`);
  return raw;
}
