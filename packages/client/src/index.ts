// @magpie/client — browser-safe entry (also fine in Node when given a WebSocket or BOSH URL).
// Node-only transports (TCP, STARTTLS, direct TLS, SRV) live in '@magpie/client/node'.
// Plugins are separate modules: import only what you use and the bundle stays small.

import { Client, type ClientOptions } from './client.js';
import { webConnector, type WebConnectOptions } from './connect/browser.js';

export { Client } from './client.js';
export type { ClientEvents, ClientOptions, IqHandler, OnlineInfo, Status } from './client.js';
export { Emitter } from './emitter.js';
export { AuthError, ConnectionError, StreamError, TimeoutError, XmppError, isFatal } from './errors.js';
export type { AuthErrorCondition } from './errors.js';
export { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { QueueFullError } from './queue.js';
export { SM_NS } from './sm.js';
export { newId } from './iq.js';
export { webConnector } from './connect/browser.js';
export type { WebConnectOptions } from './connect/browser.js';
export { discoverEndpoints, parseHostMeta } from './discovery/host-meta.js';
export { WebSocketTransport } from './transport/websocket.js';
export type { WebSocketConstructor, WebSocketLike } from './transport/websocket.js';
export { BoshTransport } from './transport/bosh.js';
export { firstConnected } from './transport/transport.js';
export type { ChannelBinding, ClientTransport, Connector, TransportHandlers } from './transport/transport.js';
export { Element, xml } from '@magpie/core/xml/element';
export { JID } from '@magpie/core/jid/jid';
export { NS } from '@magpie/core/protocol/namespaces';

export type WebClientOptions = Omit<ClientOptions, 'connect'> & WebConnectOptions & { connect?: ClientOptions['connect'] };

/** A client that connects over WebSocket or BOSH (explicit `service` URLs, else XEP-0156). */
export function createClient(options: WebClientOptions): Client {
  return new Client({ ...options, connect: options.connect ?? webConnector(options) });
}
