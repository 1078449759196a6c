// Client side of SCRAM-SHA-1/-256/-512 and -PLUS (RFC 5802 §5, §6, §7; RFC 7677). Mutual
// authentication is the point of SCRAM, so success() refuses to complete unless the server's
// "v=" ServerSignature was checked (RFC 5802 §5: the client MUST verify it). The server-final
// message is accepted either as <success/> data (RFC 6120 §6.3.10) or as a last challenge
// (older servers), in which case the client answers it with an empty response.

import { constantTimeEqual, HASH_LENGTH, randomNonce, webCrypto, xorBytes, type SaslCrypto, type ScramHash } from './crypto.js';
import { concatBytes, fromBase64, fromUtf8, toBase64, utf8 } from './encoding.js';
import {
  buildGs2Header, DEFAULT_ITERATIONS, escapeSaslname, isPrintableNonce, saltedPassword, scramKeys, splitAttributes,
} from './scram.js';
import { SaslClientError, type SaslClientMechanism, type SaslClientOptions, type ScramClientCache } from './types.js';

/**
 * A server asking for fewer iterations than this is refused: a man in the middle could otherwise
 * lower the count to make the captured proof cheap to brute-force (RFC 7677 §4 recommends >= 4096).
 * The upper bound stops a hostile server from pinning the client's CPU.
 */
export const MIN_CLIENT_ITERATIONS = DEFAULT_ITERATIONS;
export const MAX_CLIENT_ITERATIONS = 10_000_000;

export class ScramClient implements SaslClientMechanism {
  private state: 'initial' | 'first-sent' | 'final-sent' | 'verified' = 'initial';
  private readonly crypto: SaslCrypto;
  private gs2Header = '';
  private clientFirstBare = '';
  private cnonce = '';
  private serverSignature: Uint8Array = new Uint8Array(0);
  private cache: ScramClientCache | undefined;

  constructor(readonly name: string, private readonly hash: ScramHash, private readonly plus: boolean,
    private readonly opts: SaslClientOptions) {
    this.crypto = opts.crypto ?? webCrypto;
    this.cache = opts.scramCache;
  }

  /** SaltedPassword of the last exchange (or the one passed in), for reuse in later logins. */
  get saltedPasswordCache(): ScramClientCache | undefined { return this.cache; }

  async initial(): Promise<Uint8Array> {
    if (this.state !== 'initial') throw new SaslClientError('initial() called twice');
    const cb = this.opts.channelBinding;
    // GS2 flag (RFC 5802 §6): p = binding; y = "I can bind but you did not offer -PLUS" so the
    // server can detect a stripped mechanism list; n = this client does not bind at all.
    const flag = this.plus ? 'p' : cb && !this.opts.serverSupportsPlus ? 'y' : 'n';
    this.gs2Header = buildGs2Header(flag, cb?.type, this.opts.authzid);
    this.cnonce = this.opts.nonce ?? randomNonce(this.crypto);
    if (!isPrintableNonce(this.cnonce)) throw new SaslClientError('client nonce is not printable');
    this.clientFirstBare = `n=${escapeSaslname(this.opts.username)},r=${this.cnonce}`;
    this.state = 'first-sent';
    return utf8(this.gs2Header + this.clientFirstBare);
  }

  async challenge(data: Uint8Array): Promise<Uint8Array> {
    if (this.state === 'first-sent') return this.serverFirst(data);
    if (this.state === 'final-sent') { await this.serverFinal(data); return new Uint8Array(0); }
    throw new SaslClientError(`unexpected challenge in state ${this.state}`);
  }

  async success(data?: Uint8Array): Promise<void> {
    if (data && data.length > 0 && this.state === 'final-sent') await this.serverFinal(data);
    if (this.state !== 'verified') throw new SaslClientError('server reported success without proving it knows the password');
  }

  private async serverFirst(data: Uint8Array): Promise<Uint8Array> {
    const msg = fromUtf8(data);
    const attrs = msg === undefined ? undefined : splitAttributes(msg);
    if (msg === undefined || !attrs) throw new SaslClientError('malformed server-first-message');
    if (attrs[0]?.name === 'm') throw new SaslClientError('server requires an unsupported SCRAM extension');
    if (attrs.length < 3 || attrs[0]!.name !== 'r' || attrs[1]!.name !== 's' || attrs[2]!.name !== 'i') {
      throw new SaslClientError('malformed server-first-message');
    }
    const nonce = attrs[0]!.value;
    // The combined nonce must extend ours, or this is a replay of some other exchange.
    if (!nonce.startsWith(this.cnonce) || nonce.length === this.cnonce.length || !isPrintableNonce(nonce)) {
      throw new SaslClientError('server nonce does not extend the client nonce');
    }
    const salt = fromBase64(attrs[1]!.value);
    if (!salt || salt.length === 0) throw new SaslClientError('invalid salt');
    if (!/^[1-9][0-9]{0,9}$/.test(attrs[2]!.value)) throw new SaslClientError('invalid iteration count');
    const iterations = Number(attrs[2]!.value);
    if (iterations < MIN_CLIENT_ITERATIONS || iterations > MAX_CLIENT_ITERATIONS) {
      throw new SaslClientError(`refusing iteration count ${iterations}`);
    }

    const sp = await this.saltedPassword(attrs[1]!.value, salt, iterations);
    const { clientKey, storedKey, serverKey } = await scramKeys(this.crypto, this.hash, sp);
    const cbData = this.plus ? this.opts.channelBinding!.data : new Uint8Array(0);
    const withoutProof = `c=${toBase64(concatBytes(utf8(this.gs2Header), cbData))},r=${nonce}`;
    const authMessage = utf8(`${this.clientFirstBare},${msg},${withoutProof}`);
    const clientSignature = await this.crypto.hmac(this.hash, storedKey, authMessage);
    this.serverSignature = await this.crypto.hmac(this.hash, serverKey, authMessage);
    this.state = 'final-sent';
    return utf8(`${withoutProof},p=${toBase64(xorBytes(clientKey, clientSignature))}`);
  }

  private async saltedPassword(saltB64: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
    const c = this.cache;
    if (c && c.salt === saltB64 && c.iterations === iterations && c.saltedPassword.length === HASH_LENGTH[this.hash]) {
      return c.saltedPassword;
    }
    if (this.opts.password === undefined) throw new SaslClientError('no password and no matching cached SaltedPassword');
    const sp = await saltedPassword(this.crypto, this.hash, this.opts.password, salt, iterations);
    this.cache = { salt: saltB64, iterations, saltedPassword: sp };
    return sp;
  }

  private async serverFinal(data: Uint8Array): Promise<void> {
    const msg = fromUtf8(data);
    const attrs = msg === undefined ? undefined : splitAttributes(msg);
    if (!attrs) throw new SaslClientError('malformed server-final-message');
    if (attrs[0]!.name === 'e') throw new SaslClientError(`server error: ${attrs[0]!.value}`, attrs[0]!.value);
    const v = attrs[0]!.name === 'v' ? fromBase64(attrs[0]!.value) : undefined;
    if (!v) throw new SaslClientError('malformed server-final-message');
    if (!constantTimeEqual(v, this.serverSignature)) throw new SaslClientError('server signature mismatch: the server does not know the password');
    this.state = 'verified';
  }
}
