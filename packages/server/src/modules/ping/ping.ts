// XMPP Ping (XEP-0199 §4.2): the server answers a client's ping with an empty result.
import { NS } from '@magpie/core/protocol/namespaces';
import { defineModule } from '../module.js';

export default defineModule({
  manifest: {
    name: 'ping',
    description: 'Answers XMPP pings addressed to the server',
    specs: [{ spec: 'XEP-0199', version: '2.0.1', status: 'complete', notes: 'client-to-server pings; the server pings idle clients (limits.idleTimeout)' }],
    defaultEnabled: true,
  },
  setup(api) {
    api.discoFeature(NS.PING);
    api.iq({ type: 'get', scope: 'host', xmlns: NS.PING, name: 'ping' }, () => undefined);
  },
});
