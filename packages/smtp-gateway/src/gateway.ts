// The SMTP gateway: connects to an XMPP server as an external component (XEP-0114, through
// xmpp.js's @xmpp/component, as any third-party component would), sends the messages it
// receives as e-mail and passes the e-mail it receives on as messages. It knows nothing of the
// server's internals: only the component protocol. Service discovery (XEP-0030) shows it as a
// gateway of type smtp; XEP-0100 §6.3's jabber:iq:gateway turns an e-mail address into its JID.

import { component, xml, type XmlElement } from '@xmpp/component';
import type { ResolvedConfig } from './config.js';
import type { AddressBook } from './addresses.js';
import { jidForEmail } from './addresses.js';
import { createMailSender } from './xmpp-to-mail.js';
import { listenForMail, type InboundMail } from './mail-to-xmpp.js';
import { createLog, type Log } from './log.js';

const NS = {
  DISCO_INFO: 'http://jabber.org/protocol/disco#info', DISCO_ITEMS: 'http://jabber.org/protocol/disco#items',
  GATEWAY: 'jabber:iq:gateway', VERSION: 'jabber:iq:version', STANZAS: 'urn:ietf:params:xml:ns:xmpp-stanzas',
};

export interface Gateway {
  /** The port the SMTP listener is bound to (the configured one, or the one picked for port 0). */
  readonly smtpPort: number;
  readonly online: boolean;
  stop(): Promise<void>;
}

let seq = 0;

export async function startGateway(cfg: ResolvedConfig, opts: { log?: Log } = {}): Promise<Gateway> {
  const log = opts.log ?? createLog(cfg.log.level);
  const book: AddressBook = { componentDomain: cfg.domain, mailDomain: cfg.mailDomain, xmppDomains: cfg.xmppDomains, fixed: cfg.addresses };
  const xmpp = component({ service: `xmpp://${cfg.server.host}:${cfg.server.port}`, domain: cfg.domain, password: cfg.secret });
  xmpp.on('error', (e) => log.warn('XMPP connection error', { err: e.message }));
  xmpp.on('status', (s) => { if (s === 'online' || s === 'disconnect') log.info(`XMPP ${s === 'online' ? 'connected' : 'disconnected'}`, { domain: cfg.domain }); });

  const mail = createMailSender(cfg, book, (el) => xmpp.send(el), log);
  xmpp.on('stanza', (s: XmlElement) => {
    if (s.name !== 'message') return; // presence is not relayed; iq goes to the handlers below
    mail.send(s).catch((e: Error) => log.error('message handling failed', { err: e.message }));
  });

  const notFound = () => xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: NS.STANZAS }));
  const toDomain = (ctx: { stanza: XmlElement }) => !ctx.stanza.attrs.to?.includes('@');
  xmpp.iqCallee.get(NS.DISCO_INFO, 'query', (ctx) => {
    if (!toDomain(ctx) || ctx.element.attrs.node) return notFound();
    return xml('query', { xmlns: NS.DISCO_INFO },
      xml('identity', { category: 'gateway', type: 'smtp', name: 'E-mail gateway' }),
      ...[NS.DISCO_INFO, NS.DISCO_ITEMS, NS.GATEWAY, NS.VERSION].map((f) => xml('feature', { var: f })));
  });
  xmpp.iqCallee.get(NS.DISCO_ITEMS, 'query', () => xml('query', { xmlns: NS.DISCO_ITEMS }));
  xmpp.iqCallee.get(NS.VERSION, 'query', () => xml('query', { xmlns: NS.VERSION }, xml('name', {}, 'Magpie SMTP gateway'), xml('version', {}, '0.1.0')));
  xmpp.iqCallee.get(NS.GATEWAY, 'query', () => xml('query', { xmlns: NS.GATEWAY }, xml('desc', {}, 'Enter the e-mail address'), xml('prompt', {}, 'E-mail address')));
  xmpp.iqCallee.set(NS.GATEWAY, 'query', (ctx) => {
    const jid = jidForEmail(ctx.element.getChildText('prompt') ?? '', book);
    if (!jid) return xml('error', { type: 'modify' }, xml('bad-request', { xmlns: NS.STANZAS }));
    return xml('query', { xmlns: NS.GATEWAY }, xml('jid', {}, jid));
  });

  try { await xmpp.start(); } catch (e) {
    // Stop the automatic reconnection too: a failed start is reported, not retried forever.
    await xmpp.stop().catch(() => {});
    mail.close();
    throw e;
  }
  const deliver = async (m: InboundMail): Promise<void> => {
    await xmpp.send(xml('message', { type: cfg.messageType, from: m.from, to: m.to, id: `mail-${Date.now().toString(36)}-${++seq}` },
      m.subject ? xml('subject', {}, m.subject) : undefined,
      xml('body', {}, m.body),
      m.thread ? xml('thread', {}, m.thread) : undefined));
  };
  let listener;
  try { listener = await listenForMail(cfg, book, deliver, () => xmpp.status === 'online', log); } catch (e) {
    await xmpp.stop().catch(() => {});
    throw e;
  }
  return {
    smtpPort: listener.port,
    get online() { return xmpp.status === 'online'; },
    async stop() {
      await listener.close();
      mail.close();
      await xmpp.stop().catch(() => {});
      log.info('gateway stopped');
    },
  };
}
