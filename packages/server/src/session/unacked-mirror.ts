// A copy of every XEP-0198 unacknowledged queue outside this process (issue #8: "kill -9 of one
// node ... nothing sent to its users is lost"). XEP-0198 §4 keeps what the client has not
// acknowledged in the server's memory; when a cluster node is killed that memory is gone, so in
// cluster mode (`cluster.mirrorUnacked`) the node offers this service ('unacked-mirror',
// api.service) and the stream management module mirrors each queue through it. When a node is
// found dead, the node reaping it reads the mirrors back and fires 'session/orphaned' for each
// session, whose stanzas the module hands to its death policy (re-route, offline, bounce).
// On a single node there is no such service and nothing is copied.
//
// This file is the whole contract: the module never sees Redis, the cluster never sees SmSession.

import type { Element } from '@magpie/core/xml/element';

export const UNACKED_MIRROR_SERVICE = 'unacked-mirror';

/** The mirror of one session's queue; every call is cheap (batched, written once per turn). */
export interface MirrorHandle {
  /** A stanza entered the queue at its end (`when`: first sent, for a XEP-0203 delay). */
  push(stanza: Element, when: number): void;
  /** The client acknowledged the `n` oldest stanzas. */
  ack(n: number): void;
  /** The session ended here (its queue was handled) or moved to another node: forget the copy. */
  close(): void;
}

export interface UnackedMirrorService {
  /**
   * Start the (empty) mirror of the session with SM-ID `smId` bound as `full`. `limit` bounds
   * the copy (the module's maxUnacked, with room for the overflow it tolerates before closing).
   */
  open(smId: string, full: string, limit: number): MirrorHandle;
}
