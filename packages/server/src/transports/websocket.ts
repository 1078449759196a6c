// XMPP over WebSocket (RFC 7395) as a Transport: one XML element per text message, framed by
// <open/>/<close/> (stream/framing.ts). TLS is the HTTP listener's (wss), never STARTTLS.

import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import type { WebSocket } from 'ws';
import type { PeerCertificate, Transport } from './transport.js';
import { clientAddress } from './proxy-protocol.js';
import { isLoopbackAddress } from './transport.js';
import { channelBindingData, channelBindingTypes } from '../tls/channel-binding.js';

export class WebSocketTransport implements Transport {
  readonly id = randomBytes(6).toString('base64url');
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  readonly loopback: boolean;
  readonly secure: boolean;
  readonly canStartTls = false;
  readonly framing = 'framed' as const;
  readonly servername: string | undefined;
  onData: (chunk: Uint8Array | string) => void = () => {};
  onClose: (error?: Error) => void = () => {};
  private closed = false;
  private readonly tls: TLSSocket | undefined;

  constructor(private readonly ws: WebSocket, req: IncomingMessage) {
    const sock = req.socket;
    const peer = clientAddress(sock); // behind a PROXY balancer: the client's, not the balancer's
    this.remoteAddress = peer.address;
    this.remotePort = peer.port;
    this.localPort = sock.localPort ?? 0;
    this.loopback = isLoopbackAddress(this.remoteAddress);
    this.tls = sock instanceof TLSSocket ? sock : undefined;
    this.secure = this.tls !== undefined;
    const sn = this.tls?.servername;
    this.servername = typeof sn === 'string' ? sn : undefined;
    ws.on('message', (data, isBinary) => {
      // RFC 7395 §3.2: XMPP frames are text; a binary message is a protocol error.
      if (isBinary) { this.onData('<binary-frame/>'); return; }
      this.onData(Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString());
    });
    ws.on('close', () => { if (!this.closed) { this.closed = true; this.onClose(); } });
    ws.on('error', () => {});
  }

  get bufferedBytes(): number { return this.ws.bufferedAmount; }
  write(data: string): void { if (this.ws.readyState === this.ws.OPEN) this.ws.send(data); }
  startTls(): Promise<void> { return Promise.reject(new Error('no STARTTLS on WebSocket')); }
  pause(): void { this.ws.pause(); }
  resume(): void { this.ws.resume(); }
  end(): void { if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000); }
  destroy(): void { this.ws.terminate(); }
  channelBindingTypes(): string[] { return this.tls ? channelBindingTypes(this.tls) : []; }
  channelBinding(type: string): Uint8Array | undefined { return this.tls ? channelBindingData(this.tls, type) : undefined; }
  peerCertificate(): PeerCertificate | undefined { return undefined; }
}
