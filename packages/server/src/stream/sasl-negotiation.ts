// SASL negotiation on a c2s stream (RFC 6120 §6.4): <auth/>, <challenge/>/<response/>,
// <abort/>, <success/>/<failure/>, with the mechanism offer computed per connection, channel
// binding advertised per XEP-0440, and failures slowed by AuthThrottle. Payloads are never logged.

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import type { SaslFailureCondition } from '@magpie/core/protocol/errors';
import { createServerMechanism, type SaslServerMechanism, type SaslServerContext } from '@magpie/core/sasl/server';
import { JID } from '@magpie/core/jid/jid';
import { scramVerifyPassword } from '@magpie/core/sasl/scram';
import { randomBytes } from 'node:crypto';
import type { Transport } from '../transports/transport.js';
import type { HostConfig, Limits } from '../config/schema.js';
import type { AccountService, ScramHash } from '../accounts/accounts.js';
import type { AuthThrottle } from './auth-throttle.js';
import type { Logger } from '../log/logger.js';
import { nodeCrypto } from '../sasl/node-crypto.js';
import { createDigestMd5Server } from '../sasl/digest-md5.js';
import { UNADVERTISED_CHANNEL_BINDINGS } from '../tls/channel-binding.js';

const IMPLEMENTED = new Set(['SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN', 'EXTERNAL', 'ANONYMOUS', 'DIGEST-MD5']);

export interface SaslEnv {
  host: HostConfig;
  transport: Transport;
  limits: Limits;
  accounts: AccountService;
  throttle: AuthThrottle;
  log: Logger;
  /** TLS is required on this connection and not yet in place. */
  tlsRequired: boolean;
  send(el: Element): void;
  onSuccess(username: string, mechanism: string, anonymous: boolean): void;
  /** Too many failures on this stream: close it. */
  onGiveUp(): void;
}

/** The mechanisms to offer on this connection right now (RFC 6120 §6.3.3). */
export function offeredMechanisms(env: Pick<SaslEnv, 'host' | 'transport' | 'tlsRequired'>): string[] {
  if (env.tlsRequired) return [];
  const t = env.transport;
  const auth = env.host.auth;
  // ANONYMOUS and DIGEST-MD5 are switched on by their own flags, listed or not.
  const names = [...auth.mechanisms];
  if (auth.anonymous && !names.includes('ANONYMOUS')) names.push('ANONYMOUS');
  if (auth.digestMd5 && !names.includes('DIGEST-MD5')) names.push('DIGEST-MD5');
  const hasBinding = t.channelBindingTypes().length > 0;
  return names.filter((m) => {
    if (m.endsWith('-PLUS')) return hasBinding;
    if (m === 'PLAIN') return t.secure || t.loopback;
    if (m === 'EXTERNAL') return !!t.peerCertificate();
    if (m === 'ANONYMOUS') return auth.anonymous;
    if (m === 'DIGEST-MD5') return auth.digestMd5;
    return true;
  });
}

export class SaslNegotiation {
  private mech: SaslServerMechanism | undefined;
  private mechName = '';
  private attemptedUser: string | undefined;
  private failures = 0;
  private busy = false;

  constructor(private readonly env: SaslEnv) {}

  /** Handles an element in the SASL namespace. */
  async handle(el: Element): Promise<void> {
    if (this.busy) return this.fail('malformed-request', 'request while the previous step is pending');
    this.busy = true;
    try {
      if (el.name === 'auth') await this.auth(el);
      else if (el.name === 'response') await this.response(el);
      else if (el.name === 'abort') { this.mech = undefined; await this.fail('aborted'); }
      else await this.fail('malformed-request', `unexpected <${el.name}/>`);
    } finally { this.busy = false; }
  }

  private async auth(el: Element): Promise<void> {
    const env = this.env;
    if (this.mech) return this.fail('malformed-request', 'an exchange is already in progress');
    const name = el.attr('mechanism') ?? '';
    if (env.tlsRequired) return this.fail('encryption-required');
    if (env.throttle.lockedOut(env.transport.remoteAddress)) return this.fail('temporary-auth-failure', 'too many failed attempts; try later');
    const offered = offeredMechanisms(env);
    if (!offered.includes(name)) {
      if (!IMPLEMENTED.has(name)) return this.fail('invalid-mechanism');
      if (name === 'PLAIN' && !env.transport.secure) return this.fail('encryption-required');
      return this.fail('mechanism-too-weak', `${name} is not enabled here`);
    }
    const mech = name === 'DIGEST-MD5' ? this.digest() : createServerMechanism(name, this.context(offered));
    if (!mech) return this.fail('invalid-mechanism');
    this.mech = mech; this.mechName = name;
    const text = el.text();
    // RFC 6120 §6.4.2: '=' is an empty initial response, no text is no initial response.
    let data: Uint8Array | null;
    if (text === '') data = null;
    else if (text === '=') data = new Uint8Array(0);
    else { const d = decodeB64(text); if (!d) return this.fail('incorrect-encoding'); data = d; }
    await this.step(data);
  }

  private async response(el: Element): Promise<void> {
    if (!this.mech) return this.fail('malformed-request', 'no exchange in progress');
    const text = el.text();
    const data = text === '' || text === '=' ? new Uint8Array(0) : decodeB64(text);
    if (!data) return this.fail('incorrect-encoding');
    await this.step(data);
  }

  private async step(data: Uint8Array | null): Promise<void> {
    let r;
    try { r = await this.mech!.step(data); } catch (e) {
      this.env.log.error({ err: e, mechanism: this.mechName }, 'SASL mechanism failed');
      return this.fail('temporary-auth-failure');
    }
    if (r.kind === 'challenge') { this.env.send(xml('challenge', NS.SASL, {}, b64(r.data))); return; }
    if (r.kind === 'failure') return this.fail(r.condition, r.text);
    // Success: the authenticated username must be a valid localpart of an existing account.
    const anonymous = this.mechName === 'ANONYMOUS';
    let user: string;
    try { user = JID.of(r.username, this.env.host.domain).local; } catch { return this.fail('not-authorized'); }
    if (r.authzid && r.authzid !== `${user}@${this.env.host.domain}` && r.authzid !== user) return this.fail('invalid-authzid');
    if (!anonymous && !(await this.env.accounts.userExists(this.env.host.domain, user))) return this.fail('not-authorized');
    this.mech = undefined;
    this.env.throttle.success(`${user}@${this.env.host.domain}`);
    this.env.send(xml('success', NS.SASL, {}, r.data && r.data.length ? b64(r.data) : undefined));
    this.env.log.info({ user, mechanism: this.mechName }, 'authenticated');
    this.env.onSuccess(user, this.mechName, anonymous);
  }

  private async fail(condition: SaslFailureCondition, text?: string): Promise<void> {
    this.mech = undefined;
    const env = this.env;
    if (condition !== 'aborted') {
      const account = this.attemptedUser ? `${this.attemptedUser}@${env.host.domain}` : undefined;
      const delay = env.throttle.failure(env.transport.remoteAddress, account);
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      env.log.info({ condition, mechanism: this.mechName || undefined, user: this.attemptedUser }, 'SASL failure');
    }
    env.send(xml('failure', NS.SASL, {}, xml(condition, NS.SASL), text ? xml('text', NS.SASL, { 'xml:lang': 'en' }, text) : undefined));
    this.attemptedUser = undefined;
    if (condition !== 'aborted' && ++this.failures >= env.limits.authRetries) env.onGiveUp();
  }

  private context(offered: string[]): SaslServerContext {
    const env = this.env;
    const domain = env.host.domain;
    const t = env.transport;
    const normal = (u: string): string | undefined => { try { return JID.of(u, domain).local; } catch { return undefined; } };
    return {
      crypto: nodeCrypto,
      getScram: async (username: string, hash: ScramHash) => {
        const user = normal(username);
        this.attemptedUser = user ?? username.slice(0, 64);
        if (!user) return undefined;
        if (env.throttle.lockedOut(t.remoteAddress, `${user}@${domain}`)) return undefined;
        return env.accounts.scram(domain, user, hash);
      },
      channelBinding: (type: string) => t.channelBinding(type),
      channelBindingTypes: t.secure ? [...t.channelBindingTypes(), ...UNADVERTISED_CHANNEL_BINDINGS] : [],
      plusAdvertised: offered.some((m) => m.endsWith('-PLUS')),
      verifyPlain: async (username: string, password: string) => {
        const user = normal(username);
        this.attemptedUser = user ?? username.slice(0, 64);
        if (!user || env.throttle.lockedOut(t.remoteAddress, `${user}@${domain}`)) return false;
        // SHA-256 first; an account imported with other SCRAM keys only (XEP-0227: Prosody and
        // ejabberd keep SCRAM-SHA-1) is checked against what it has, and then gets the hashes it
        // lacks, so that SCRAM-SHA-256/512 work for it from the next login on.
        for (const hash of ['SHA-256', 'SHA-512', 'SHA-1'] as const) {
          const cred = await env.accounts.scram(domain, user, hash);
          if (!cred) continue;
          if (!(await scramVerifyPassword(nodeCrypto, hash, cred, password))) return false;
          if (hash !== 'SHA-256') {
            await env.accounts.completeCredentials(domain, user, password).catch((e: unknown) => {
              env.log.warn({ err: (e as Error).message, user }, 'could not complete the SCRAM credentials');
            });
          }
          return true;
        }
        return false;
      },
      externalIdentity: async (authzid?: string) => {
        // XEP-0178 §3: a client certificate valid for user@domain (an xmppAddr or an email SAN).
        const cert = t.peerCertificate();
        if (!cert || !cert.authorized) return undefined;
        // Only id-on-xmppAddr (RFC 6120 §13.7.1.4) and e-mail SANs name a user; DNS names do not.
        const names = cert.subjectAltNames.flatMap((s) => {
          const m = /^(?:othername:\s*(?:XmppAddr|1\.3\.6\.1\.5\.5\.7\.8\.5):{1,2}|email:)(.+)$/i.exec(s);
          return m ? [m[1]!.trim()] : [];
        });
        const want = authzid ? authzid : names.find((n) => n.endsWith('@' + domain));
        if (!want || !names.includes(want)) return undefined;
        const j = JID.tryParse(want);
        return j && j.domain === domain && j.local ? { username: j.local } : undefined;
      },
      anonymousUsername: () => randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, 'x'),
    };
  }

  private digest(): SaslServerMechanism {
    const env = this.env;
    return createDigestMd5Server({
      domain: env.host.domain,
      getDigestSecret: async (username: string) => {
        let user: string | undefined;
        try { user = JID.of(username, env.host.domain).local; } catch { user = undefined; }
        this.attemptedUser = user;
        return user ? env.accounts.digestSecret(env.host.domain, user) : undefined;
      },
    });
  }
}

function b64(data: Uint8Array): string { return Buffer.from(data).toString('base64'); }
const B64_RE = /^[A-Za-z0-9+/]*={0,2}$/;
function decodeB64(s: string): Uint8Array | undefined {
  const t = s.replace(/[\s]/g, '');
  if (!B64_RE.test(t) || t.length % 4 !== 0) return undefined;
  return new Uint8Array(Buffer.from(t, 'base64'));
}
