// External Service Discovery (XEP-0215 1.0, urn:xmpp:extdisco:2): tells a local user's client
// which STUN/TURN (or other) services to use for calls (XEP-0479 Advanced Server asks for it),
// with short-lived TURN credentials (./turn-credentials.ts) so that the TURN server's shared
// secret never leaves the server. Covers §3.1 all services, §3.2 services of a type, §3.3
// credentials for one service. Only the server's own users may ask (§5 "the server SHOULD
// return the list only to entities it trusts"): others get <forbidden/>. Pushes (§3.2) are not
// sent: the list comes from the configuration and changes only with a restart.

import { z } from 'zod';
import { Element, xml } from '@magpie/core/xml/element';
import { StanzaError } from '@magpie/core/protocol/errors';
import { defineModule } from '../module.js';
import { xmppDateTime } from '../time/time.js';
import { turnCredentials } from './turn-credentials.js';

export const NS_EXTDISCO = 'urn:xmpp:extdisco:2';

const Service = z.object({
  /** Registered service type: stun, turn, turns, … */
  type: z.string().min(1),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).optional(),
  transport: z.enum(['udp', 'tcp']).optional(),
  name: z.string().optional(),
  /** TURN REST shared secret (the TURN server's `static-auth-secret`): credentials are minted per request. */
  secret: z.string().min(1).optional(),
  /** Fixed credentials, for services that have them (not recommended for TURN). */
  username: z.string().optional(),
  password: z.string().optional(),
  /** Lifetime of minted credentials, seconds. */
  ttl: z.number().int().min(60).max(7 * 86400).default(86400),
  /** Do not hand out credentials in the list: clients ask for them with <credentials/> (§3.3). */
  restricted: z.boolean().default(false),
}).strict();
type ServiceConfig = z.infer<typeof Service>;

export default defineModule({
  manifest: {
    name: 'external-services',
    description: 'External service discovery (STUN/TURN) with time-limited TURN credentials',
    specs: [{ spec: 'XEP-0215', version: '1.0', status: 'complete', notes: 'services from the configuration; TURN REST API shared-secret credentials; no pushes (the list changes only on restart)' }],
    options: z.object({ services: z.array(Service).max(64).default([]) }).strict(),
    defaultEnabled: true,
  },
  setup(api) {
    const services = api.options.services;
    api.discoFeature(NS_EXTDISCO);

    const describe = (s: ServiceConfig, user: string, withCredentials: boolean): Element => {
      const attrs: Record<string, string | number | undefined> = { type: s.type, host: s.host, port: s.port, transport: s.transport, name: s.name };
      const hasCredentials = s.secret !== undefined || s.username !== undefined;
      if (hasCredentials && withCredentials) {
        if (s.secret !== undefined) {
          const c = turnCredentials(s.secret, user, s.ttl);
          Object.assign(attrs, { username: c.username, password: c.password, expires: xmppDateTime(c.expires) });
        } else Object.assign(attrs, { username: s.username, password: s.password });
      }
      if (hasCredentials) attrs.restricted = s.restricted ? 'true' : undefined;
      return xml('service', NS_EXTDISCO, attrs);
    };

    const localUser = (from: { domain: string; local: string }, to: { domain: string }): string => {
      if (!from.local || from.domain !== to.domain) throw new StanzaError('forbidden', 'only this server\'s users may discover its services');
      return `${from.local}@${from.domain}`;
    };

    api.iq({ type: 'get', scope: 'host', xmlns: NS_EXTDISCO, name: 'services' }, (ev, q) => {
      const user = localUser(ev.from, ev.to);
      const type = q.attrs.type;
      const out = xml('services', NS_EXTDISCO, { type });
      for (const s of services) if (type === undefined || s.type === type) out.children.push(describe(s, user, !s.restricted));
      return out;
    });

    api.iq({ type: 'get', scope: 'host', xmlns: NS_EXTDISCO, name: 'credentials' }, (ev, q) => {
      const user = localUser(ev.from, ev.to);
      const want = q.getChild('service', NS_EXTDISCO);
      if (!want?.attrs.host || !want.attrs.type) throw new StanzaError('bad-request', 'name the service by host and type');
      const port = want.attrs.port !== undefined ? Number(want.attrs.port) : undefined;
      const matches = services.filter((s) => s.host === want.attrs.host && s.type === want.attrs.type && (port === undefined || s.port === port)
        && (s.secret !== undefined || s.username !== undefined));
      if (matches.length === 0) throw new StanzaError('item-not-found', 'no credentials for that service');
      api.log.debug({ user, host: want.attrs.host, type: want.attrs.type }, 'external service credentials issued');
      return xml('credentials', NS_EXTDISCO, {}, ...matches.map((s) => describe(s, user, true)));
    });
  },
});
