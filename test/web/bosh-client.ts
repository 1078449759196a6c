// A raw BOSH (XEP-0124/XEP-0206) client for protocol tests: each request is an HTTP POST built by
// hand, each response parsed; rid bookkeeping is explicit so tests can break it on purpose.
import http from 'node:http';
import { createClientMechanism } from '@magpie/core/sasl/client';
import type { Element } from '@magpie/core/xml/element';
import { parseFragment } from '@magpie/core/xml/parser';

export const BOSH = 'http://jabber.org/protocol/httpbind';
export const XBOSH = 'urn:xmpp:xbosh';
export const SASL = 'urn:ietf:params:xml:ns:xmpp-sasl';

export interface HttpResult { status: number; headers: http.IncomingHttpHeaders; text: string }

/** One HTTP request on a fresh connection (long polls must not queue behind each other). */
export function request(url: string, body: string | Buffer | undefined, method = 'POST', headers: Record<string, string> = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false, headers: { 'content-type': 'text/xml; charset=utf-8', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface BoshResponse extends HttpResult { body: Element; payloads: Element[] }

export function parseResponse(r: HttpResult): BoshResponse {
  const body = parseFragment(r.text);
  return { ...r, body, payloads: body.elements() };
}

export function bodyXml(attrs: Record<string, string | number>, inner = ''): string {
  let s = `<body xmlns='${BOSH}' xmlns:xmpp='${XBOSH}'`;
  for (const [k, v] of Object.entries(attrs)) s += ` ${k}='${v}'`;
  return inner ? `${s}>${inner}</body>` : `${s}/>`;
}

export class BoshClient {
  rid: number;
  sid = '';
  creation!: BoshResponse;
  /** Payloads of every response, in order. */
  inbox: Element[] = [];

  constructor(readonly url: string, firstRid = 1_000_000 + Math.floor(Math.random() * 1_000_000)) { this.rid = firstRid; }

  static async create(url: string, attrs: Record<string, string | number> = {}): Promise<BoshClient> {
    const c = new BoshClient(url);
    // An attribute given as '' is left out.
    const all = Object.entries({ to: 'localhost', wait: 30, hold: 1, ver: '1.6', 'xml:lang': 'en', 'xmpp:version': '1.0', ...attrs }).filter(([, v]) => v !== '');
    const r = await c.send(Object.fromEntries(all));
    if (r.body.attrs.type === 'terminate') throw new Error('session refused: ' + r.text);
    c.sid = r.body.attrs.sid!;
    c.creation = r;
    return c;
  }

  /** POST the next rid (or the one given) with this session's sid. */
  async send(attrs: Record<string, string | number> = {}, inner = '', rid?: number): Promise<BoshResponse> {
    const a = { rid: rid ?? this.rid++, ...(this.sid ? { sid: this.sid } : {}), ...attrs };
    const r = parseResponse(await request(this.url, bodyXml(a, inner)));
    this.inbox.push(...r.payloads);
    return r;
  }

  /** Poll until a payload matching `pred` has arrived (each poll is held by the server). */
  async next(pred: (e: Element) => boolean, ms = 10000): Promise<Element> {
    const end = Date.now() + ms;
    for (;;) {
      const found = this.inbox.find(pred);
      if (found) { this.inbox.splice(this.inbox.indexOf(found), 1); return found; }
      if (Date.now() > end) throw new Error('no matching payload; inbox: ' + this.inbox.map(String).join('\n'));
      const r = await this.send();
      if (r.body.attrs.type === 'terminate') throw new Error('session terminated: ' + r.text);
    }
  }

  /** SASL with restart (XEP-0206 §5), then resource binding; returns the bound JID. */
  async login(user: string, password: string, mechanism = 'PLAIN', resource = 'bosh'): Promise<string> {
    const m = createClientMechanism(mechanism, { username: user, password })!;
    const init = await m.initial();
    const b64 = (u: Uint8Array | undefined): string => (u && u.length ? Buffer.from(u).toString('base64') : '=');
    let r = await this.send({}, `<auth xmlns='${SASL}' mechanism='${mechanism}'>${b64(init)}</auth>`);
    for (;;) {
      const el = r.payloads.find((e) => e.xmlns === SASL) ?? await this.next((e) => e.xmlns === SASL);
      this.inbox = this.inbox.filter((e) => e !== el);
      if (el.name === 'challenge') {
        const resp = await m.challenge(new Uint8Array(Buffer.from(el.text(), 'base64')));
        r = await this.send({}, `<response xmlns='${SASL}'>${b64(resp)}</response>`);
        continue;
      }
      if (el.name !== 'success') throw new Error('auth failed: ' + el.toString());
      await m.success(el.text() ? new Uint8Array(Buffer.from(el.text(), 'base64')) : undefined);
      break;
    }
    const restart = await this.send({ 'xmpp:restart': 'true', to: 'localhost', 'xml:lang': 'en' });
    if (!restart.payloads.some((e) => e.name === 'features')) await this.next((e) => e.name === 'features');
    this.inbox = this.inbox.filter((e) => e.name !== 'features');
    await this.send({}, `<iq type='set' id='bind1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
    const res = await this.next((e) => e.name === 'iq' && e.attrs.id === 'bind1');
    const jid = res.getChild('bind', 'urn:ietf:params:xml:ns:xmpp-bind')?.getChildText('jid', 'urn:ietf:params:xml:ns:xmpp-bind');
    if (!jid) throw new Error('bind failed: ' + res.toString());
    return jid;
  }
}
