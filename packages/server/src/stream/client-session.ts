// A bound c2s resource as the router and modules see it (session/session.ts): a thin handle on
// the stream that owns the connection.

import { randomBytes } from 'node:crypto';
import type { Element } from '@magpie/core/xml/element';
import type { JID } from '@magpie/core/jid/jid';
import type { StreamError } from '@magpie/core/protocol/errors';
import type { ClientSession } from '../session/session.js';
import type { Logger } from '../log/logger.js';

export interface SessionStream {
  write(el: Element): void;
  close(err?: StreamError): void;
  readonly transport: { secure: boolean; remoteAddress: string };
}

/**
 * Output filters run on every stanza written to the session, in order; one may return a
 * replacement, or null to hold the stanza back (XEP-0352 client state, XEP-0198 counting).
 */
export type OutputFilter = (stanza: Element, session: ClientSession) => Element | null;

export class LocalClientSession implements ClientSession {
  readonly kind = 'c2s' as const;
  readonly id = randomBytes(8).toString('base64url');
  priority = 0;
  presence: Element | undefined;
  interested = false;
  readonly data = new Map<string, unknown>();
  readonly connectedAt = Date.now();
  readonly filters: OutputFilter[] = [];
  private _closed = false;

  constructor(readonly jid: JID, readonly log: Logger, private readonly stream: SessionStream) {}

  get host(): string { return this.jid.domain; }
  get username(): string { return this.jid.local; }
  get secure(): boolean { return this.stream.transport.secure; }
  get remoteAddress(): string { return this.stream.transport.remoteAddress; }
  get closed(): boolean { return this._closed; }
  markClosed(): void { this._closed = true; }

  send(stanza: Element): void {
    if (this._closed) return;
    let s: Element | null = stanza;
    for (const f of this.filters) { s = f(s, this); if (s === null) return; }
    this.stream.write(s);
  }

  /** Write bypassing filters (for a filter flushing what it held back). */
  sendRaw(stanza: Element): void { if (!this._closed) this.stream.write(stanza); }

  close(error?: StreamError): void { this.stream.close(error); }
}
