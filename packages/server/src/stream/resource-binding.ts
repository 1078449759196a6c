// Resource binding (RFC 6120 §7): client-chosen or server-generated resourceparts, the limit on
// resources per account, and the conflict policy of §7.7.2.2 (configurable: disconnect the
// older session with a <conflict/> stream error, refuse the new one, or rename the new one).

import { randomBytes } from 'node:crypto';
import type { Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { JID } from '@magpie/core/jid/jid';
import { StanzaError, StreamError } from '@magpie/core/protocol/errors';
import type { ServerCore } from '../server-core.js';
import { LocalClientSession, type SessionStream } from './client-session.js';
import type { Logger } from '../log/logger.js';

export interface BindingStream extends SessionStream { username: string | undefined; host: { domain: string } | undefined; log: Logger }

function generatedResource(): string { return 'magpie-' + randomBytes(6).toString('base64url'); }

export async function bindResource(server: ServerCore, stream: BindingStream, iq: Element): Promise<LocalClientSession | StanzaError> {
  const bind = iq.getChild('bind', NS.BIND)!;
  const requested = bind.getChildText('resource', NS.BIND)?.trim();
  const domain = stream.host!.domain;
  let jid: JID;
  try {
    jid = JID.of(stream.username!, domain, requested || generatedResource());
  } catch {
    return new StanzaError('bad-request', 'the resourcepart is not valid (RFC 7622 §3.4)');
  }
  const online = server.sessions.resources(jid.bareString());
  if (online.length >= server.config.limits.maxResourcesPerAccount && !server.sessions.get(jid.toString())) {
    return new StanzaError('resource-constraint', 'too many resources online for this account');
  }
  const existing = server.sessions.get(jid.toString());
  if (existing) {
    const policy = server.config.resourceConflict;
    if (policy === 'reject-new') return new StanzaError('conflict', 'that resource is already online');
    if (policy === 'rename') jid = jid.withResource(`${jid.resource}-${randomBytes(3).toString('hex')}`);
    else {
      existing.log.info('replaced by a new session binding the same resource');
      existing.close(new StreamError('conflict', 'replaced by new connection'));
      // close() unregisters synchronously; make sure even a stale entry is gone.
      server.sessions.remove(existing);
    }
  }
  const session = new LocalClientSession(jid, stream.log.child({ jid: jid.toString() }), stream);
  server.sessions.add(session);
  return session;
}
