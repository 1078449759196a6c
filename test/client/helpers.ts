// Helpers for the client-library scenarios: build @magpie/client clients against a started
// Magpie (test/support/server.ts) over each transport, and wait for events with timeouts.
import { createClient, type NodeClientOptions } from '@magpie/client/node';
import type { Client, Element } from '@magpie/client/node';
import type { TestServer } from '../support/server.js';

export type Via = 'starttls' | 'tls' | 'ws' | 'bosh';

export function serviceOf(ts: TestServer, via: Via): string {
  switch (via) {
    case 'starttls': return `xmpp://127.0.0.1:${ts.port}`;
    case 'tls': return `xmpps://127.0.0.1:${ts.tlsPort}`;
    case 'ws': return ts.wsUrl;
    case 'bosh': return ts.wsUrl.replace(/^ws/, 'http').replace(/\/[^/]*$/, '/http-bind');
  }
}

/** A client for user@localhost over `via`; the test certificate is self-signed. */
export function clientFor(ts: TestServer, user: string, via: Via = 'starttls', extra: Partial<NodeClientOptions> = {}): Client {
  return createClient({
    jid: `${user}@${ts.domain}`, password: 'pw', service: serviceOf(ts, via),
    tls: { rejectUnauthorized: false }, reconnect: { initial: 50, max: 500 }, iqTimeout: 10000, ...extra,
  });
}

export function waitEvent<T>(what: string, setup: (done: (v: T) => void) => void, ms = 10000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out waiting for ' + what)), ms);
    setup((v) => { clearTimeout(timer); resolve(v); });
  });
}

/** The next message received by `c` matching `pred`. */
export function nextMessage(c: Client, pred: (m: Element) => boolean = () => true, ms = 10000): Promise<Element> {
  return waitEvent('message', (done) => { const off = c.on('message', (m) => { if (pred(m)) { off(); done(m); } }); }, ms);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
