// A session bound on another node of the cluster, as this node's router and modules see it
// (session/session.ts): delivery rules and presence broadcast read its priority and last
// presence, roster pushes its `interested` flag; send() and close() travel to the owning node
// through Redis (cluster/node.ts). Per-module `data` stays empty here: module state of a
// session (CSI, directed presence) lives on the node that owns it; what other nodes must know
// (carbons enabled, +notify interests) is in `shared`, replaced from every registry update. A
// module setting `shared` on a proxy changes only this node's view until the next update.

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { parseFragment } from '@magpie/core/xml/parser';
import type { JID } from '@magpie/core/jid/jid';
import type { StreamError } from '@magpie/core/protocol/errors';
import type { ClientSession } from '../session/session.js';
import { SharedState } from '../session/shared-state.js';
import type { Logger } from '../log/logger.js';
import type { SessionEntry } from './wire.js';

/** How a proxy reaches its node (implemented by the cluster node). */
export interface RemoteLink {
  forward(session: RemoteClientSession, stanza: Element): void;
  closeRemote(session: RemoteClientSession, error?: StreamError): void;
}

export class RemoteClientSession implements ClientSession {
  readonly kind = 'c2s' as const;
  /** Lets code tell a proxy from a local session without importing this class. */
  readonly remote = true;
  readonly data = new Map<string, unknown>();
  readonly shared = new SharedState();
  readonly secure = true;
  readonly remoteAddress = '';
  readonly suspended = false;
  readonly id: string;
  readonly node: string;
  readonly connectedAt: number;
  priority = 0;
  presence: Element | undefined;
  interested = false;
  private _closed = false;

  constructor(readonly jid: JID, entry: SessionEntry, private readonly link: RemoteLink, readonly log: Logger) {
    this.id = entry.id;
    this.node = entry.node;
    this.connectedAt = entry.connectedAt;
    this.update(entry);
  }

  get host(): string { return this.jid.domain; }
  get username(): string { return this.jid.local; }
  get closed(): boolean { return this._closed; }
  markClosed(): void { this._closed = true; }

  /** Take the owner's latest priority, presence, roster interest and shared module state. */
  update(e: SessionEntry): void {
    this.priority = e.priority;
    this.interested = e.interested;
    this.shared.replace(e.shared);
    if (e.presence === null) { this.presence = undefined; return; }
    try { this.presence = parseFragment(e.presence); } catch (err) {
      // A node never publishes bad XML; if it happens, treat the resource as available without
      // a status rather than as offline (it would stop receiving bare-JID messages).
      this.log.warn({ err: (err as Error).message }, 'cluster: unparsable presence in a registry entry');
      this.presence = xml('presence', NS.CLIENT, { from: this.jid.toString() });
    }
  }

  send(stanza: Element): void { if (!this._closed) this.link.forward(this, stanza); }
  close(error?: StreamError): void { if (!this._closed) this.link.closeRemote(this, error); }
}

export function isRemote(s: ClientSession): s is RemoteClientSession { return (s as { remote?: boolean }).remote === true; }
