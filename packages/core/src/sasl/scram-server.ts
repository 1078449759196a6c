// Server side of SCRAM-SHA-1/-256/-512 and their -PLUS variants (RFC 5802 §5 exchange, §6
// channel binding, §7 syntax; RFC 7677 for SHA-256; channel-binding types RFC 9266
// tls-exporter, RFC 5929 tls-server-end-point/tls-unique, advertised per XEP-0440).
//
// Exchange: [empty challenge if no initial response] -> client-first -> server-first (challenge)
// -> client-final -> server-final "v=" (carried as <success/> data, RFC 6120 §6.3.10).
// Unknown users are not revealed (RFC 5802 §5.1 permits, we require): the exchange continues
// with a deterministic fake salt so repeated probes see a stable salt, and fails at the proof
// with exactly the same condition and text as a wrong password.

import type { SaslFailureCondition } from '../protocol/errors.js';
import { constantTimeEqual, HASH_LENGTH, randomNonce, xorBytes, type ScramHash } from './crypto.js';
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from './encoding.js';
import {
  DEFAULT_ITERATIONS, isPrintableNonce, parseGs2Header, scramErrorCondition, splitAttributes,
  unescapeSaslname, type Gs2Header,
} from './scram.js';
import type { SaslServerContext, SaslServerMechanism, SaslServerResult } from './types.js';

type Failure = Extract<SaslServerResult, { kind: 'failure' }>;

/** Per-process secret keying the fake salts: stable for this process, unguessable outside it. */
let fakeSaltSecret: Uint8Array | undefined;

interface Keys { salt: string; iterations: number; storedKey: Uint8Array; serverKey: Uint8Array; known: boolean }

export class ScramServer implements SaslServerMechanism {
  private state: 'initial' | 'first' | 'final' | 'done' = 'initial';
  private gs2!: Gs2Header;
  private username = '';
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private keys!: Keys;

  constructor(readonly name: string, private readonly hash: ScramHash, private readonly plus: boolean,
    private readonly ctx: SaslServerContext) {}

  async step(response: Uint8Array | null): Promise<SaslServerResult> {
    try {
      const result = await this.advance(response);
      if (result.kind !== 'challenge') this.state = 'done';
      return result;
    } catch {
      // Storage or crypto trouble: a retry may succeed, and the mechanism must never throw.
      this.state = 'done';
      return { kind: 'failure', condition: 'temporary-auth-failure' };
    }
  }

  private async advance(response: Uint8Array | null): Promise<SaslServerResult> {
    switch (this.state) {
      case 'initial':
        // No initial response: RFC 6120 §6.4.2 has the server send an empty challenge.
        if (response === null) { this.state = 'first'; return { kind: 'challenge', data: new Uint8Array(0) }; }
        return this.clientFirst(response);
      case 'first':
        return response === null ? fail('malformed-request', 'missing client-first-message') : this.clientFirst(response);
      case 'final':
        return response === null ? fail('malformed-request', 'missing client-final-message') : this.clientFinal(response);
      case 'done':
        return fail('malformed-request', 'exchange already finished');
    }
  }

  private async clientFirst(bytes: Uint8Array): Promise<SaslServerResult> {
    const msg = fromUtf8(bytes);
    if (msg === undefined || msg.includes('\0')) return scramFail('invalid-encoding');
    const parsed = parseGs2Header(msg);
    if (!parsed) return fail('malformed-request', 'bad gs2-header');
    const gs2 = parsed.header;

    // Channel binding negotiation (RFC 5802 §6).
    if (this.plus && gs2.flag !== 'p') return fail('malformed-request', 'a -PLUS mechanism requires p=');
    if (!this.plus && gs2.flag === 'p') return fail('malformed-request', 'p= requires a -PLUS mechanism');
    if (gs2.flag === 'p' && (!this.ctx.channelBindingTypes.includes(gs2.cbName!) || !this.ctx.channelBinding(gs2.cbName!))) {
      return scramFail('unsupported-channel-binding-type');
    }
    // 'y' = "I could bind but you don't seem to offer it": if we did offer -PLUS, someone stripped
    // it from the feature list in transit (downgrade), so refuse.
    if (gs2.flag === 'y' && this.ctx.plusAdvertised) return scramFail('server-does-support-channel-binding');

    const attrs = splitAttributes(parsed.rest);
    if (!attrs) return scramFail('invalid-encoding');
    // reserved-mext: a mandatory extension we cannot understand, so we must fail (RFC 5802 §5.1).
    if (attrs.some((a) => a.name === 'm')) return scramFail('extensions-not-supported');
    if (attrs.length < 2 || attrs[0]!.name !== 'n' || attrs[1]!.name !== 'r') return fail('malformed-request', 'expected n=,r=');
    const username = unescapeSaslname(attrs[0]!.value);
    if (username === undefined) return scramFail('invalid-username-encoding');
    const cnonce = attrs[1]!.value;
    if (!isPrintableNonce(cnonce)) return fail('malformed-request', 'invalid nonce');

    const keys = await this.lookup(username);
    if (!keys) return fail('temporary-auth-failure', 'unusable stored credential');
    const snonce = this.ctx.nonce?.() ?? randomNonce(this.ctx.crypto);
    if (!isPrintableNonce(snonce)) throw new Error('server nonce is not printable');

    this.gs2 = gs2;
    this.username = username;
    this.keys = keys;
    this.clientFirstBare = parsed.rest;
    this.nonce = cnonce + snonce;
    this.serverFirst = `r=${this.nonce},s=${keys.salt},i=${keys.iterations}`;
    this.state = 'final';
    return { kind: 'challenge', data: utf8(this.serverFirst) };
  }

  /** Stored keys, a fake set for an unknown user, or undefined for a corrupt record. */
  private async lookup(username: string): Promise<Keys | undefined> {
    const { crypto } = this.ctx;
    const len = HASH_LENGTH[this.hash];
    const cred = await this.ctx.getScram(username, this.hash);
    if (!cred) {
      fakeSaltSecret ??= crypto.randomBytes(32);
      const salt = (await crypto.hmac('SHA-256', fakeSaltSecret, utf8(`${this.hash}\0${username}`))).slice(0, 16);
      // Random keys keep the proof computation (and its timing) identical; `known` decides.
      return { salt: toBase64(salt), iterations: DEFAULT_ITERATIONS, storedKey: crypto.randomBytes(len), serverKey: crypto.randomBytes(len), known: false };
    }
    const storedKey = fromBase64(cred.storedKey);
    const serverKey = fromBase64(cred.serverKey);
    const salt = fromBase64(cred.salt);
    if (!storedKey || !serverKey || !salt || salt.length === 0 || storedKey.length !== len || serverKey.length !== len
      || !Number.isSafeInteger(cred.iterations) || cred.iterations < 1) return undefined;
    return { salt: cred.salt, iterations: cred.iterations, storedKey, serverKey, known: true };
  }

  private async clientFinal(bytes: Uint8Array): Promise<SaslServerResult> {
    const msg = fromUtf8(bytes);
    if (msg === undefined || msg.includes('\0')) return scramFail('invalid-encoding');
    const attrs = splitAttributes(msg);
    if (!attrs) return scramFail('invalid-encoding');
    const last = attrs.length - 1;
    // Order is fixed: c=, r=, optional extensions, p= last (RFC 5802 §7 client-final-message).
    if (attrs.length < 3 || attrs[0]!.name !== 'c' || attrs[1]!.name !== 'r' || attrs[last]!.name !== 'p'
      || attrs.slice(2, last).some((a) => 'cmpr'.includes(a.name))) {
      return fail('malformed-request', 'expected c=,r=,...,p=');
    }
    const cbind = fromBase64(attrs[0]!.value);
    const proof = fromBase64(attrs[last]!.value);
    if (!cbind || !proof) return scramFail('invalid-encoding');
    if (proof.length !== HASH_LENGTH[this.hash]) return fail('malformed-request', 'proof has the wrong length');

    // c= must carry our view of the GS2 header plus this connection's binding data, which proves
    // the client spoke to us and not to a man in the middle (RFC 5802 §6).
    const cbData = this.gs2.flag === 'p' ? this.ctx.channelBinding(this.gs2.cbName!) : new Uint8Array(0);
    if (!cbData || !constantTimeEqual(cbind, concatBytes(utf8(this.gs2.raw), cbData))) {
      return scramFail('channel-bindings-dont-match');
    }
    if (attrs[1]!.value !== this.nonce) return fail('not-authorized', 'nonce mismatch');

    const { crypto } = this.ctx;
    const withoutProof = msg.slice(0, msg.length - attrs[last]!.value.length - 3);
    const authMessage = utf8(`${this.clientFirstBare},${this.serverFirst},${withoutProof}`);
    const clientSignature = await crypto.hmac(this.hash, this.keys.storedKey, authMessage);
    const clientKey = xorBytes(proof, clientSignature);
    const computed = await crypto.digest(this.hash, clientKey);
    const valid = constantTimeEqual(computed, this.keys.storedKey);
    if (!valid || !this.keys.known) return scramFail('invalid-proof');

    const serverSignature = await crypto.hmac(this.hash, this.keys.serverKey, authMessage);
    const result: SaslServerResult = { kind: 'success', data: utf8(`v=${toBase64(serverSignature)}`), username: this.username };
    if (this.gs2.authzid !== undefined) result.authzid = this.gs2.authzid;
    return result;
  }
}

function fail(condition: SaslFailureCondition, text?: string): Failure {
  return text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };
}

/** A failure named by its RFC 5802 server-error-value (the text) and mapped to a condition. */
function scramFail(serverError: string): Failure {
  return fail(scramErrorCondition(serverError), serverError);
}
