import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SrvRecord } from 'node:dns';
import { orderSrv, resolveServer, staticRoute } from './resolver.js';

const rec = (name: string, priority: number, weight: number, port = 5269): SrvRecord => ({ name, priority, weight, port });
function fakeDns(table: Record<string, SrvRecord[]>) {
  return { resolveSrv: async (n: string) => { const r = table[n]; if (!r) throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }); return r; } };
}

describe('s2s resolution (RFC 6120 §3.2, XEP-0368)', () => {
  it('a static route wins and parses host:port and objects', async () => {
    assert.deepEqual(staticRoute({ 'b.example': '127.0.0.2:5300' }, 'b.example'), { host: '127.0.0.2', port: 5300, directTls: false, source: 'static' });
    assert.deepEqual(staticRoute({ 'b.example': '[::1]:5300' }, 'b.example')?.host, '::1');
    const c = await resolveServer('b.example', { 'b.example': { host: 'h', port: 5270, directTls: true } }, fakeDns({}));
    assert.deepEqual(c, [{ host: 'h', port: 5270, directTls: true, source: 'static' }]);
  });

  it('orders by priority, then weight draws; zero weights still come', () => {
    const recs = [rec('c', 20, 0), rec('a', 10, 100), rec('b', 10, 0), rec('d', 5, 1)];
    const o = orderSrv(recs, () => 0.5).map((r) => r.name);
    assert.equal(o[0], 'd');
    assert.deepEqual(new Set(o.slice(1, 3)), new Set(['a', 'b']));
    assert.equal(o[3], 'c');
    // A weight-100 record beats a weight-0 one almost always.
    let aFirst = 0;
    for (let i = 0; i < 200; i++) if (orderSrv([rec('a', 1, 100), rec('b', 1, 0)])[0]!.name === 'a') aFirst++;
    assert.ok(aFirst > 190, `a first ${aFirst}/200`);
  });

  it('merges xmpps-server and xmpp-server, direct TLS first at equal priority', async () => {
    const dns = fakeDns({
      '_xmpps-server._tcp.x.example': [rec('tls.x.example.', 10, 0, 5270)],
      '_xmpp-server._tcp.x.example': [rec('plain.x.example.', 10, 0), rec('backup.x.example.', 20, 0)],
    });
    const c = await resolveServer('x.example', {}, dns);
    assert.deepEqual(c.map((x) => `${x.host}:${x.port}:${x.directTls}`), ['tls.x.example:5270:true', 'plain.x.example:5269:false', 'backup.x.example:5269:false']);
  });

  it('falls back to the domain on 5269 without SRV; "." means no service', async () => {
    assert.deepEqual(await resolveServer('y.example', {}, fakeDns({})), [{ host: 'y.example', port: 5269, directTls: false, source: 'fallback' }]);
    assert.deepEqual(await resolveServer('z.example', {}, fakeDns({ '_xmpp-server._tcp.z.example': [rec('.', 0, 0, 0)] })), []);
  });
});
