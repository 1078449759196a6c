// XMPP → mail: a chat or normal message to `user%host@<component>` is sent as an e-mail to
// user@host through the configured SMTP relay (nodemailer), From the sender's gateway address so
// that replies come back through the gateway. A failure is answered with an error message to the
// sender (RFC 6120 §8.3): a relay that cannot be reached or answers 4xx is remote-server-timeout
// (type wait: trying later may work), a relay that refuses for good (5xx) service-unavailable.

import nodemailer from 'nodemailer';
import { xml, type XmlElement } from '@xmpp/component';
import type { ResolvedConfig } from './config.js';
import { emailForLocal, emailForUser, type AddressBook } from './addresses.js';
import type { Log } from './log.js';

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

type Condition = 'remote-server-timeout' | 'service-unavailable' | 'jid-malformed' | 'forbidden' | 'bad-request';
const ERROR_TYPES: Record<Condition, string> = { 'remote-server-timeout': 'wait', 'service-unavailable': 'cancel', 'jid-malformed': 'modify', 'forbidden': 'auth', 'bad-request': 'modify' };

export interface MailSender { send(stanza: XmlElement): Promise<void>; close(): void }

/** A message-id as RFC 5322 §3.6.4 writes it (inside angle brackets); a thread id qualifies when it has that shape. */
function asMessageId(thread: string | null): string | undefined {
  if (!thread) return undefined;
  const t = thread.trim().replace(/^<|>$/g, '');
  return /^[^\s<>@]{1,200}@[^\s<>@]{1,200}$/.test(t) ? `<${t}>` : undefined;
}

export function createMailSender(cfg: ResolvedConfig, book: AddressBook, reply: (el: XmlElement) => Promise<void>, log: Log): MailSender {
  const r = cfg.relay;
  const transport = nodemailer.createTransport({
    host: r.host, port: r.port, secure: r.secure, requireTLS: r.requireTls,
    auth: r.auth ? { user: r.auth.user, pass: cfg.relayPass } : undefined,
    tls: { rejectUnauthorized: r.rejectUnauthorized },
    connectionTimeout: r.timeoutMs, greetingTimeout: r.timeoutMs, socketTimeout: r.timeoutMs,
    name: cfg.mailDomain,
  });

  const fail = async (stanza: XmlElement, condition: Condition, text: string): Promise<void> => {
    const a = stanza.attrs;
    const err = xml('error', { type: ERROR_TYPES[condition] }, xml(condition, { xmlns: NS_STANZAS }), xml('text', { xmlns: NS_STANZAS, 'xml:lang': 'en' }, text));
    const body = stanza.getChild('body');
    const attrs: Record<string, string> = { type: 'error', from: a.to!, to: a.from! };
    if (a.id) attrs.id = a.id;
    await reply(xml('message', attrs, body, err)).catch((e: Error) => log.warn('could not send an error back', { err: e.message }));
  };

  return {
    close: () => transport.close(),
    async send(stanza) {
      const { type = 'normal', from, to } = stanza.attrs;
      // Errors, group chat and headlines are not mail; a message without a body (chat states,
      // receipts) has nothing to send.
      if (type !== 'normal' && type !== 'chat') return;
      const body = stanza.getChildText('body');
      if (body === null || !from || !to) return;
      const bare = from.split('/')[0]!;
      const sender = emailForUser(bare, book);
      if (!sender) return fail(stanza, 'forbidden', `${bare} may not send mail through this gateway`);
      const local = to.includes('@') ? to.slice(0, to.lastIndexOf('@')) : '';
      const rcpt = local ? emailForLocal(local) : undefined;
      if (!rcpt) return fail(stanza, 'jid-malformed', `address mail as user%example.org@${cfg.domain}`);
      const subject = stanza.getChildText('subject')?.trim() || cfg.defaultSubject;
      const inReplyTo = asMessageId(stanza.getChildText('thread'));
      try {
        const info = await transport.sendMail({
          from: sender, to: rcpt, subject, text: body.slice(0, cfg.maxBodyChars),
          ...(inReplyTo ? { inReplyTo, references: inReplyTo } : {}),
        });
        log.info('mail sent', { from: bare, to: rcpt, messageId: info.messageId });
      } catch (e) {
        const err = e as Error & { code?: string; responseCode?: number; response?: string };
        const permanent = typeof err.responseCode === 'number' && err.responseCode >= 500;
        log.warn('relay failed', { from: bare, to: rcpt, code: err.code, responseCode: err.responseCode, err: err.message });
        await fail(stanza, permanent ? 'service-unavailable' : 'remote-server-timeout',
          permanent ? `the mail relay refused the message: ${err.response ?? err.message}` : 'the mail relay could not be reached; try again later');
      }
    },
  };
}
