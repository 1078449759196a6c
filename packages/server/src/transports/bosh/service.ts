// The BOSH connection manager on the HTTP(S) listeners (XEP-0124 §5-§7, XEP-0206): POST only
// (plus the CORS preflight), request bodies read within a byte limit, session creation with its
// parameters negotiated down to the configured limits, and every later request handed to its
// session by sid. One service serves both listeners, but a session only answers on the kind of
// listener (TLS or not) it was created on. Each session becomes a Transport for the c2s stream.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ParserLimits } from '@magpie/core/xml/parser';
import { JID } from '@magpie/core/jid/jid';
import type { Logger } from '../../log/logger.js';
import type { Transport } from '../transport.js';
import { BoshBadRequest, parseBoshVersion, parseRequest, httpStatus, terminateBody, type BoshRequest, type TerminalCondition } from './body.js';
import { BoshSession, type Reply } from './session.js';
import { clientAddress } from '../proxy-protocol.js';

export interface BoshServiceOptions {
  path: string;
  /** Allowed Origin values; empty: any (SASL authenticates in-band, no cookies are involved). */
  allowedOrigins: string[];
  maxRequestBytes: number;
  parserLimits: Partial<ParserLimits>;
  maxWait: number;
  maxHold: number;
  inactivity: number;
  polling: number;
  maxPause: number;
  maxSessionsPerAddress: number;
  maxPendingBytes: number;
  isLocalHost(domain: string): boolean;
  log: Logger;
  onTransport(t: Transport): void;
}

const DEFAULT_CONTENT_TYPE = 'text/xml; charset=utf-8';
// A client-chosen Content-Type for responses (§7.1 'content'): one printable header value.
const CONTENT_RE = /^[\x20-\x7e]{1,128}$/;
const INT_RE = /^[0-9]{1,9}$/;
// Only used to end the session of a request too large or malformed to parse.
const SID_PEEK_RE = /\bsid\s*=\s*(['"])([A-Za-z0-9_-]{16,64})\1/;

export class BoshService {
  private readonly sessions = new Map<string, BoshSession>();
  private readonly contentTypes = new Map<BoshSession, string>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly o: BoshServiceOptions) {}

  get path(): string { return this.o.path; }
  get sessionCount(): number { return this.sessions.size; }

  handle(req: IncomingMessage, res: ServerResponse, secure: boolean): void {
    const origin = req.headers.origin;
    const cors = this.cors(origin);
    if (!cors) { res.writeHead(403, { 'content-type': 'text/plain' }); res.end('origin not allowed\n'); return; }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': 'Content-Type', 'access-control-max-age': '86400' });
      res.end();
      return;
    }
    if (req.method !== 'POST') { res.writeHead(405, { ...cors, allow: 'POST, OPTIONS', 'content-type': 'text/plain' }); res.end('BOSH takes POST requests\n'); return; }
    const reply = (contentType: string): Reply => ({
      send(status, body) {
        if (res.headersSent || res.destroyed) return;
        res.writeHead(status, { ...cors, 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
    });
    const max = this.o.maxRequestBytes;
    const tooLarge = (head: string): void => {
      this.failPeeked(head, 'policy-violation', 'request body too large', secure);
      res.setHeader('connection', 'close');
      reply(DEFAULT_CONTENT_TYPE).send(413, terminateBody('policy-violation'));
      req.resume(); // discard the rest; the connection closes after the answer
    };
    // A declared length over the limit is refused at the first chunk, which still names the sid.
    const declared = Number(req.headers['content-length'] ?? 0);
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      if (refused) return;
      size += c.length;
      chunks.push(c);
      if (size > max || declared > max) { refused = true; tooLarge(Buffer.concat(chunks).subarray(0, 1024).toString('latin1')); }
    });
    req.on('error', () => {});
    req.on('end', () => {
      if (refused) return;
      // A bug here must cost one request an internal-server-error, never the process.
      try { this.dispatch(chunks, req, secure, reply); } catch (e) {
        this.o.log.error({ err: e }, 'BOSH request failed');
        reply(DEFAULT_CONTENT_TYPE).send(500, terminateBody('internal-server-error'));
      }
    });
  }

  private dispatch(chunks: Buffer[], req: IncomingMessage, secure: boolean, reply: (ct: string) => Reply): void {
    let text: string;
    try { text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks)); } catch {
      return this.sessionless(reply(DEFAULT_CONTENT_TYPE), 'bad-request', 'not UTF-8', undefined, secure, Buffer.concat(chunks).subarray(0, 1024).toString('latin1'));
    }
    let parsed: BoshRequest;
    try { parsed = parseRequest(text, this.o.parserLimits); } catch (e) {
      if (!(e instanceof BoshBadRequest)) throw e;
      return this.sessionless(reply(DEFAULT_CONTENT_TYPE), 'bad-request', e.message, undefined, secure, text.slice(0, 1024));
    }
    if (parsed.sid === undefined) return this.create(parsed, req, secure, reply);
    const s = this.sessions.get(parsed.sid);
    if (!s || s.secure !== secure) return this.sessionless(reply(DEFAULT_CONTENT_TYPE), 'item-not-found', 'unknown sid', undefined);
    s.handle(parsed, reply(this.contentTypes.get(s) ?? DEFAULT_CONTENT_TYPE));
  }

  private cors(origin: string | undefined): Record<string, string> | undefined {
    if (!this.o.allowedOrigins.length) return { 'access-control-allow-origin': '*' };
    if (!origin || !this.o.allowedOrigins.includes(origin)) return undefined;
    return { 'access-control-allow-origin': origin, vary: 'Origin' };
  }

  /**
   * An error outside any session, or before it exists. Without a session we cannot know whether
   * the client reads terminal conditions, so the legacy HTTP status goes with the body (§17.1).
   */
  private sessionless(reply: Reply, condition: TerminalCondition, why: string, legacy: boolean | undefined, secure?: boolean, head?: string): void {
    this.o.log.debug({ condition, why }, 'BOSH request refused');
    if (head !== undefined && secure !== undefined) this.failPeeked(head, condition, why, secure);
    reply.send(httpStatus(condition, legacy ?? true), terminateBody(condition));
  }

  /** A request we cannot parse still ends its session, if its sid can be read (§17.2 terminal). */
  private failPeeked(head: string, condition: TerminalCondition, why: string, secure: boolean): void {
    const sid = SID_PEEK_RE.exec(head)?.[2];
    const s = sid !== undefined ? this.sessions.get(sid) : undefined;
    if (s && s.secure === secure) s.fail(condition, { send() {} }, why);
  }

  private create(r: BoshRequest, req: IncomingMessage, secure: boolean, reply: (ct: string) => Reply): void {
    const a = r.attrs;
    const legacy = a.ver === undefined;
    const ver = parseBoshVersion(a.ver);
    const fail = (c: TerminalCondition, why: string): void => this.sessionless(reply(DEFAULT_CONTENT_TYPE), c, why, legacy);
    if (a.ver !== undefined && !ver) return fail('bad-request', 'invalid ver');
    if (r.terminate) return fail('bad-request', 'terminate without a session');
    if (!a.to) return fail('improper-addressing', 'no "to"');
    const to = JID.tryParse(a.to);
    if (!to?.isDomain || !this.o.isLocalHost(to.domain)) return fail('host-unknown', 'not a domain served here');
    for (const k of ['wait', 'hold'] as const) if (a[k] !== undefined && !INT_RE.test(a[k])) return fail('bad-request', `invalid ${k}`);
    const { address: addr, port: remotePort } = clientAddress(req.socket); // the client's, behind a PROXY balancer
    const count = this.perAddress.get(addr) ?? 0;
    if (count >= this.o.maxSessionsPerAddress) return fail('policy-violation', 'too many BOSH sessions from this address');
    const wait = Math.min(a.wait !== undefined ? Number(a.wait) : this.o.maxWait, this.o.maxWait);
    const hold = Math.min(a.hold !== undefined ? Number(a.hold) : 1, this.o.maxHold);
    const polling = this.o.polling;
    // §12: a polling session (nothing held) needs room for the client's polling interval.
    const inactivity = hold === 0 || wait === 0 ? this.o.inactivity + polling : this.o.inactivity;
    const contentType = a.content !== undefined && CONTENT_RE.test(a.content) ? a.content : DEFAULT_CONTENT_TYPE;
    const sid = randomBytes(18).toString('base64url');
    const log = this.o.log.child({ bosh: randomBytes(4).toString('hex'), addr });
    const s = new BoshSession({
      sid, log, remoteAddress: addr, remotePort, localPort: req.socket.localPort ?? 0, secure, legacy, ver,
      domain: to.domain, lang: a['xml:lang'], from: a.from, wait, hold, inactivity, polling, maxPause: this.o.maxPause,
      maxPendingBytes: this.o.maxPendingBytes,
      onEnd: (x) => this.forget(x),
    }, r.rid);
    this.sessions.set(sid, s);
    this.contentTypes.set(s, contentType);
    this.perAddress.set(addr, count + 1);
    log.info({ wait, hold, inactivity, ver: a.ver }, 'BOSH session created');
    this.o.onTransport(s);
    // The server may have refused the transport at once (shutting down).
    if (s.isEnded) return reply(contentType).send(200, terminateBody('system-shutdown'));
    s.start(r, reply(contentType));
  }

  private forget(s: BoshSession): void {
    if (this.sessions.get(s.sid) !== s) return;
    this.sessions.delete(s.sid);
    this.contentTypes.delete(s);
    const n = (this.perAddress.get(s.remoteAddress) ?? 1) - 1;
    if (n <= 0) this.perAddress.delete(s.remoteAddress); else this.perAddress.set(s.remoteAddress, n);
    s.log.info('BOSH session ended');
  }
}
