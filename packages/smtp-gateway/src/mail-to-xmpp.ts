// Mail → XMPP: the gateway's SMTP listener (smtp-server) accepts mail for addresses at the mail
// domain that stand for an XMPP user (`jid-local%jid-domain@<mail domain>`, or a fixed address),
// refuses every other recipient at RCPT with 550 (RFC 5321 §4.2.2, so the gateway is no open
// relay), enforces the size limit (SIZE, RFC 1870; 552 beyond it), parses the message
// (mailparser) and sends it as a message from the sender's JID at the component. While the
// component is not connected to the XMPP server, DATA gets 451 so the sending MTA retries later.

import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { simpleParser, type AddressObject } from 'mailparser';
import type { ResolvedConfig } from './config.js';
import { jidForEmail, userForRecipient, type AddressBook } from './addresses.js';
import type { Log } from './log.js';

export interface InboundMail { to: string; from: string; subject?: string; body: string; thread?: string }

export interface MailListener { readonly port: number; close(): Promise<void> }

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

function firstAddress(a: AddressObject | AddressObject[] | undefined): string | undefined {
  const list = Array.isArray(a) ? a : a ? [a] : [];
  for (const o of list) for (const v of o.value) if (v.address) return v.address;
  return undefined;
}

export async function listenForMail(cfg: ResolvedConfig, book: AddressBook, deliver: (m: InboundMail) => Promise<void>, online: () => boolean, log: Log): Promise<MailListener> {
  const l = cfg.listener;
  const opts: SMTPServerOptions = {
    name: l.name ?? cfg.mailDomain,
    banner: 'Magpie SMTP gateway',
    size: l.maxMessageBytes,
    // An inbound gateway takes mail like an MX: no authentication, only its own recipients.
    authOptional: true,
    disabledCommands: l.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(l.tls ? { key: readFileSync(l.tls.key), cert: readFileSync(l.tls.cert) } : {}),
    logger: false,
    onRcptTo(address, session, cb) {
      if (session.envelope.rcptTo.length >= l.maxRecipients) return cb(smtpError(452, '4.5.3 Too many recipients'));
      if (!userForRecipient(address.address, book)) {
        log.info('recipient refused', { rcpt: address.address });
        return cb(smtpError(550, '5.1.1 No such XMPP user here'));
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => { size += c.length; if (size <= l.maxMessageBytes) chunks.push(c); });
      stream.on('error', (e) => cb(e));
      stream.on('end', () => {
        if ((stream as { sizeExceeded?: boolean }).sizeExceeded || size > l.maxMessageBytes) return cb(smtpError(552, '5.3.4 Message too big'));
        if (!online()) return cb(smtpError(451, '4.4.1 The XMPP server is not reachable; try again later'));
        void (async () => {
          const mail = await simpleParser(Buffer.concat(chunks), { skipImageLinks: true, skipTextToHtml: true });
          const sender = firstAddress(mail.from) ?? (session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined);
          // A bounce (null sender) or an unusable From comes from the gateway itself.
          const from = (sender && jidForEmail(sender, book)) || cfg.domain;
          let body = mail.text ?? '';
          if (body.length > cfg.maxBodyChars) body = body.slice(0, cfg.maxBodyChars) + '\n[message truncated]';
          const thread = mail.messageId?.replace(/^<|>$/g, '');
          for (const r of session.envelope.rcptTo) {
            const to = userForRecipient(r.address, book);
            if (to) await deliver({ to, from, subject: mail.subject, body, thread });
          }
          log.info('mail delivered', { from: sender, rcpt: session.envelope.rcptTo.length, bytes: size });
          cb(null, 'Delivered to XMPP');
        })().catch((e: Error) => {
          log.warn('mail could not be delivered', { err: e.message });
          cb(smtpError(451, '4.3.0 Could not pass the message on; try again later'));
        });
      });
    },
  };
  const server = new SMTPServer(opts);
  server.on('error', (e) => log.warn('SMTP listener error', { err: e.message }));
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(l.port, l.address, () => { server.server.removeListener('error', reject); resolve(); });
  });
  const port = (server.server.address() as AddressInfo).port;
  log.info('SMTP listener ready', { address: l.address, port });
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}
