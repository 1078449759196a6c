// PROXY protocol framing and parsing (proxy-protocol.ts), over real loopback sockets for the reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { V2ProxyProtocol, Command, TransportProtocol, IPv4ProxyAddress, IPv4Address, IPv6ProxyAddress, IPv6Address } from 'proxy-protocol-js';
import { headerLength, parseHeader, readProxyHeader, trustList, ProxyHeaderError, MAX_HEADER_BYTES } from './proxy-protocol.js';

const v2 = (cmd: Command, addr: IPv4ProxyAddress | IPv6ProxyAddress, tlv = Buffer.alloc(0)): Buffer => {
  const b = Buffer.from(new V2ProxyProtocol(cmd, TransportProtocol.STREAM, addr).build());
  if (!tlv.length) return b;
  // Append TLVs and fix the length field: HAProxy may send some (e.g. PP2_TYPE_AUTHORITY).
  const out = Buffer.concat([b, tlv]);
  out.writeUInt16BE(b.readUInt16BE(14) + tlv.length, 14);
  return out;
};
const v4addr = new IPv4ProxyAddress(IPv4Address.createFrom([203, 0, 113, 7]), 40000, IPv4Address.createFrom([10, 0, 0, 1]), 5222);
const v6addr = new IPv6ProxyAddress(IPv6Address.createFrom([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42]), 41000,
  IPv6Address.createFrom(Array(16).fill(0)), 5222);

test('v1: TCP4, TCP6 and UNKNOWN headers; framing stops at CRLF', () => {
  const h = Buffer.from('PROXY TCP4 198.51.100.9 10.0.0.1 51000 5222\r\n<stream');
  assert.equal(headerLength(h), h.indexOf('<'));
  assert.deepEqual(parseHeader(h.subarray(0, headerLength(h))), { address: '198.51.100.9', port: 51000 });
  const h6 = Buffer.from('PROXY TCP6 2001:db8::1 2001:db8::2 51000 5222\r\n');
  assert.deepEqual(parseHeader(h6), { address: '2001:db8::1', port: 51000 });
  assert.equal(parseHeader(Buffer.from('PROXY UNKNOWN\r\n')), undefined);
});

test('v1: partial headers need more bytes; garbage and overlong headers are refused', () => {
  assert.equal(headerLength(Buffer.from('PRO')), 0);
  assert.equal(headerLength(Buffer.from('PROXY TCP4 1.2.3.4')), 0);
  assert.throws(() => headerLength(Buffer.from('<?xml version')), ProxyHeaderError);
  assert.throws(() => headerLength(Buffer.from('PROXY ' + 'x'.repeat(120))), ProxyHeaderError);
  assert.throws(() => parseHeader(Buffer.from('PROXY TCP4 999.1.1.1 10.0.0.1 1 2\r\n')), ProxyHeaderError);
  assert.throws(() => parseHeader(Buffer.from('PROXY TCP4 1.1.1.1 10.0.0.1 99999 2\r\n')), ProxyHeaderError);
});

test('v2: IPv4, IPv6, LOCAL and TLVs', () => {
  const a = v2(Command.PROXY, v4addr);
  assert.equal(headerLength(Buffer.concat([a, Buffer.from('<stream')])), a.length);
  assert.deepEqual(parseHeader(a), { address: '203.0.113.7', port: 40000 });
  assert.deepEqual(parseHeader(v2(Command.PROXY, v6addr)), { address: '2001:db8::42', port: 41000 });
  assert.equal(parseHeader(v2(Command.LOCAL, v4addr)), undefined);
  const withTlv = v2(Command.PROXY, v4addr, Buffer.from([0x02, 0x00, 0x03, 0x61, 0x62, 0x63]));
  assert.equal(headerLength(Buffer.concat([withTlv, Buffer.from('tail')])), withTlv.length);
  assert.deepEqual(parseHeader(withTlv), { address: '203.0.113.7', port: 40000 });
});

test('v2: a wrong signature or a declared length beyond the limit is refused', () => {
  assert.equal(headerLength(Buffer.from([0x0d, 0x0a, 0x0d])), 0);
  assert.throws(() => headerLength(Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x01])), ProxyHeaderError);
  const big = v2(Command.PROXY, v4addr);
  big.writeUInt16BE(MAX_HEADER_BYTES, 14);
  assert.throws(() => headerLength(big), ProxyHeaderError);
});

test('trust list: addresses, CIDR blocks, IPv4-mapped IPv6', () => {
  const ok = trustList(['10.1.0.0/16', '192.0.2.5', 'fd00::/8']);
  assert.equal(ok('10.1.200.3'), true);
  assert.equal(ok('::ffff:10.1.2.3'), true);
  assert.equal(ok('10.2.0.1'), false);
  assert.equal(ok('192.0.2.5'), true);
  assert.equal(ok('192.0.2.6'), false);
  assert.equal(ok('fd12::1'), true);
  assert.equal(ok('2001:db8::1'), false);
  assert.throws(() => trustList(['balancer.internal']));
});

/** A loopback socket pair: what `send` writes arrives at the returned server-side socket. */
async function pair(): Promise<{ client: net.Socket; server: net.Socket; close(): void }> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const client = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
  const [server] = (await once(srv, 'connection')) as [net.Socket];
  return { client, server, close: () => { client.destroy(); server.destroy(); srv.close(); } };
}

test('reader: a header sent one byte at a time, then the stream bytes, which the reader leaves in the socket', async () => {
  const p = await pair();
  try {
    const read = readProxyHeader(p.server, 5000);
    const bytes = Buffer.concat([v2(Command.PROXY, v4addr), Buffer.from('<stream:stream>')]);
    for (let i = 0; i < 20; i++) { p.client.write(bytes.subarray(i, i + 1)); await new Promise((r) => setTimeout(r, 2)); }
    p.client.write(bytes.subarray(20));
    assert.deepEqual(await read, { address: '203.0.113.7', port: 40000 });
    let rest = '';
    p.server.on('data', (d: Buffer) => { rest += d.toString(); });
    p.server.resume();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(rest, '<stream:stream>');
  } finally { p.close(); }
});

test('reader: no header in time, a non-PROXY start, and a close mid-header all fail', async () => {
  const a = await pair();
  try { await assert.rejects(readProxyHeader(a.server, 150), /in time/); } finally { a.close(); }
  const b = await pair();
  try {
    const r = readProxyHeader(b.server, 5000);
    b.client.write("<?xml version='1.0'?>");
    await assert.rejects(r, /no PROXY protocol header/);
  } finally { b.close(); }
  const c = await pair();
  try {
    const r = readProxyHeader(c.server, 5000);
    c.client.end('PROXY TCP4 1.2');
    await assert.rejects(r, /closed before/);
  } finally { c.close(); }
});
