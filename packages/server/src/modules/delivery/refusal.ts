// Per-resource refusal of a stanza that fans out to an account's resources (XEP-0016 1.7 §2.2:
// an active privacy list "affects only the session(s) for which it is activated", the default
// list applies where there is none, "or if there are no current sessions for the user"; and
// privacy lists "MUST be the first delivery rule applied", before RFC 6121 §8.5's choice of
// resources). The modules that fan a message out (delivery, carbons, offline, stream
// management) ask the 'deliver/refuse' hook here; the blocking module answers it. Without a
// module answering, nothing is refused. (The presence module asks the blocking service per
// session instead, as it does for everything else it checks.)

import type { StanzaEvent } from '../../hooks/events.js';
import type { ClientSession } from '../../session/session.js';
import type { ModuleApi } from '../module.js';

type Fire = Pick<ModuleApi<unknown>, 'fire'>;

/** Does `session` (or, without it, the account as a whole) refuse the stanza of `event`? */
export async function refuses(api: Fire, event: StanzaEvent, session?: ClientSession): Promise<boolean> {
  return (await api.fire('deliver/refuse', session ? { event, session } : { event })) !== undefined;
}

/** The sessions, in order, that do not refuse the stanza of `event`. */
export async function accepting(api: Fire, event: StanzaEvent, sessions: readonly ClientSession[]): Promise<ClientSession[]> {
  const out: ClientSession[] = [];
  for (const s of sessions) if (!(await refuses(api, event, s))) out.push(s);
  return out;
}
