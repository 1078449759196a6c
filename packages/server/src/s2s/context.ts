// What the s2s streams need from the federation module, by name (no import of the module).

import type { Element } from '@magpie/core/xml/element';
import type { JID } from '@magpie/core/jid/jid';
import type { Config } from '../config/schema.js';
import type { S2SPolicy } from '../config/s2s-schema.js';
import type { Origin } from '../session/session.js';
import type { Logger } from '../log/logger.js';
import type { DialbackKeys } from './dialback-key.js';
import type { ClientTlsOptions } from './outgoing-socket.js';

/** The answer of an authoritative server to db:verify, or why there was none (XEP-0220 §2.4). */
export type VerifyOutcome = 'valid' | 'invalid' | 'remote-server-not-found' | 'remote-server-timeout' | 'internal-server-error';

export interface S2SContext {
  readonly config: Config;
  readonly log: Logger;
  readonly keys: DialbackKeys;
  readonly stopping: boolean;
  /** Hosted, component or service domain: what peers may address here, and may not claim. */
  isServedDomain(domain: string): boolean;
  policy(domain: string | undefined): S2SPolicy;
  /** Hand an incoming stanza (already in jabber:client) to the router. */
  route(stanza: Element, origin: Origin, from: JID, to: JID): Promise<void>;
  /** Receiving role: ask the authoritative server of `originating` about a key (db:verify). */
  verifyKey(receiving: string, originating: string, streamId: string, key: string): Promise<VerifyOutcome>;
  /** TLS options for a connection from `local` to `remote`. */
  clientTls(local: string, remote: string): ClientTlsOptions;
  /** Our certificate for `domain` is one an operator configured (not a generated dev one). */
  hasConfiguredCertificate(domain: string): boolean;
}
