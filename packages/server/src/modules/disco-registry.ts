// What the server and its accounts advertise through service discovery (XEP-0030), filled by
// modules through the api, read by the disco module and by entity capabilities (XEP-0115).

import type { Element } from '@magpie/core/xml/element';
import type { DiscoIdentity } from './module.js';

export class DiscoRegistry {
  readonly hostFeatures = new Set<string>();
  readonly accountFeatures = new Set<string>();
  readonly hostIdentities: DiscoIdentity[] = [{ category: 'server', type: 'im', name: 'Magpie' }];
  readonly accountIdentities: DiscoIdentity[] = [{ category: 'account', type: 'registered' }];
  readonly extensions: (() => Element)[] = [];
  readonly items: ((host: string) => { jid: string; name?: string } | undefined)[] = [];
}
