// DIGEST-MD5 server mechanism (RFC 2831 §2.1; moved to Historic by RFC 6331, offered only for
// legacy clients when a host enables it). Server-only because MD5 is absent from WebCrypto.
//
// Exchange (RFC 2831 §2.1.1-§2.1.3): digest-challenge -> digest-response -> "rspauth=" (sent as
// a challenge, or as <success/> data when ctx.rspauthInSuccess is set, RFC 6120 §6.3.10) ->
// empty response -> success. Only qop=auth (no integrity/confidentiality layers), nc=00000001
// (no re-authentication) and algorithm=md5-sess. digest-uri must be "xmpp/<domain>": "xmpp" is
// XMPP's registered SASL service name (RFC 6120 §6.3), so any other URI was meant for another
// service or host and is refused.
//
// Stored secret: the account store keeps HEX(H(username ":" realm ":" password)), 32 lowercase
// hex digits (StoredCredentials.digestMd5), computed by digestMd5Secret(). Its binary value is
// what A1 starts with (RFC 2831 §2.1.2.1), so the password itself is never stored. Per
// §2.1.2.1 with charset=utf-8, username, realm and password are each hashed as ISO 8859-1 when
// every character fits, otherwise as UTF-8 (what Cyrus SASL and other clients do); the password
// is first prepared with the OpaqueString profile like every other Magpie password.

import { fromHex, fromUtf8, latin1Bytes, prepareOpaqueString, toHex, toLatin1, utf8 } from '@magpie/core/sasl/encoding';
import { constantTimeEqual, randomNonce } from '@magpie/core/sasl/crypto';
import type { SaslFailureCondition } from '@magpie/core/protocol/errors';
import type { SaslServerMechanism, SaslServerResult } from '@magpie/core/sasl/types';
import { md5, nodeCrypto } from './node-crypto.js';

export interface DigestMd5Context {
  /** This host's domain; digest-uri must be xmpp/<domain>. */
  domain: string;
  /** The realm offered in the challenge; default: the domain. */
  realm?: string;
  /** HEX(H(username:realm:password)) as stored, or undefined for an unknown user. */
  getDigestSecret(username: string, realm: string): Promise<string | undefined>;
  /** Nonce override for tests. */
  nonce?(): string;
  /** Put rspauth in <success/> data instead of a final challenge. */
  rspauthInSuccess?: boolean;
}

/** RFC 2831 §2.1.2.1: ISO 8859-1 when representable (charset=utf-8 rule), else UTF-8. */
function hashBytes(s: string): Uint8Array {
  return /^[\x00-\xff]*$/.test(s) ? latin1Bytes(s) : utf8(s);
}

/** What the account store keeps for DIGEST-MD5: hex of H(user:realm:password). */
export function digestMd5Secret(username: string, realm: string, password: string): string {
  const colon = utf8(':');
  return toHex(md5(hashBytes(username), colon, hashBytes(realm), colon, hashBytes(prepareOpaqueString(password))));
}

/**
 * Nonces already consumed by a digest-response in this process. Each exchange issues a fresh
 * random nonce and accepts exactly one response for it, so this is only a backstop against a
 * replayed response meeting a reused nonce; bounded so it cannot grow without limit.
 */
const usedNonces = new Set<string>();
const USED_NONCES_MAX = 10_000;
function consumeNonce(nonce: string): boolean {
  if (usedNonces.has(nonce)) return false;
  usedNonces.add(nonce);
  if (usedNonces.size > USED_NONCES_MAX) usedNonces.delete(usedNonces.values().next().value!);
  return true;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Parse `name=value` directives, value a token or quoted-string (RFC 2831 §7 #rule). */
export function parseDirectives(s: string): Map<string, string> | undefined {
  const out = new Map<string, string>();
  let i = 0;
  const ws = () => { while (i < s.length && ' \t\r\n'.includes(s[i]!)) i++; };
  for (;;) {
    while (i < s.length && (s[i] === ',' || ' \t\r\n'.includes(s[i]!))) i++; // empty list elements are allowed
    if (i >= s.length) return out;
    const start = i;
    while (i < s.length && TOKEN.test(s[i]!)) i++;
    const name = s.slice(start, i).toLowerCase();
    ws();
    if (name === '' || s[i] !== '=') return undefined;
    i++;
    ws();
    let value = '';
    if (s[i] === '"') {
      for (i++; ; i++) {
        if (i >= s.length) return undefined;
        if (s[i] === '\\') { i++; if (i >= s.length) return undefined; value += s[i]; continue; }
        if (s[i] === '"') { i++; break; }
        value += s[i];
      }
    } else {
      const vs = i;
      while (i < s.length && TOKEN.test(s[i]!)) i++;
      value = s.slice(vs, i);
      if (value === '') return undefined;
    }
    if (out.has(name)) return undefined; // RFC 2831 §2.1.2: each directive at most once
    out.set(name, value);
    ws();
    if (i < s.length && s[i] !== ',') return undefined;
  }
}

const quote = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
const fail = (condition: SaslFailureCondition, text?: string): SaslServerResult =>
  text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };

class DigestMd5Server implements SaslServerMechanism {
  readonly name = 'DIGEST-MD5';
  private state: 'initial' | 'challenged' | 'rspauth' | 'done' = 'initial';
  private readonly realm: string;
  private nonce = '';
  private success?: SaslServerResult;

  constructor(private readonly ctx: DigestMd5Context) { this.realm = ctx.realm ?? ctx.domain; }

  async step(response: Uint8Array | null): Promise<SaslServerResult> {
    try {
      const r = await this.advance(response);
      if (r.kind !== 'challenge') this.state = 'done';
      return r;
    } catch {
      this.state = 'done';
      return fail('temporary-auth-failure');
    }
  }

  private async advance(response: Uint8Array | null): Promise<SaslServerResult> {
    const empty = response === null || response.length === 0;
    switch (this.state) {
      case 'initial': {
        // DIGEST-MD5 is server-first: there is no initial response to accept (RFC 2831 §2.1).
        if (!empty) return fail('malformed-request', 'DIGEST-MD5 takes no initial response');
        this.nonce = this.ctx.nonce?.() ?? randomNonce(nodeCrypto, 24);
        this.state = 'challenged';
        return { kind: 'challenge', data: utf8(`realm=${quote(this.realm)},nonce=${quote(this.nonce)},qop="auth",charset=utf-8,algorithm=md5-sess`) };
      }
      case 'challenged':
        return empty ? fail('malformed-request', 'missing digest-response') : this.verify(response!);
      case 'rspauth':
        // RFC 2831 §2.1.3: the client acknowledges rspauth with an empty response.
        return empty ? this.success! : fail('malformed-request', 'expected an empty response');
      case 'done':
        return fail('malformed-request', 'exchange already finished');
    }
  }

  private async verify(bytes: Uint8Array): Promise<SaslServerResult> {
    if (bytes.length > 4096) return fail('malformed-request', 'digest-response longer than 4096 octets');
    // Parse byte-exactly (latin1), then decode the human-readable fields as UTF-8 when
    // charset=utf-8 was echoed; the hashes use the raw bytes.
    const d = parseDirectives(toLatin1(bytes));
    if (!d) return fail('malformed-request', 'unparsable digest-response');
    const charset = d.get('charset');
    if (charset !== undefined && charset.toLowerCase() !== 'utf-8') return fail('malformed-request', 'bad charset');
    const text = (v: string | undefined) => (v === undefined ? undefined : charset ? fromUtf8(latin1Bytes(v)) : v);
    const username = text(d.get('username'));
    const realm = d.has('realm') ? text(d.get('realm')) : ''; // absent realm = empty realm-value (§2.1.2)
    const authzidRaw = d.get('authzid');
    const authzid = authzidRaw === undefined ? undefined : fromUtf8(latin1Bytes(authzidRaw));
    const [nonce, cnonce, nc, uri, resp] = ['nonce', 'cnonce', 'nc', 'digest-uri', 'response'].map((k) => d.get(k));
    const qop = d.get('qop') ?? 'auth';
    if (!username || realm === undefined || !nonce || !cnonce || !nc || !uri || text(uri) === undefined || !resp
      || (authzidRaw !== undefined && !authzid)) {
      return fail('malformed-request', 'missing or invalid directive');
    }
    if (qop !== 'auth' || d.has('cipher')) return fail('malformed-request', 'only qop=auth is offered');
    if (!/^[0-9a-fA-F]{32}$/.test(resp) || !/^[0-9a-fA-F]{8}$/.test(nc)) return fail('malformed-request', 'bad response or nc');

    // Any response naming a nonce other than the one just issued, or one already used, is a replay.
    if (nonce !== this.nonce || !consumeNonce(nonce)) return fail('not-authorized', 'stale or replayed nonce');
    if (nc !== '00000001') return fail('not-authorized', 'nonce count must be 00000001');
    if (realm !== this.realm && realm !== '') return fail('not-authorized', 'unknown realm');
    if (text(uri)?.toLowerCase() !== `xmpp/${this.ctx.domain}`.toLowerCase()) return fail('not-authorized', 'wrong digest-uri');

    const secretHex = await this.ctx.getDigestSecret(username, realm);
    if (secretHex === undefined) return fail('not-authorized');
    const secret = fromHex(secretHex);
    if (!secret || secret.length !== 16) return fail('temporary-auth-failure', 'unusable stored secret');

    const b = latin1Bytes;
    const colon = b(':');
    const a1 = [secret, colon, b(nonce), colon, b(cnonce), ...(authzidRaw !== undefined ? [colon, b(authzidRaw)] : [])];
    const ha1 = toHex(md5(...a1));
    const kd = (a2: string) => toHex(md5(b(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${toHex(md5(b(a2)))}`)));
    if (!constantTimeEqual(b(kd(`AUTHENTICATE:${uri}`)), b(resp.toLowerCase()))) return fail('not-authorized');

    const rspauth = utf8(`rspauth=${kd(`:${uri}`)}`);
    const ok: SaslServerResult = authzid ? { kind: 'success', username, authzid } : { kind: 'success', username };
    if (this.ctx.rspauthInSuccess) return { ...ok, data: rspauth };
    this.success = ok;
    this.state = 'rspauth';
    return { kind: 'challenge', data: rspauth };
  }
}

export function createDigestMd5Server(ctx: DigestMd5Context): SaslServerMechanism {
  return new DigestMd5Server(ctx);
}
