// The router (RFC 6120 §8, §10): one function that, given a stanza and its stamped sender,
// computes the event name and fires it on the hook bus. The delivery rules themselves (RFC
// 6121 §8) live in modules (modules/delivery); the router only owns what must hold for every
// stanza: the event naming, the outbound `pre-` pass for local clients, the hand-off of
// non-local domains, the dispatch of iq requests to registered handlers, the fallback answers
// for what no module handled, and turning a handler's exception into internal-server-error.
// docs/routing.md documents the table.

import { Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { StanzaError, errorReply } from '@magpie/core/protocol/errors';
import type { HookBus } from '../hooks/bus.js';
import type { EventName, StanzaEvent } from '../hooks/events.js';
import type { ClientSession, Origin } from '../session/session.js';
import type { Logger } from '../log/logger.js';
import { IQ_HANDLED, IqRegistry, type IqScope } from './iq-registry.js';

export interface RouterDeps { hooks: HookBus; log: Logger; isLocalHost(domain: string): boolean }

export class Router {
  readonly iq = new IqRegistry();
  private pending = new Map<string, { resolve: (el: Element) => void; timer: NodeJS.Timeout }>();
  private seq = 0;

  constructor(private readonly deps: RouterDeps) {
    // IQ requests to the server or to an account are answered by registered handlers.
    deps.hooks.on('iq/host', (ev) => this.dispatchIq(ev, 'host'), 0);
    deps.hooks.on('iq/bare', (ev) => this.dispatchIq(ev, 'bare'), 0);
  }

  /**
   * Route a stanza whose `from` is already stamped. `to` is the parsed `to` (undefined when the
   * stanza had none: a client's stanza is then for its own account, RFC 6120 §10.3).
   */
  async route(stanza: Element, origin: Origin, from: JID, to: JID | undefined, session?: ClientSession): Promise<void> {
    const dest = to ?? (origin.kind === 'c2s' ? from.bare : JID.of('', from.domain));
    const toType = dest.resource ? 'full' : dest.local ? 'bare' : 'host';
    const kind = stanza.name as 'message' | 'presence' | 'iq';
    const ev: StanzaEvent = { stanza, origin, from, to: dest, session };
    const { hooks, log } = this.deps;
    try {
      if (origin.kind === 'c2s' && (await hooks.fire(`pre-${kind}/${toType}` as EventName, ev as never)) !== undefined) return;
      if (!this.deps.isLocalHost(dest.domain)) {
        if ((await hooks.fire('route/component', ev)) !== undefined) return;
        if ((await hooks.fire('route/remote', ev)) !== undefined) return;
        return this.bounce(ev, new StanzaError('remote-server-not-found', `no route to ${dest.domain}`));
      }
      if ((await hooks.fire(`${kind}/${toType}` as EventName, ev as never)) !== undefined) return;
      this.unhandled(ev);
    } catch (e) {
      if (e instanceof StanzaError) return this.bounce(ev, e);
      log.error({ err: e, kind, toType }, 'handler failed on a stanza');
      this.bounce(ev, new StanzaError('internal-server-error'));
    }
  }

  /** Route a stanza the server itself generates; `from` and `to` must be set on it. */
  send(stanza: Element): Promise<void> {
    const from = JID.parse(stanza.attrs.from!);
    const to = stanza.attrs.to ? JID.parse(stanza.attrs.to) : undefined;
    return this.route(stanza, { kind: 'local' }, from, to);
  }

  /** Send an iq from the server and await its result or error (rejects with StanzaError or on timeout). */
  request(iq: Element, timeoutMs = 30_000): Promise<Element> {
    const id = iq.attrs.id ?? `magpie-${++this.seq}`;
    iq.attrs.id = id;
    const k = `${iq.attrs.to}|${id}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(k); reject(new StanzaError('remote-server-timeout', 'no answer')); }, timeoutMs);
      timer.unref();
      this.pending.set(k, { resolve: (el) => { clearTimeout(timer); el.attrs.type === 'error' ? reject(StanzaError.fromElement(el)) : resolve(el); }, timer });
      void this.send(iq);
    });
  }

  /** Answer `stanza` with an error, from the address it was sent to (RFC 6120 §8.3.1). */
  bounce(ev: StanzaEvent, err: StanzaError): void {
    const reply = errorReply(ev.stanza, err);
    if (!reply) return;
    reply.attrs.from = ev.to.toString();
    reply.attrs.to = ev.from.toString();
    if (ev.origin.kind === 'c2s') { ev.origin.session.send(reply); return; }
    void this.route(reply, { kind: 'local' }, ev.to, ev.from);
  }

  private unhandled(ev: StanzaEvent): void {
    const type = ev.stanza.attrs.type;
    if (ev.stanza.name === 'iq') {
      if (type === 'get' || type === 'set') this.bounce(ev, new StanzaError('service-unavailable'));
      else this.resolvePending(ev);
    }
    // Unhandled message and presence stanzas are dropped silently (RFC 6121 §8.5 "ignore").
  }

  private resolvePending(ev: StanzaEvent): boolean {
    const k = `${ev.from.toString()}|${ev.stanza.attrs.id}`;
    const p = this.pending.get(k);
    if (!p) return false;
    this.pending.delete(k);
    p.resolve(ev.stanza);
    return true;
  }

  private async dispatchIq(ev: StanzaEvent, scope: IqScope): Promise<unknown> {
    const type = ev.stanza.attrs.type;
    if (type !== 'get' && type !== 'set') return this.resolvePending(ev) ? true : undefined;
    const payload = ev.stanza.elements()[0];
    if (!payload) return undefined;
    const handler = this.iq.find(type, scope, payload);
    if (!handler) return undefined;
    let result;
    try { result = await handler(ev, payload); } catch (e) {
      if (e instanceof StanzaError) { this.bounce(ev, e); return true; }
      this.deps.log.error({ err: e, xmlns: payload.xmlns, name: payload.name }, 'iq handler failed');
      this.bounce(ev, new StanzaError('internal-server-error'));
      return true;
    }
    if (result === IQ_HANDLED) return true;
    const reply = new Element('iq', ev.stanza.xmlns, { type: 'result', id: ev.stanza.attrs.id, from: ev.to.toString(), to: ev.from.toString() });
    if (Array.isArray(result)) reply.children.push(...result); else if (result) reply.children.push(result);
    if (ev.origin.kind === 'c2s') ev.origin.session.send(reply);
    else await this.route(reply, { kind: 'local' }, ev.to, ev.from);
    return true;
  }
}
