import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { discoverSrv, orderEndpoints, type SrvRecord } from './srv.js';

const r = (name: string, port: number, priority: number, weight = 0): SrvRecord => ({ name, port, priority, weight });

describe('SRV discovery (RFC 6120 §3.2, XEP-0368)', () => {
  it('orders by priority, direct TLS first at equal priority', () => {
    const eps = orderEndpoints([r('tls.example.com', 5223, 10)], [r('a.example.com', 5222, 5), r('b.example.com', 5222, 10)]);
    assert.deepEqual(eps.map((e) => `${e.host}:${e.port}:${e.directTls}`), ['a.example.com:5222:false', 'tls.example.com:5223:true', 'b.example.com:5222:false']);
  });
  it('weights pick the order within a priority (RFC 2782)', () => {
    const recs = [r('light', 1, 0, 1), r('heavy', 1, 0, 99)];
    let heavyFirst = 0;
    for (let i = 0; i < 200; i++) if (orderEndpoints([], recs)[0]!.host === 'heavy') heavyFirst++;
    assert.ok(heavyFirst > 150, String(heavyFirst));
    assert.equal(orderEndpoints([], recs, () => 0.001)[0]!.host, 'light');
  });
  it('falls back to the domain on 5222 without records; "." means no service', async () => {
    assert.deepEqual(await discoverSrv('example.org', async () => { throw new Error('ENOTFOUND'); }), [{ host: 'example.org', port: 5222, directTls: false }]);
    assert.deepEqual(await discoverSrv('example.org', async (n) => (n.startsWith('_xmpp-client') ? [r('.', 0, 0)] : [])), []);
    const eps = await discoverSrv('example.org', async (n) => (n.startsWith('_xmpps') ? [r('xmpp.example.org.', 443, 0)] : []));
    assert.deepEqual(eps, [{ host: 'xmpp.example.org', port: 443, directTls: true }]);
  });
});
