// What incoming and outgoing server-to-server streams share (RFC 6120 §4): one XML document per
// direction on a socket, elements processed strictly in arrival order through a queue (dialback
// verification and routing are asynchronous), stream restarts after TLS and SASL, content
// namespace translation (jabber:server on the wire, jabber:client inside), and closing with or
// without a stream error (§4.4, §4.9).

import { serialize, type Element } from '@magpie/core/xml/element';
import { StreamParser, type StreamOpenInfo } from '@magpie/core/xml/parser';
import { NS } from '@magpie/core/protocol/namespaces';
import { StreamError } from '@magpie/core/protocol/errors';
import { CLOSE_STREAM } from '../stream/stream-header.js';
import type { Logger } from '../log/logger.js';
import type { Limits } from '../config/schema.js';
import type { PeerCertificate } from '../transports/transport.js';
import { retargeted } from './content-ns.js';

/** What a stream needs of its socket (TcpTransport in, OutgoingSocket out). */
export interface StreamSocket {
  readonly id: string;
  readonly secure: boolean;
  readonly remoteAddress: string;
  readonly bufferedBytes: number;
  onData: (chunk: Uint8Array | string) => void;
  onClose: (error?: Error) => void;
  write(data: string): void;
  pause(): void;
  resume(): void;
  end(): void;
  destroy(): void;
  peerCertificate(): PeerCertificate | undefined;
}

const MAX_QUEUE = 1000;
type State = 'open' | 'closing' | 'closed';

export abstract class S2SXmlStream {
  state: State = 'open';
  log: Logger;
  readonly openedAt = Date.now();
  /** Last stanza in or out (idle timeout). */
  lastActivity = Date.now();
  protected headerSent = false;
  private parser: StreamParser;
  private queue: Element[] = [];
  private pumping = false;
  private paused = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private closedListeners: ((reason: string) => void)[] = [];

  constructor(protected sock: StreamSocket, log: Logger, protected readonly limits: Limits) {
    this.log = log;
    this.parser = this.newParser();
    sock.onData = (chunk) => this.parser.write(chunk);
    sock.onClose = (err) => this.onTransportClosed(err);
  }

  private newParser(): StreamParser {
    const l = this.limits;
    return new StreamParser({
      onStreamOpen: (info) => { try { this.onStreamOpen(info); } catch (e) { this.failed(e, 'stream header'); } },
      onElement: (el) => this.onElement(el),
      onStreamClose: () => this.onPeerClose(),
      onError: (cond, text) => this.fatal(new StreamError(cond, text)),
    }, { maxStanzaBytes: l.maxStanzaBytes, maxDepth: l.maxDepth, maxAttributes: l.maxAttributes, maxNameLength: l.maxNameLength, maxHeaderBytes: l.maxHeaderBytes });
  }

  protected abstract onStreamOpen(info: StreamOpenInfo): void;
  protected abstract process(el: Element): Promise<void>;
  /** Called once when the stream is finished, whoever ended it. */
  protected abstract onEnded(reason: string): void;

  get closed(): boolean { return this.state !== 'open'; }
  onceEnded(fn: (reason: string) => void): void { this.closedListeners.push(fn); }

  /** A new stream on the same socket (RFC 6120 §4.3.3): nothing received before it is processed after. */
  protected restartParser(): void {
    this.queue.length = 0;
    this.parser.reset();
    this.headerSent = false;
  }

  private onElement(el: Element): void {
    if (this.state !== 'open') return;
    this.queue.push(el);
    if (this.queue.length > MAX_QUEUE && !this.paused) { this.paused = true; this.sock.pause(); }
    if (!this.pumping) void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length && this.state === 'open') {
        const el = this.queue.shift()!;
        try { await this.process(el); } catch (e) { this.failed(e, `<${el.name}/>`); }
      }
    } finally {
      this.pumping = false;
      if (this.paused && this.queue.length < MAX_QUEUE / 2) { this.paused = false; this.sock.resume(); }
    }
  }

  private failed(e: unknown, during: string): void {
    if (e instanceof StreamError) { this.fatal(e); return; }
    this.log.error({ err: e, during }, 's2s stream task failed');
    this.fatal(new StreamError('internal-server-error'));
  }

  protected writeRaw(s: string): void { if (this.state !== 'closed') this.sock.write(s); }

  /** Write an element; stanzas built in jabber:client go out in jabber:server. */
  write(el: Element): void {
    if (this.state === 'closed') return;
    this.sock.write(serialize(el.xmlns === NS.CLIENT ? retargeted(el, NS.CLIENT, NS.SERVER) : el, NS.SERVER));
    if (this.sock.bufferedBytes > this.limits.maxOutboundBuffer) {
      this.log.warn({ buffered: this.sock.bufferedBytes }, 'peer server is not reading; closing');
      this.fatal(new StreamError('policy-violation', 'too much unread data'));
    }
  }

  /** Our stream header when none was sent yet (needed before a stream error, RFC 6120 §4.9.1.1). */
  protected abstract sendHeaderIfNeeded(): void;

  fatal(err: StreamError): void {
    if (this.state !== 'open') return;
    this.log[err.condition === 'internal-server-error' ? 'error' : 'info']({ condition: err.condition, text: err.text }, 's2s stream error');
    this.close(err, `stream error ${err.condition}`);
  }

  close(err?: StreamError, reason = 'closed by us'): void {
    if (this.state !== 'open') return;
    this.sendHeaderIfNeeded();
    if (err) this.sock.write(serialize(err.toElement(), NS.SERVER));
    this.sock.write(CLOSE_STREAM);
    this.state = 'closing';
    this.parser.stop();
    this.ended(reason);
    this.sock.end();
    this.closeTimer = setTimeout(() => this.sock.destroy(), this.limits.closeTimeout * 1000);
    this.closeTimer.unref();
  }

  private onPeerClose(): void {
    if (this.state === 'closing') { this.sock.end(); return; }
    this.writeRaw(CLOSE_STREAM);
    this.state = 'closing';
    this.ended('closed by peer');
    this.sock.end();
    this.closeTimer = setTimeout(() => this.sock.destroy(), this.limits.closeTimeout * 1000);
    this.closeTimer.unref();
  }

  private onTransportClosed(err?: Error): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.state = 'closed';
    this.parser.stop();
    this.queue.length = 0;
    this.ended(err ? `connection error: ${err.message}` : 'connection lost');
  }

  private endedOnce = false;
  private ended(reason: string): void {
    if (this.endedOnce) return;
    this.endedOnce = true;
    this.log.info({ reason }, 's2s stream ended');
    this.onEnded(reason);
    for (const f of this.closedListeners) f(reason);
  }
}
