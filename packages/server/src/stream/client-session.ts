// A bound c2s resource as the router and modules see it (session/session.ts): a thin handle on
// the stream that owns the connection. The stream can change: a module may keep the session
// alive when its connection drops ("hibernation", XEP-0198 §5) and re-attach it to a new
// stream when the client resumes; while suspended nothing is written, but output filters and
// taps still run so that module can queue what the client misses.

import { randomBytes } from 'node:crypto';
import type { Element } from '@magpie/core/xml/element';
import type { JID } from '@magpie/core/jid/jid';
import type { StreamError } from '@magpie/core/protocol/errors';
import type { ClientSession } from '../session/session.js';
import type { Logger } from '../log/logger.js';
import { SharedState } from '../session/shared-state.js';

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

/** Why a session's stream is ending: the connection was lost, or either side closed the stream. */
export interface StreamEnding { cause: 'lost' | 'client-closed' | 'server-closed'; error?: StreamError; reason: string }

export class LocalClientSession implements ClientSession {
  readonly kind = 'c2s' as const;
  readonly id = randomBytes(8).toString('base64url');
  priority = 0;
  presence: Element | undefined;
  interested = false;
  readonly data = new Map<string, unknown>();
  readonly shared = new SharedState();
  readonly connectedAt = Date.now();
  readonly filters: OutputFilter[] = [];
  /** Called with every stanza that leaves for the client, after the filters (also stanzas the
      stream itself generates, and while suspended): XEP-0198 counts and queues here. */
  readonly outbound: ((stanza: Element) => void)[] = [];
  /** Called with every stanza received from the client, before it is processed. */
  readonly inbound: ((stanza: Element) => void)[] = [];
  /** Set by a module that may keep the session alive when its stream ends: returning true
      suspends the session instead of ending it (the module then owns its end). */
  hibernation: ((ending: StreamEnding) => boolean) | undefined;
  private _closed = false;
  private _suspended = false;

  constructor(readonly jid: JID, readonly log: Logger, private stream: SessionStream) {}

  get host(): string { return this.jid.domain; }
  get username(): string { return this.jid.local; }
  get secure(): boolean { return this.stream.transport.secure; }
  get remoteAddress(): string { return this.stream.transport.remoteAddress; }
  get closed(): boolean { return this._closed; }
  get suspended(): boolean { return this._suspended; }
  /** The stream this session is attached to (a placeholder while suspended). */
  get currentStream(): SessionStream { return this.stream; }
  markClosed(): void { this._closed = true; this._suspended = false; }

  /** The connection is gone; `placeholder` stands in for the stream (its close() ends the session). */
  suspend(placeholder: SessionStream): void {
    this.stream = placeholder;
    this._suspended = true;
  }

  /** Move to `stream` (resumption); returns the stream it was attached to before. */
  attach(stream: SessionStream): SessionStream {
    const prev = this.stream;
    this.stream = stream;
    this._suspended = false;
    return prev;
  }

  send(stanza: Element): void {
    if (this._closed) return;
    let s: Element | null = stanza;
    for (const f of this.filters) { s = f(s, this); if (s === null) return; }
    this.deliver(s);
  }

  /** Write bypassing filters (for a filter flushing what it held back). */
  sendRaw(stanza: Element): void { if (!this._closed) this.deliver(stanza); }

  close(error?: StreamError): void { this.stream.close(error); }

  private deliver(stanza: Element): void {
    for (const t of this.outbound) t(stanza);
    if (!this._suspended) this.stream.write(stanza);
  }
}
