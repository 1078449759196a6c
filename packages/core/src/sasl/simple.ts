// The single-message mechanisms, server and client halves:
//   PLAIN     RFC 4616 §2: message = [authzid] NUL authcid NUL passwd (UTF-8). Only ever offered
//             over TLS (RFC 6120 §6.4.1 leaves that to the caller's mechanism list).
//   EXTERNAL  RFC 4422 Appendix A, XEP-0178: identity from the TLS client certificate; the
//             message is the authzid or empty.
//   ANONYMOUS RFC 4505 §2: message is optional trace data, which we ignore.
// Without an initial response (RFC 6120 §6.4.2) PLAIN and ANONYMOUS send an empty challenge and
// take the message from the next response; EXTERNAL treats a missing initial response as "no
// authzid" (the XMPP layer maps '=' and no-payload alike), as XEP-0178 §3 clients expect.

import type { SaslFailureCondition } from '../protocol/errors.js';
import { fromUtf8, tryPrepareOpaqueString, utf8 } from './encoding.js';
import {
  SaslClientError, type SaslClientMechanism, type SaslClientOptions, type SaslServerContext,
  type SaslServerMechanism, type SaslServerResult,
} from './types.js';

const fail = (condition: SaslFailureCondition, text?: string): SaslServerResult =>
  text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };

/** Shared step plumbing: optional empty challenge, then exactly one message, never a throw. */
abstract class OneShotServer implements SaslServerMechanism {
  private state: 'initial' | 'waiting' | 'done' = 'initial';
  abstract readonly name: string;
  protected abstract readonly challengeIfEmpty: boolean;
  protected abstract handle(message: Uint8Array | null): Promise<SaslServerResult>;

  async step(response: Uint8Array | null): Promise<SaslServerResult> {
    if (this.state === 'done') return fail('malformed-request', 'exchange already finished');
    if (response === null && this.state === 'initial' && this.challengeIfEmpty) {
      this.state = 'waiting';
      return { kind: 'challenge', data: new Uint8Array(0) };
    }
    this.state = 'done';
    try {
      return await this.handle(response);
    } catch {
      return fail('temporary-auth-failure');
    }
  }
}

export class PlainServer extends OneShotServer {
  readonly name = 'PLAIN';
  protected readonly challengeIfEmpty = true;
  constructor(private readonly ctx: SaslServerContext) { super(); }

  protected async handle(message: Uint8Array | null): Promise<SaslServerResult> {
    const text = message ? fromUtf8(message) : undefined;
    const parts = text?.split('\0');
    if (!parts || parts.length !== 3) return fail('malformed-request', 'expected authzid NUL authcid NUL password');
    const [authzid, authcid, password] = parts as [string, string, string];
    if (authcid === '' || password === '') return fail('malformed-request', 'empty authcid or password');
    // Passwords the OpaqueString profile rejects can never have been stored, so they are simply wrong.
    if (tryPrepareOpaqueString(password) === undefined || !this.ctx.verifyPlain) return fail('not-authorized');
    const ok = await this.ctx.verifyPlain(authcid, password, authzid === '' ? undefined : authzid);
    if (!ok) return fail('not-authorized');
    return authzid === '' ? { kind: 'success', username: authcid } : { kind: 'success', username: authcid, authzid };
  }
}

export class ExternalServer extends OneShotServer {
  readonly name = 'EXTERNAL';
  protected readonly challengeIfEmpty = false;
  constructor(private readonly ctx: SaslServerContext) { super(); }

  protected async handle(message: Uint8Array | null): Promise<SaslServerResult> {
    const authzid = message && message.length > 0 ? fromUtf8(message) : '';
    if (authzid === undefined || authzid.includes('\0')) return fail('malformed-request', 'authzid is not valid UTF-8');
    const id = await this.ctx.externalIdentity?.(authzid === '' ? undefined : authzid);
    if (!id) return fail('not-authorized');
    return authzid === '' ? { kind: 'success', username: id.username } : { kind: 'success', username: id.username, authzid };
  }
}

export class AnonymousServer extends OneShotServer {
  readonly name = 'ANONYMOUS';
  protected readonly challengeIfEmpty = true;
  constructor(private readonly ctx: SaslServerContext) { super(); }

  protected async handle(): Promise<SaslServerResult> {
    // Trace data (RFC 4505 §2) is informational only and deliberately not logged or checked.
    const username = this.ctx.anonymousUsername?.();
    return username ? { kind: 'success', username } : fail('temporary-auth-failure');
  }
}

/** Base for clients whose whole job is one initial response and a data-free success. */
abstract class OneShotClient implements SaslClientMechanism {
  abstract readonly name: string;
  abstract initial(): Promise<Uint8Array | null>;
  async challenge(data: Uint8Array): Promise<Uint8Array> {
    // An empty challenge means the server did not see our initial response; anything else is
    // not part of these mechanisms.
    if (data.length === 0) return (await this.initial()) ?? new Uint8Array(0);
    throw new SaslClientError(`unexpected ${this.name} challenge`);
  }
  async success(): Promise<void> {}
}

export class PlainClient extends OneShotClient {
  readonly name = 'PLAIN';
  constructor(private readonly opts: SaslClientOptions) { super(); }
  async initial(): Promise<Uint8Array> {
    // Preparing here too is harmless (the profile is idempotent) and helps servers that don't.
    const password = tryPrepareOpaqueString(this.opts.password ?? '');
    if (password === undefined) throw new SaslClientError('password is empty or contains disallowed characters');
    return utf8(`${this.opts.authzid ?? ''}\0${this.opts.username}\0${password}`);
  }
}

export class ExternalClient extends OneShotClient {
  readonly name = 'EXTERNAL';
  constructor(private readonly opts: Pick<SaslClientOptions, 'authzid'>) { super(); }
  async initial(): Promise<Uint8Array> { return utf8(this.opts.authzid ?? ''); }
}

export class AnonymousClient extends OneShotClient {
  readonly name = 'ANONYMOUS';
  async initial(): Promise<Uint8Array> { return new Uint8Array(0); }
}
