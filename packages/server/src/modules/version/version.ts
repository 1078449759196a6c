// Software Version (XEP-0092): name and version of the server; the OS only when configured
// (config.version.showOs), since it helps attackers more than users.
import os from 'node:os';
import { xml } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import { defineModule } from '../module.js';
import { MAGPIE_VERSION } from '../../version.js';

export default defineModule({
  manifest: {
    name: 'version',
    description: 'Answers software version queries addressed to the server',
    specs: [{ spec: 'XEP-0092', version: '1.1', status: 'complete' }],
    defaultEnabled: true,
  },
  setup(api) {
    api.discoFeature(NS.VERSION);
    api.iq({ type: 'get', scope: 'host', xmlns: NS.VERSION, name: 'query' }, () =>
      xml('query', NS.VERSION, {},
        xml('name', NS.VERSION, {}, 'Magpie'),
        xml('version', NS.VERSION, {}, MAGPIE_VERSION),
        api.config.version.showOs ? xml('os', NS.VERSION, {}, `${os.type()} ${os.release()}`) : undefined));
  },
});
