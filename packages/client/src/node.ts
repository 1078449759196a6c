// @magpie/client/node — everything of the main entry plus the Node transports: TCP with
// STARTTLS, direct TLS, SRV discovery, and WebSocket through the `ws` package.

import { Client, type ClientOptions } from './client.js';
import { nodeConnector, type NodeConnectOptions } from './connect/node.js';

export * from './index.js';
export { nodeConnector } from './connect/node.js';
export type { NodeConnectOptions } from './connect/node.js';
export { TcpTransport } from './transport/tcp.js';
export type { TcpTransportOptions } from './transport/tcp.js';
export { discoverSrv, orderEndpoints } from './discovery/srv.js';
export type { Endpoint, SrvRecord, SrvResolver } from './discovery/srv.js';

export type NodeClientOptions = Omit<ClientOptions, 'connect'> & NodeConnectOptions & { connect?: ClientOptions['connect'] };

/** A client for Node: explicit `service` URLs, `host`/`port`, or DNS SRV for the JID's domain. */
export function createClient(options: NodeClientOptions): Client {
  return new Client({ ...options, connect: options.connect ?? nodeConnector(options) });
}
