// What the ad-hoc commands module (XEP-0050 1.3) offers other modules: a registry of commands
// on the server's JID, the shape of one command's stages, and the errors of §4.6 (a stanza
// condition plus a command-specific child in the commands namespace).

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { StanzaError, type StanzaErrorCondition } from '@magpie/core/protocol/errors';
import type { DataForm } from '@magpie/core/protocol/data-form';
import type { JID } from '@magpie/core/jid/jid';

export const ADHOC = 'adhoc';

/** §3.4 <note/>: shown to the user with the command's answer. */
export interface CommandNote { type: 'info' | 'warn' | 'error'; text: string }

/** One stage's answer: more to fill in, or done. */
export type CommandReply =
  | {
    status: 'executing';
    form: Element;
    /** Actions the requester may take next (§3.4 <actions/>); 'prev' is never offered. */
    actions: ('next' | 'complete')[];
    /** What action='execute' means at this stage; defaults to the last of `actions`. */
    execute?: 'next' | 'complete';
    notes?: CommandNote[];
  }
  | { status: 'completed'; form?: Element; notes?: CommandNote[] };

export interface CommandRequest {
  /** The hosted domain the command was sent to. */
  host: string;
  from: JID;
  /** The submitted data form of this stage, when there is one (type 'submit'). */
  form: DataForm | undefined;
  /** 0 for the request that opened the session, then one more per stage. */
  stage: number;
  /** Kept between the stages of one session; the command's own to fill. */
  state: Record<string, unknown>;
}

export interface AdhocCommand {
  /** The command's node (§2.2), unique on the server. */
  node: string;
  /** Human-readable name listed in disco#items. */
  name: string;
  /** Who may see it listed and run it; others get forbidden (§4.6). */
  allowed(from: JID, host: string): boolean;
  /** One stage; a StanzaError thrown here is the answer and ends the session. */
  run(req: CommandRequest): Promise<CommandReply> | CommandReply;
}

export interface AdhocService {
  /** Adds a command; returns the function that removes it (call it from api.onUnload). */
  register(command: AdhocCommand): () => void;
  /** Is `from` (any resource) one of the administrators of `host` (hosts[].admins)? */
  isAdmin(from: JID, host: string): boolean;
}

/** The §4.6 specific conditions, sent beside the stanza error. */
export type CommandCondition = 'malformed-action' | 'bad-action' | 'bad-locale' | 'bad-payload' | 'bad-sessionid' | 'session-expired';

export function commandError(condition: StanzaErrorCondition, specific: CommandCondition | undefined, text?: string): StanzaError {
  return new StanzaError(condition, text, undefined, specific ? xml(specific, NS.COMMANDS) : undefined);
}

/** bad-request + bad-payload: the submitted form is missing or does not fit (§4.6). */
export function badPayload(text: string): StanzaError { return commandError('bad-request', 'bad-payload', text); }
