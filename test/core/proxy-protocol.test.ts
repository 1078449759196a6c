// Listeners behind a TCP load balancer: the PROXY protocol (transports/proxy-protocol.ts) over real
// sockets. The address the balancer reports is the one the server applies its rules to: the
// loopback exemption from TLS (RFC 6120 §5 via tls.requireForClients), per-address limits, logs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { V2ProxyProtocol, Command, TransportProtocol, IPv4ProxyAddress, IPv4Address } from 'proxy-protocol-js';
import { startTestServer, type TestServer } from '../support/server.js';
import { RawClient } from '../support/raw-client.js';
import { validateConfig } from '@magpie/server/config/load';

const pp = (trusted: string[]) => ({ trusted, timeoutMs: 1000 });

async function proxied(port: number, header: string | Buffer): Promise<RawClient> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  sock.write(header);
  return RawClient.fromSocket(sock);
}

const sessionFor = (ts: TestServer, user: string) => [...ts.server.sessions.all()].find((s) => s.jid.local === user);

test('PROXY protocol on c2s: the reported client address decides TLS, limits and the session address', async (t) => {
  const ts = await startTestServer({
    listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0, proxyProtocol: pp(['127.0.0.1']) }],
    limits: { maxConnectionsPerAddress: 1 },
  });
  t.after(() => ts.stop());
  await ts.addUser('alice', 'pw');
  await ts.addUser('bob', 'pw');

  // A client the balancer reports as remote must use TLS first, although the TCP peer is loopback.
  const a = await proxied(ts.port, 'PROXY TCP4 198.51.100.1 127.0.0.1 50001 5222\r\n');
  a.open();
  const features = await a.next((e) => e.name === 'features');
  assert.ok(features.getChild('starttls', 'urn:ietf:params:xml:ns:xmpp-tls')?.getChild('required', 'urn:ietf:params:xml:ns:xmpp-tls'), 'STARTTLS is required for a remote client: ' + features.toString());
  assert.equal(features.getChild('mechanisms', 'urn:ietf:params:xml:ns:xmpp-sasl'), undefined, 'no SASL before TLS for a remote client');
  await a.startTls();
  await a.login('alice', 'pw', { resource: 'r' });
  assert.equal(sessionFor(ts, 'alice')?.remoteAddress, '198.51.100.1');

  // Another client address through the same balancer connection source is not limited by the first.
  const b = await proxied(ts.port, 'PROXY TCP4 198.51.100.2 127.0.0.1 50002 5222\r\n');
  b.open();
  await b.next((e) => e.name === 'features');
  await b.startTls();
  await b.login('bob', 'pw', { resource: 'r' });
  assert.equal(sessionFor(ts, 'bob')?.remoteAddress, '198.51.100.2');

  // The same client address again is over maxConnectionsPerAddress: 1.
  const c = await proxied(ts.port, 'PROXY TCP4 198.51.100.1 127.0.0.1 50003 5222\r\n');
  c.open();
  await c.waitText(/policy-violation/);
  await c.waitClosed();

  // A connection that does not start with a header is dropped without a stream.
  const d = await RawClient.connect(ts.port);
  d.open();
  await d.waitClosed();
  assert.equal(d.header, undefined);

  // A loopback client reported by the balancer keeps the loopback exemption.
  const e = await proxied(ts.port, 'PROXY TCP4 127.0.0.9 127.0.0.1 50004 5222\r\n');
  await e.login('alice', 'pw', { resource: 'loop' });
  for (const x of [a, b, e]) x.send('</stream:stream>');
});

test('PROXY protocol: connections from a source not trusted are refused at once', async (t) => {
  const ts = await startTestServer({ listeners: [{ type: 'c2s', address: '127.0.0.1', port: 0, proxyProtocol: pp(['127.0.0.2/32', '10.0.0.0/8']) }] });
  t.after(() => ts.stop());
  const c = await proxied(ts.port, 'PROXY TCP4 198.51.100.1 127.0.0.1 50001 5222\r\n');
  c.open();
  await c.waitClosed();
  assert.equal(c.text, '', 'nothing is sent to an untrusted source');
});

test('PROXY protocol v2 before direct TLS (XEP-0368 port behind a balancer)', async (t) => {
  const ts = await startTestServer({ listeners: [{ type: 'c2s-tls', address: '127.0.0.1', port: 0, proxyProtocol: pp(['127.0.0.0/8']) }] });
  t.after(() => ts.stop());
  await ts.addUser('carol', 'pw');
  const header = Buffer.from(new V2ProxyProtocol(Command.PROXY, TransportProtocol.STREAM,
    new IPv4ProxyAddress(IPv4Address.createFrom([192, 0, 2, 44]), 40044, IPv4Address.createFrom([10, 0, 0, 1]), 5223)).build());
  const raw = net.connect(ts.tlsPort, '127.0.0.1');
  await once(raw, 'connect');
  raw.write(header);
  const sock = tls.connect({ socket: raw, servername: 'localhost', rejectUnauthorized: false });
  await once(sock, 'secureConnect');
  const c = RawClient.fromSocket(sock);
  await c.login('carol', 'pw', { resource: 'tls' });
  assert.equal(sessionFor(ts, 'carol')?.remoteAddress, '192.0.2.44');
  assert.equal(sessionFor(ts, 'carol')?.secure, true);
  c.send('</stream:stream>');
});

test('configuration: proxyProtocol not on component listeners, with addresses or CIDR blocks', () => {
  assert.throws(() => validateConfig({ listeners: [{ type: 'component', port: 5347, proxyProtocol: pp(['127.0.0.1']) }] }), /proxyProtocol/);
  assert.doesNotThrow(() => validateConfig({ listeners: [{ type: 'https', port: 5443, proxyProtocol: pp(['127.0.0.1']) }] }));
  assert.throws(() => validateConfig({ listeners: [{ type: 'c2s', port: 5222, proxyProtocol: pp(['lb.example']) }] }), /CIDR/);
  assert.throws(() => validateConfig({ listeners: [{ type: 'c2s', port: 5222, proxyProtocol: pp(['10.0.0.0/33']) }] }), /CIDR/);
  const c = validateConfig({ listeners: [{ type: 's2s', port: 5269, proxyProtocol: { trusted: ['10.0.0.0/8', '::1'] } }] });
  assert.equal(c.listeners[0]!.proxyProtocol?.timeoutMs, 5000);
});

/** One BOSH session-creation request (XEP-0206 §4) on a fresh connection that starts with `header`. */
async function boshCreate(port: number, header: string): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  await once(sock, 'connect');
  const body = "<body xmlns='http://jabber.org/protocol/httpbind' xmlns:xmpp='urn:xmpp:xbosh' rid='1000' to='localhost' wait='5' hold='1' xmpp:version='1.0' ver='1.11'/>";
  sock.write(header + `POST /http-bind HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  let text = '';
  sock.on('data', (d: Buffer) => { text += d.toString(); });
  await once(sock, 'close');
  return text;
}

test('PROXY protocol on the web listeners: BOSH and WebSocket see the reported client address', async (t) => {
  const ts = await startTestServer({ listeners: [
    { type: 'http', address: '127.0.0.1', port: 0, proxyProtocol: pp(['127.0.0.1']) },
    { type: 'https', address: '127.0.0.1', port: 0, proxyProtocol: pp(['127.0.0.1']) },
  ] });
  t.after(() => ts.stop());
  await ts.addUser('dave', 'pw');
  const httpPort = ts.server.port('http');
  // Plain HTTP from a remote client (as reported): no SASL before TLS; from loopback: SASL offered.
  const remote = await boshCreate(httpPort, 'PROXY TCP4 198.51.100.7 127.0.0.1 50007 5280\r\n');
  assert.match(remote, /^HTTP\/1\.1 200/);
  assert.doesNotMatch(remote, /<mechanism>/, 'a remote client over plain HTTP gets no SASL mechanisms');
  const local = await boshCreate(httpPort, 'PROXY TCP4 127.0.0.7 127.0.0.1 50008 5280\r\n');
  assert.match(local, /<mechanism>SCRAM-SHA-256<\/mechanism>/, 'a loopback client gets SASL mechanisms');
  // Without a header the web listener drops the connection.
  assert.equal(await boshCreate(httpPort, ''), '');

  // WebSocket over TLS behind the balancer: header, TLS, then the upgrade.
  const { WebSocket } = await import('ws');
  const header = 'PROXY TCP4 203.0.113.70 127.0.0.1 50070 5443\r\n';
  const ws = new WebSocket(`wss://localhost:${ts.server.port('https')}/xmpp-websocket`, 'xmpp', {
    rejectUnauthorized: false,
    createConnection: ((opts: tls.ConnectionOptions) => {
      const raw = net.connect(ts.server.port('https'), '127.0.0.1');
      raw.write(header);
      return tls.connect({ ...opts, socket: raw, servername: 'localhost', rejectUnauthorized: false });
    }) as never,
  });
  const frames: string[] = [];
  ws.on('message', (d) => frames.push(d.toString()));
  await once(ws, 'open');
  ws.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>");
  const end = Date.now() + 5000;
  while (!frames.some((f) => f.includes('<mechanism>')) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  assert.ok(frames.some((f) => f.includes('<mechanism>SCRAM-SHA-256</mechanism>')), `SASL offered over wss: ${frames.join('')}`);
  const streams = [...(ts.server as unknown as { streams: Set<{ transport: { remoteAddress: string } }> }).streams];
  assert.ok(streams.some((s) => s.transport.remoteAddress === '203.0.113.70'), 'the WebSocket stream has the reported address');
  ws.close();
});
