// Push notifications (XEP-0357 0.4.1, urn:xmpp:push:0), the server's side: clients enable and
// disable app servers (§5, §6); when a message arrives that a device will not see now — the
// account has no resource to take it (it goes to offline storage), or it is queued for a
// session whose connection is gone and waits for XEP-0198 resumption — the server publishes a
// notification to the app server(s) concerned (§7). Publish errors disable the registration
// (§7.1), except transient ones (type 'wait') until `maxErrors` in a row.

import { z } from 'zod';
import type { Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { StanzaError } from '@magpie/core/protocol/errors';
import type { ClientSession } from '../../session/session.js';
import type { LocalClientSession } from '../../stream/client-session.js';
import { defineModule } from '../module.js';
import { Registrations, type Registration } from './registrations.js';
import { NS_PUSH, publishIq, publishOptions } from './notification.js';

/** A message worth waking a device for: one a person wrote (a body), not an error or groupchat echo. */
function warrants(m: Element): boolean {
  if (m.name !== 'message') return false;
  const type = m.attrs.type ?? 'normal';
  if (type === 'error' || type === 'headline') return false;
  if (m.getChild('body') !== undefined) return true;
  // A carbon copy or a forwarded archive result wraps the real message.
  const fwd = m.elements().find((e) => e.xmlns === 'urn:xmpp:carbons:2')?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message');
  return fwd?.getChild('body') !== undefined;
}

function bodyOf(m: Element): string | undefined {
  return m.getChildText('body') ?? m.elements().find((e) => e.xmlns === 'urn:xmpp:carbons:2')?.getChild('forwarded', 'urn:xmpp:forward:0')?.getChild('message')?.getChildText('body');
}

export default defineModule({
  manifest: {
    name: 'push',
    description: 'Push notifications to app servers for offline and suspended clients',
    specs: [{ spec: 'XEP-0357', version: '0.4.1', status: 'complete', notes: 'notifies for messages stored offline and messages queued for a session suspended by stream management; summary fields configurable (sender and body off by default)' }],
    options: z.object({
      /** Registrations one account may hold. */
      maxRegistrations: z.number().int().min(1).max(100).default(10),
      /** Include last-message-sender (the sender's bare JID) in the summary. */
      includeSender: z.boolean().default(false),
      /** Include last-message-body (truncated to bodyMaxChars). */
      includeBody: z.boolean().default(false),
      bodyMaxChars: z.number().int().min(1).max(4096).default(256),
      /** Consecutive transient ('wait') publish errors before a registration is dropped. */
      maxErrors: z.number().int().min(1).default(3),
      /** Seconds to wait for the app server's answer. */
      timeout: z.number().int().min(1).default(30),
    }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const regs = new Registrations(api.stores.map);
    const sent = api.metric('sent');
    const failed = api.metric('failed');
    /** Messages notified since the user's last connection, per bare JID (the summary's message-count). */
    const counts = new Map<string, number>();
    api.discoFeature(NS_PUSH, 'account');

    const own = (from: JID, to: JID): void => {
      if (from.bareString() !== to.bareString()) throw new StanzaError('forbidden', 'only the account itself manages its push services');
    };

    api.iq({ type: 'set', scope: 'bare', xmlns: NS_PUSH, name: 'enable' }, async (ev, el) => {
      own(ev.from, ev.to);
      const jid = el.attrs.jid !== undefined ? JID.tryParse(el.attrs.jid) : undefined;
      if (!jid) throw new StanzaError('bad-request', 'enable needs the jid of the push service');
      const node = el.attrs.node ?? '';
      const options = publishOptions(el);
      if (options instanceof Error) throw new StanzaError('bad-request', options.message);
      const { domain: host, local: user } = ev.to;
      const existing = await regs.list(host, user);
      if (!existing.some((r) => r.jid === jid.toString() && r.node === node) && existing.length >= o.maxRegistrations) {
        throw new StanzaError('not-allowed', `at most ${o.maxRegistrations} push services per account`);
      }
      await regs.enable(host, user, { jid: jid.toString(), node, options, resource: ev.from.resource, enabledAt: Date.now(), errors: 0 });
      api.log.info({ user: ev.to.bareString(), service: jid.toString() }, 'push notifications enabled');
      return undefined;
    });

    api.iq({ type: 'set', scope: 'bare', xmlns: NS_PUSH, name: 'disable' }, async (ev, el) => {
      own(ev.from, ev.to);
      const jid = el.attrs.jid !== undefined ? JID.tryParse(el.attrs.jid) : undefined;
      if (!jid) throw new StanzaError('bad-request', 'disable needs the jid of the push service');
      await regs.disable(ev.to.domain, ev.to.local, jid.toString(), el.attrs.node);
      return undefined;
    });

    const publish = async (host: string, user: string, r: Registration, m: Element, from: string): Promise<void> => {
      const bare = `${user}@${host}`;
      const count = (counts.get(bare) ?? 0) + 1;
      counts.set(bare, count);
      const body = o.includeBody ? bodyOf(m)?.slice(0, o.bodyMaxChars) : undefined;
      const sender = o.includeSender ? JID.tryParse(from)?.bareString() : undefined;
      const iq = publishIq(bare, r.jid, r.node, { messageCount: count, lastSender: sender, lastBody: body }, r.options);
      try {
        await api.request(iq, o.timeout * 1000);
        sent.inc();
        if (r.errors) await regs.update(host, user, { ...r, errors: 0 });
      } catch (e) {
        failed.inc();
        const transient = e instanceof StanzaError && e.type === 'wait';
        const errors = r.errors + 1;
        if (!transient || errors >= o.maxErrors) {
          await regs.disable(host, user, r.jid, r.node);
          api.log.info({ user: bare, service: r.jid, err: (e as Error).message }, 'push service disabled after a publish error');
        } else await regs.update(host, user, { ...r, errors });
      }
    };

    const notify = (host: string, user: string, m: Element, from: string, resource?: string): void => {
      regs.list(host, user)
        .then((all) => Promise.all(all.filter((r) => resource === undefined || r.resource === resource).map((r) => publish(host, user, r, m, from))))
        .catch((e) => api.log.error({ err: e }, 'push notification failed'));
    };

    // A message for an account with no resource to take it (RFC 6121 §8.5.2.1.1); observed
    // before offline storage claims it, never claimed here.
    api.hook('message/offline', (ev) => {
      if (warrants(ev.stanza)) notify(ev.to.domain, ev.to.local, ev.stanza, ev.from.toString());
      return undefined;
    }, 100);

    // A message queued for a session that waits for resumption (XEP-0198): that device's app.
    api.hook('session/bound', ({ session }) => {
      const filters = (session as Partial<LocalClientSession>).filters;
      if (!filters) return;
      filters.push((stanza: Element, s: ClientSession) => {
        if (s.suspended && warrants(stanza)) notify(s.host, s.username, stanza, stanza.attrs.from ?? '', s.jid.resource);
        return stanza;
      });
    });
    api.hook('session/available', ({ session }) => { counts.delete(session.jid.bareString()); });
  },
});
