// In-Band Registration (XEP-0077 2.4, jabber:iq:register) with this server:
// - account creation before authentication (§3.1, ./account-creation.ts), off unless the
//   operator lists the host in registrationHosts, advertised with the stream feature of §7 only
//   on connections that may use it (encrypted or loopback, address allowed);
// - for an authenticated user (./account-changes.ts): what is registered (§3.1), password change
//   (§3.3) and cancellation (§3.2), both on by default;
// - disco#info feature jabber:iq:register on the server (§11) whenever any of these is on.
// The stream knows nothing of registration: unauthenticated iqs reach this module through the
// 'stream/negotiation' hook, with the connection's address and security in its payload.

import { JID } from '@magpie/core/jid/jid';
import { defineModule } from '../module.js';
import { RegisterOptionsSchema } from './options.js';
import { RegistrationQuota, addressMatcher } from './address-limits.js';
import { handleUnauthenticatedIq, registrationOffered, type CreationContext } from './account-creation.js';
import { accountHandlers } from './account-changes.js';
import { NS_REGISTER, NS_REGISTER_FEATURE } from './register-xml.js';

export default defineModule({
  manifest: {
    name: 'register',
    description: 'In-band registration: account creation (off unless enabled per host), password change and account deletion',
    specs: [{ spec: 'XEP-0077', version: '2.4', status: 'complete', notes: 'account creation off by default (registrationHosts), over TLS or loopback only, per-address quota, allow-list; legacy fields and data forms (§4); password change closes the other sessions; cancellation unsubscribes the roster and deletes the account; no redirection (§5)' }],
    options: RegisterOptionsSchema,
    defaultEnabled: true,
  },
  setup(api) {
    const o = api.options;
    const hosted = new Set(api.hosts());
    const open = new Set<string>();
    for (const h of o.registrationHosts) {
      if (h === '*') { for (const d of hosted) open.add(d); continue; }
      const d = JID.tryParse(h)?.domain;
      if (!d || !hosted.has(d)) throw new Error(`modules.options.register.registrationHosts: '${h}' is not a hosted domain`);
      open.add(d);
    }
    const inAllowList = o.allowFrom.length ? addressMatcher(o.allowFrom) : undefined;
    const metrics = {
      'created': api.metric('created'), 'refused': api.metric('refused'), 'rate-limited': api.metric('rate-limited'),
      'password-changed': api.metric('password-changed'), 'cancelled': api.metric('cancelled'),
    };
    const count = (what: keyof typeof metrics): void => metrics[what].inc();

    const ctx: CreationContext = {
      o, log: api.log, accounts: api.accounts,
      quota: new RegistrationQuota(o.maxPerAddress, o.windowSeconds * 1000),
      openHost: (host) => open.has(host),
      addressAllowed: (addr) => !inAllowList || inAllowList(addr),
      count,
    };
    api.hook('stream/features', (ev) => {
      if (!ev.authenticated && registrationOffered(ctx, ev.host, ev.connection)) ev.features.c('register', {}, NS_REGISTER_FEATURE);
    });
    api.hook('stream/negotiation', (ev) => handleUnauthenticatedIq(ctx, ev));

    if (open.size || o.passwordChange || o.cancellation) api.discoFeature(NS_REGISTER, 'host');
    const { get, set } = accountHandlers(api, count);
    // To the server, or with no 'to' (the user's own bare JID, RFC 6120 §10.3.3).
    for (const scope of ['host', 'bare'] as const) {
      api.iq({ type: 'get', scope, xmlns: NS_REGISTER, name: 'query' }, get);
      api.iq({ type: 'set', scope, xmlns: NS_REGISTER, name: 'query' }, set);
    }
  },
});
