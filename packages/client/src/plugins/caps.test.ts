import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capsHash, capsString } from './caps.js';

describe('XEP-0115 verification string', () => {
  it('§5.2 simple example: QgayPKawpkPSDYmwT/WM94uAlu0=', async () => {
    const ids = [{ category: 'client', type: 'pc', name: 'Exodus 0.9.1' }];
    const features = ['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'http://jabber.org/protocol/muc', 'http://jabber.org/protocol/caps'];
    assert.equal(capsString(ids, features), 'client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<http://jabber.org/protocol/muc<');
    assert.equal(await capsHash(ids, features), 'QgayPKawpkPSDYmwT/WM94uAlu0=');
  });
  it('§5.3 complex example with identities in two languages and an extended form: q07IKJEyjvHSyhy//CH0CxmKi8w=', async () => {
    const ids = [{ category: 'client', type: 'pc', lang: 'en', name: 'Psi 0.11' }, { category: 'client', type: 'pc', lang: 'el', name: 'Ψ 0.11' }];
    const features = ['http://jabber.org/protocol/caps', 'http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'http://jabber.org/protocol/muc'];
    const forms = [{ formType: 'urn:xmpp:dataforms:softwareinfo', fields: [
      { var: 'FORM_TYPE', values: ['urn:xmpp:dataforms:softwareinfo'] },
      { var: 'ip_version', values: ['ipv4', 'ipv6'] }, { var: 'os', values: ['Mac'] },
      { var: 'os_version', values: ['10.5.1'] }, { var: 'software', values: ['Psi'] }, { var: 'software_version', values: ['0.11'] },
    ] }];
    assert.equal(await capsHash(ids, features, forms), 'q07IKJEyjvHSyhy//CH0CxmKi8w=');
  });
});
