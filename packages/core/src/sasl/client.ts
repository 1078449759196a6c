// Client-side mechanism registry and negotiation (RFC 6120 §6.3.3: the client picks the
// strongest offered mechanism it can run; RFC 5802 §6 / XEP-0440 for when channel binding is
// usable). Used by the browser client and by load generators / tests driving the server.

import { webCrypto } from './crypto.js';
import { parseScramName, SCRAM_MECHANISMS } from './scram.js';
import { ScramClient } from './scram-client.js';
import { AnonymousClient, ExternalClient, PlainClient } from './simple.js';
import type { SaslClientMechanism, SaslClientOptions } from './types.js';
import type { SaslServerMechanism, SaslServerResult } from './server.js';

export type { SaslClientMechanism, SaslClientOptions, ScramClientCache } from './types.js';
export { SaslClientError } from './types.js';

export function createClientMechanism(name: string, opts: SaslClientOptions): SaslClientMechanism | undefined {
  const scram = parseScramName(name);
  if (scram) {
    if (opts.password === undefined && !opts.scramCache) return undefined;
    if (scram.plus && !opts.channelBinding) return undefined;
    return new ScramClient(name, scram.hash, scram.plus, { ...opts, crypto: opts.crypto ?? webCrypto });
  }
  switch (name) {
    case 'PLAIN': return opts.password === undefined ? undefined : new PlainClient(opts);
    case 'EXTERNAL': return new ExternalClient(opts);
    case 'ANONYMOUS': return new AnonymousClient();
    default: return undefined;
  }
}

/** Client preference: channel binding first, then hash strength, PLAIN last (RFC 6120 §6.3.3). */
export const CLIENT_PREFERENCE = [...SCRAM_MECHANISMS, 'PLAIN'] as const;

export interface ChooseOptions extends SaslClientOptions {
  /** Binding types the server listed in XEP-0440 <sasl-channel-binding/>, when it sent that element. */
  serverChannelBindingTypes?: string[];
  /** Set false to never fall back to PLAIN (e.g. no TLS, or a policy against it). Default true. */
  allowPlain?: boolean;
}

/**
 * Pick the best offered mechanism this client can actually run. -PLUS needs our binding data,
 * and when the server told us its binding types (XEP-0440), our type must be among them.
 * Callers should pass serverSupportsPlus = offered.some(m => m.endsWith('-PLUS')) to
 * createClientMechanism so a non-PLUS choice sends the right GS2 flag.
 */
export function chooseClientMechanism(offered: string[], opts: ChooseOptions): string | undefined {
  const cb = opts.channelBinding;
  const cbUsable = cb !== undefined && (opts.serverChannelBindingTypes === undefined || opts.serverChannelBindingTypes.includes(cb.type));
  for (const name of CLIENT_PREFERENCE) {
    if (!offered.includes(name)) continue;
    if (name.endsWith('-PLUS') && !cbUsable) continue;
    if (name === 'PLAIN' && (opts.allowPlain === false || opts.password === undefined)) continue;
    if (name.startsWith('SCRAM-') && opts.password === undefined && !opts.scramCache) continue;
    return name;
  }
  return undefined;
}

// ---- In-process exchange ----
// Drive a client mechanism against a server mechanism following the RFC 6120 §6.4 message flow
// (<auth/> with optional initial response, <challenge/>/<response/> rounds, <success/> with
// optional additional data) without any XML. Used by the tests and handy for a load generator
// or a startup self-check; the real wire path is the server's c2s SASL negotiation.

export interface LoopbackOutcome {
  /** The server's last result: success or failure. */
  result: Exclude<SaslServerResult, { kind: 'challenge' }>;
  /** Every server result in order, challenges included (to see at which step a failure came). */
  trace: SaslServerResult[];
}

/**
 * Run one exchange. A client-side exception (e.g. a bad server signature) propagates as a
 * rejection; a server failure is returned. `maxRounds` guards against a mechanism that never ends.
 */
export async function runSaslExchange(client: SaslClientMechanism, server: SaslServerMechanism, maxRounds = 10): Promise<LoopbackOutcome> {
  const trace: SaslServerResult[] = [];
  let result = await server.step(await client.initial());
  trace.push(result);
  for (let round = 0; result.kind === 'challenge'; round++) {
    if (round >= maxRounds) throw new Error(`no outcome after ${maxRounds} challenges`);
    result = await server.step(await client.challenge(result.data));
    trace.push(result);
  }
  if (result.kind === 'success') await client.success(result.data);
  return { result, trace };
}
