// Client stream negotiation (RFC 6120 §4.3-§7): stream features, STARTTLS (§5.4) when the
// transport can and is not yet encrypted, SASL (§6) through core's mechanisms (SCRAM-SHA-1/256/512
// and -PLUS with channel binding where the transport provides it, PLAIN only over TLS unless
// explicitly allowed on loopback, ANONYMOUS), the stream restart, then either XEP-0198 §5
// resumption or resource binding (§7) followed by XEP-0198 §3 <enable/>.

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { chooseClientMechanism, createClientMechanism, SaslClientError, type ScramClientCache } from '@magpie/core/sasl/client';
import { fromBase64, toBase64 } from '@magpie/core/sasl/encoding';
import { AuthError, ConnectionError, XmppError } from './errors.js';
import type { Inbox } from './inbox.js';
import { newId } from './iq.js';
import { SM_NS, type StreamManagementState } from './sm.js';
import type { ClientTransport } from './transport/transport.js';

export type PlainPolicy = 'tls' | 'tls-or-loopback' | 'never';

export interface NegotiationOptions {
  domain: string;
  lang: string;
  username: string;
  password: string | undefined;
  anonymous: boolean;
  resource: string | undefined;
  plain: PlainPolicy;
  /** Refuse a connection that ends up unencrypted (loopback excepted). */
  requireTls: boolean;
  /** Only these SASL mechanisms (an allow-list over what the server offers). */
  mechanisms: string[] | undefined;
  sm: { enabled: boolean; resume: boolean; max: number | undefined };
  timeout: number;
  scramCache: ScramClientCache | undefined;
}

export interface NegotiationResult {
  jid: string;
  resumed: boolean;
  /** Stanzas to write again: the ones the server missed (resumed), or, after a failed
      resumption, the unacknowledged messages of the lost session. */
  retransmit: Element[];
  /** Unacknowledged stanzas of a session that could not be resumed (dropped from retransmit). */
  lost: Element[];
  mechanism: string;
  features: Element;
  scramCache: ScramClientCache | undefined;
}

const isFeatures = (el: Element): boolean => el.name === 'features' && el.xmlns === NS.STREAM;

export async function negotiate(t: ClientTransport, inbox: Inbox, o: NegotiationOptions, sm: StreamManagementState,
  write: (el: Element) => void): Promise<NegotiationResult> {
  const send = write;
  const next = (pred: (el: Element) => boolean, what: string): Promise<Element> => inbox.next(pred, what, o.timeout);
  t.openStream(o.domain, o.lang);
  let features = await next(isFeatures, 'stream features');

  if (!t.secure && features.getChild('starttls', NS.TLS) && t.canStartTls && t.startTls) {
    send(xml('starttls', NS.TLS));
    const answer = await next((el) => el.xmlns === NS.TLS, 'STARTTLS answer');
    if (answer.name !== 'proceed') throw new ConnectionError('server refused STARTTLS', 'tls');
    await t.startTls();
    t.openStream(o.domain, o.lang);
    features = await next(isFeatures, 'stream features after TLS');
  }
  if (!t.secure && o.requireTls && !t.loopback) {
    throw new ConnectionError(`${t.address} is not encrypted and the server offers no STARTTLS`, 'insecure');
  }

  const { mechanism, scramCache } = await authenticate(t, features, o, next, send);
  t.openStream(o.domain, o.lang);
  features = await next(isFeatures, 'stream features after authentication');
  const smOffered = features.getChild('sm', SM_NS) !== undefined;

  let retransmit: Element[] = [];
  let lost: Element[] = [];
  if (sm.resumable && smOffered && o.sm.enabled) {
    send(xml('resume', SM_NS, { previd: sm.id, h: sm.inbound }));
    const r = await next((el) => el.xmlns === SM_NS && (el.name === 'resumed' || el.name === 'failed'), 'resumption');
    if (r.name === 'resumed') {
      const again = sm.resumed(Number(r.attr('h')));
      return { jid: '', resumed: true, retransmit: again, lost: [], mechanism, features, scramCache };
    }
    // XEP-0198 §5: <failed h/> still tells which stanzas the server had handled.
    const h = r.attr('h');
    if (h !== undefined) { try { sm.ack(Number(h)); } catch { /* a wrong h on failure changes nothing */ } }
  }
  if (sm.enabled) {
    // A new session: what the old one never confirmed is resent if it is a message (an iq or a
    // presence belongs to the old session: pending iqs fail, presence is re-announced).
    const left = sm.reset();
    retransmit = left.filter((el) => el.name === 'message');
    lost = left.filter((el) => el.name !== 'message');
  }

  const jid = await bind(features, o, next, send);
  if (features.getChild('session', NS.SESSION) && !features.getChild('session', NS.SESSION)!.getChild('optional', NS.SESSION)) {
    // RFC 3921 §3 session establishment, still required by some old servers.
    const id = newId();
    send(xml('iq', NS.CLIENT, { type: 'set', id }, xml('session', NS.SESSION)));
    const res = await next((el) => el.name === 'iq' && el.attr('id') === id, 'session establishment');
    if (res.attr('type') !== 'result') throw XmppError.fromStanza(res);
  }
  if (smOffered && o.sm.enabled) {
    sm.start();
    send(xml('enable', SM_NS, { resume: o.sm.resume ? 'true' : undefined, max: o.sm.max }));
    const r = await next((el) => el.xmlns === SM_NS && (el.name === 'enabled' || el.name === 'failed'), '<enabled/>');
    if (r.name === 'failed') sm.reset();
    // <enabled/> itself was applied as it arrived (Client.onElement) so stanzas right behind it count.
  }
  return { jid, resumed: false, retransmit, lost, mechanism, features, scramCache };
}

type Next = (pred: (el: Element) => boolean, what: string) => Promise<Element>;

async function authenticate(t: ClientTransport, features: Element, o: NegotiationOptions, next: Next, send: (el: Element) => void): Promise<{ mechanism: string; scramCache: ScramClientCache | undefined }> {
  const mechs = features.getChild('mechanisms', NS.SASL);
  if (!mechs) throw new AuthError('no-mechanism', 'the server offers no SASL authentication');
  const all = mechs.getChildren('mechanism').map((m) => m.text().trim());
  // The GS2 flag must reflect the server's real offer, not our allow-list (RFC 5802 §6).
  const serverSupportsPlus = all.some((m) => m.endsWith('-PLUS'));
  const offered = o.mechanisms ? all.filter((m) => o.mechanisms!.includes(m)) : all;
  const cbList = features.getChild('sasl-channel-binding', NS.SASL_CB);
  const serverCbTypes = cbList?.getChildren('channel-binding').map((c) => c.attr('type') ?? '');
  const ours = t.channelBindings();
  const channelBinding = ours.find((b) => !serverCbTypes || serverCbTypes.includes(b.type)) ?? ours[0];
  const allowPlain = o.plain !== 'never' && (t.secure || (o.plain === 'tls-or-loopback' && t.loopback));
  const name = o.anonymous
    ? (offered.includes('ANONYMOUS') ? 'ANONYMOUS' : undefined)
    : chooseClientMechanism(offered, { username: o.username, password: o.password, channelBinding, serverChannelBindingTypes: serverCbTypes, allowPlain, scramCache: o.scramCache });
  if (!name) throw new AuthError('no-mechanism', `no usable mechanism among [${offered.join(', ')}]${!allowPlain && offered.includes('PLAIN') ? ' (PLAIN needs TLS)' : ''}`);
  const mech = createClientMechanism(name, {
    username: o.username, password: o.password, channelBinding,
    serverSupportsPlus, scramCache: o.scramCache,
  });
  if (!mech) throw new AuthError('no-mechanism', name);
  try {
    const initial = await mech.initial();
    send(xml('auth', NS.SASL, { mechanism: name }, initial === null ? undefined : initial.length === 0 ? '=' : toBase64(initial)));
    for (;;) {
      const el = await next((e) => e.xmlns === NS.SASL && ['challenge', 'success', 'failure'].includes(e.name), 'SASL answer');
      if (el.name === 'failure') {
        const cond = el.elements().find((e) => e.name !== 'text');
        throw new AuthError((cond?.name ?? 'not-authorized') as never, el.getChildText('text'));
      }
      const text = el.text().trim();
      const data = text === '' || text === '=' ? new Uint8Array(0) : fromBase64(text);
      if (!data) throw new AuthError('protocol', 'bad base64 from the server');
      if (el.name === 'success') {
        // Fails hard when a SCRAM server did not prove it knows the password (RFC 5802 §5).
        await mech.success(data);
        const cache = (mech as { saltedPasswordCache?: ScramClientCache }).saltedPasswordCache;
        return { mechanism: name, scramCache: cache };
      }
      const resp = await mech.challenge(data);
      send(xml('response', NS.SASL, {}, resp.length === 0 ? undefined : toBase64(resp)));
    }
  } catch (e) {
    if (e instanceof SaslClientError) throw new AuthError(e.serverError ? 'not-authorized' : 'server-verification', e.message);
    throw e;
  }
}

async function bind(features: Element, o: NegotiationOptions, next: Next, send: (el: Element) => void): Promise<string> {
  if (!features.getChild('bind', NS.BIND)) throw new ConnectionError('the server offers no resource binding', 'protocol');
  const id = newId();
  send(xml('iq', NS.CLIENT, { type: 'set', id }, xml('bind', NS.BIND, {}, o.resource ? xml('resource', NS.BIND, {}, o.resource) : undefined)));
  const res = await next((el) => el.name === 'iq' && el.attr('id') === id, 'resource binding');
  if (res.attr('type') !== 'result') throw XmppError.fromStanza(res);
  const jid = res.getChild('bind', NS.BIND)?.getChildText('jid', NS.BIND);
  if (!jid) throw new ConnectionError('bind result without a JID', 'protocol');
  return jid;
}
