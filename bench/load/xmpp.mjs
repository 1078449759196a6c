// A minimal XMPP client for the load generator: TCP, STARTTLS, SASL SCRAM-SHA-1 through Magpie's
// core SASL client (with a per-user SaltedPassword cache so client-side PBKDF2 runs once per user),
// resource binding, and in-band registration (XEP-0077). It speaks just enough of RFC 6120 to log
// in against Magpie, Prosody and ejabberd; negotiation is matched with small regexes on the
// decoded text instead of a full XML parser, since these servers' answers are well known and the
// generator must stay cheap next to the servers it measures.

import net from 'node:net';
import tls from 'node:tls';
import { createHash, createHmac, pbkdf2 as pbkdf2Cb, randomBytes } from 'node:crypto';
import { createClientMechanism } from '../../packages/core/dist/sasl/client.js';

const NODE_HASH = { 'SHA-1': 'sha1', 'SHA-256': 'sha256', 'SHA-512': 'sha512' };
const u8 = (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** SaslCrypto on node:crypto (synchronous HMAC/hash; PBKDF2 on the libuv pool). */
export const nodeCrypto = {
  async digest(alg, data) { return u8(createHash(NODE_HASH[alg]).update(data).digest()); },
  async hmac(alg, key, data) { return u8(createHmac(NODE_HASH[alg], key).update(data).digest()); },
  pbkdf2(alg, password, salt, iterations, len) {
    return new Promise((resolve, reject) => pbkdf2Cb(password, salt, iterations, len, NODE_HASH[alg],
      (err, key) => (err ? reject(err) : resolve(u8(key)))));
  },
  randomBytes(n) { return u8(randomBytes(n)); },
};

const NS_STREAM = 'http://etherx.jabber.org/streams';
const NS_TLS = 'urn:ietf:params:xml:ns:xmpp-tls';
const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';
const NS_BIND = 'urn:ietf:params:xml:ns:xmpp-bind';

export const escapeXml = (s) => s.replace(/[&<>'"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', "'": '&apos;', '"': '&quot;' })[c]);
const b64 = (bytes) => Buffer.from(bytes).toString('base64');
const unb64 = (s) => {
  const t = (s ?? '').trim();
  return t === '' || t === '=' ? new Uint8Array(0) : u8(Buffer.from(t, 'base64'));
};

const RE_FEATURES = /<(?:stream:)?features\b[^>]*?(?:\/>|>[\s\S]*?<\/(?:stream:)?features>)/;
const RE_PROCEED = /<(proceed|failure)\b[^>]*?\/?>/;
const RE_SASL = /<(challenge|success|failure)\b[^>]*?(?:\/>|>([\s\S]*?)<\/\1>)/;
const RE_IQ = /<iq\b[^>]*?(?:\/>|>[\s\S]*?<\/iq>)/;
const RE_STREAM_ERROR = /<(?:stream:)?error\b[\s\S]*?<\/(?:stream:)?error>/;

export class XmppError extends Error {}

/**
 * Text reader over a socket: accumulates decoded data and resolves one waiter at a time with the
 * first match of a regex, consuming the buffer up to the end of the match.
 */
class Reader {
  constructor() { this.buf = ''; this.waiter = null; this.closed = null; this.sock = null; this.onData = (d) => this.push(d); this.onEnd = () => this.fail('connection closed by server'); this.onError = (e) => this.fail(e.message); }
  attach(sock) {
    this.detach();
    this.sock = sock;
    sock.on('data', this.onData); sock.on('end', this.onEnd); sock.on('close', this.onEnd); sock.on('error', this.onError);
  }
  detach() {
    const s = this.sock; if (!s) return;
    s.off('data', this.onData); s.off('end', this.onEnd); s.off('close', this.onEnd); s.off('error', this.onError);
    this.sock = null;
  }
  push(d) { this.buf += typeof d === 'string' ? d : d.toString('latin1'); this.check(); }
  fail(msg) { this.closed = msg; this.check(); }
  check() {
    const w = this.waiter; if (!w) return;
    const m = w.re.exec(this.buf);
    if (m) {
      this.waiter = null; clearTimeout(w.timer);
      this.buf = this.buf.slice(m.index + m[0].length);
      w.resolve(m);
      return;
    }
    const se = RE_STREAM_ERROR.exec(this.buf);
    if (se || this.closed) {
      this.waiter = null; clearTimeout(w.timer);
      w.reject(new XmppError(se ? `stream error: ${se[0].slice(0, 300)}` : `${this.closed} while waiting for ${w.what}`));
    }
  }
  wait(re, what, ms) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.waiter = null; reject(new XmppError(`timeout waiting for ${what}`)); }, ms);
      this.waiter = { re, what, resolve, reject, timer };
      this.check();
    });
  }
}

function connectTcp(host, port, ms) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, noDelay: true });
    const t = setTimeout(() => { s.destroy(); reject(new XmppError('tcp connect timeout')); }, ms);
    s.once('connect', () => { clearTimeout(t); s.off('error', onErr); resolve(s); });
    const onErr = (e) => { clearTimeout(t); reject(e); };
    s.once('error', onErr);
  });
}

// One client context for every connection: building a SecureContext per tls.connect() (the
// default) costs the generator more CPU than the rest of its side of the handshake.
let clientContext;
function startTls(raw, servername, ms) {
  clientContext ??= tls.createSecureContext({});
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: raw, servername, rejectUnauthorized: false, secureContext: clientContext });
    const t = setTimeout(() => { s.destroy(); reject(new XmppError('tls handshake timeout')); }, ms);
    s.once('secureConnect', () => { clearTimeout(t); s.off('error', onErr); resolve(s); });
    const onErr = (e) => { clearTimeout(t); reject(e); };
    s.once('error', onErr);
  });
}

const header = (domain) => `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='${NS_STREAM}'>`;

/**
 * Connect, STARTTLS, restart the stream; resolves { sock, reader, features } with the TLS socket
 * and the post-TLS stream features.
 */
async function openSecureStream({ host, port, domain, timeoutMs = 30000 }) {
  const raw = await connectTcp(host, port, timeoutMs);
  const reader = new Reader();
  try {
    reader.attach(raw);
    raw.write(header(domain));
    const f1 = await reader.wait(RE_FEATURES, 'stream features', timeoutMs);
    if (!f1[0].includes(NS_TLS)) throw new XmppError('server does not offer STARTTLS');
    raw.write(`<starttls xmlns='${NS_TLS}'/>`);
    const p = await reader.wait(RE_PROCEED, 'starttls proceed', timeoutMs);
    if (p[1] !== 'proceed') throw new XmppError('STARTTLS refused');
    reader.detach();
    reader.buf = '';
    const sock = await startTls(raw, domain, timeoutMs);
    sock.setEncoding('utf8');
    reader.attach(sock);
    sock.write(header(domain));
    const f2 = await reader.wait(RE_FEATURES, 'stream features after TLS', timeoutMs);
    return { sock, reader, features: f2[0] };
  } catch (e) {
    reader.detach();
    raw.destroy();
    throw e;
  }
}

/**
 * Connect without TLS (Magpie allows it on loopback by default: tls.requireOnLoopback false);
 * same result shape as openSecureStream.
 */
async function openPlainStream({ host, port, domain, timeoutMs = 30000 }) {
  const sock = await connectTcp(host, port, timeoutMs);
  sock.setEncoding('utf8');
  const reader = new Reader();
  try {
    reader.attach(sock);
    sock.write(header(domain));
    const f = await reader.wait(RE_FEATURES, 'stream features', timeoutMs);
    return { sock, reader, features: f[0] };
  } catch (e) {
    reader.detach();
    sock.destroy();
    throw e;
  }
}

/** Close politely: </stream:stream>, half-close, and destroy if the server does not finish. */
export function closeStream(sock, graceMs = 5000) {
  if (sock.destroyed) return;
  sock.on('error', () => {});
  try { sock.end('</stream:stream>'); } catch { sock.destroy(); return; }
  const t = setTimeout(() => sock.destroy(), graceMs);
  t.unref();
  sock.once('close', () => clearTimeout(t));
}

/**
 * Log in: STARTTLS (unless `tls` is false), SASL `mechanism` (default SCRAM-SHA-1), bind
 * `resource`. `cache` is a Map cacheKey (default: the username) → ScramClientCache shared by all
 * logins of this process; the SASL client only uses an entry whose salt and iteration count match
 * the server's challenge, so a key shared by accounts with one salt is safe. Resolves { sock, jid, rest }:
 * the TLS socket (no listeners left on it), the bound JID, and any text read past the bind result.
 */
export async function login({ host, port, domain, username, password, resource, cache, cacheKey = username, mechanism = 'SCRAM-SHA-1', timeoutMs = 30000, tls = true }) {
  const { sock, reader, features } = await (tls ? openSecureStream : openPlainStream)({ host, port, domain, timeoutMs });
  try {
    const offered = [...features.matchAll(/<mechanism>([^<]+)<\/mechanism>/g)].map((m) => m[1].trim());
    if (!offered.includes(mechanism)) throw new XmppError(`server does not offer ${mechanism} (offers ${offered.join(' ')})`);
    const mech = createClientMechanism(mechanism, {
      crypto: nodeCrypto, username, password, scramCache: cache?.get(cacheKey),
      serverSupportsPlus: offered.some((m) => m.endsWith('-PLUS')),
    });
    const init = await mech.initial();
    sock.write(`<auth xmlns='${NS_SASL}' mechanism='${mechanism}'>${init === null ? '' : init.length === 0 ? '=' : b64(init)}</auth>`);
    for (let round = 0; ; round++) {
      if (round > 5) throw new XmppError('too many SASL rounds');
      const m = await reader.wait(RE_SASL, 'SASL answer', timeoutMs);
      if (m[1] === 'failure') throw new XmppError(`SASL failure: ${m[0].slice(0, 200)}`);
      if (m[1] === 'success') { await mech.success(unb64(m[2])); break; }
      const resp = await mech.challenge(unb64(m[2]));
      sock.write(`<response xmlns='${NS_SASL}'>${resp.length ? b64(resp) : ''}</response>`);
    }
    if (cache && mech.saltedPasswordCache) cache.set(cacheKey, mech.saltedPasswordCache);
    sock.write(header(domain));
    const f = await reader.wait(RE_FEATURES, 'stream features after SASL', timeoutMs);
    if (!f[0].includes(NS_BIND)) throw new XmppError('no resource binding offered');
    sock.write(`<iq type='set' id='bind1'><bind xmlns='${NS_BIND}'><resource>${escapeXml(resource)}</resource></bind></iq>`);
    const iq = await reader.wait(RE_IQ, 'bind result', timeoutMs);
    if (!/type=['"]result['"]/.test(iq[0])) throw new XmppError(`bind failed: ${iq[0].slice(0, 300)}`);
    const jid = /<jid>([^<]+)<\/jid>/.exec(iq[0])?.[1];
    reader.detach();
    return { sock, jid, rest: reader.buf };
  } catch (e) {
    reader.detach();
    sock.destroy();
    throw e;
  }
}

/**
 * In-band registration (XEP-0077) of many accounts over one TLS stream: sends one registration
 * IQ at a time and waits for its answer. Resolves { ok, existed, failed, errors, done, error? }:
 * when the stream breaks midway, `error` is set and the caller reconnects for accounts[done..].
 */
export async function registerIbr({ host, port, domain, accounts, timeoutMs = 30000 }) {
  const out = { ok: 0, existed: 0, failed: 0, errors: [], done: 0 };
  const { sock, reader } = await openSecureStream({ host, port, domain, timeoutMs });
  try {
    for (const { username, password } of accounts) {
      sock.write(`<iq type='set' id='reg${out.done}'><query xmlns='jabber:iq:register'><username>${escapeXml(username)}</username><password>${escapeXml(password)}</password></query></iq>`);
      const iq = await reader.wait(RE_IQ, 'registration result', timeoutMs);
      out.done++;
      if (/type=['"]result['"]/.test(iq[0])) out.ok++;
      else if (/<conflict\b/.test(iq[0])) out.existed++;
      else { out.failed++; if (out.errors.length < 5) out.errors.push(iq[0].slice(0, 300)); }
    }
  } catch (e) {
    out.error = String(e?.message ?? e); // the caller retries accounts[out.done..] on a new stream
  } finally {
    reader.detach();
    closeStream(sock, 2000);
  }
  return out;
}
