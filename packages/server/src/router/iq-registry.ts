// IQ handlers by (type, scope, namespace, element) — how a module answers `iq` requests
// (RFC 6120 §8.2.3). A handler returns the result's payload (or nothing for an empty result),
// returns IQ_HANDLED when it answered by itself, or throws a StanzaError.

import type { Element } from '@magpie/core/xml/element';
import type { StanzaEvent } from '../hooks/events.js';

export const IQ_HANDLED = Symbol('iq-handled');
export type IqScope = 'host' | 'bare';
export type IqHandlerResult = Element | Element[] | undefined | void | typeof IQ_HANDLED;
export type IqHandler = (ev: StanzaEvent, payload: Element) => IqHandlerResult | Promise<IqHandlerResult>;
export interface IqSpec { type: 'get' | 'set'; scope: IqScope; xmlns: string; name: string }

const key = (type: string, scope: string, xmlns: string, name: string): string => `${type}|${scope}|${xmlns}|${name}`;

export class IqRegistry {
  private handlers = new Map<string, IqHandler>();

  add(spec: IqSpec, handler: IqHandler): () => void {
    const k = key(spec.type, spec.scope, spec.xmlns, spec.name);
    if (this.handlers.has(k)) throw new Error(`an iq handler for ${spec.type} ${spec.scope} {${spec.xmlns}}${spec.name} is already registered`);
    this.handlers.set(k, handler);
    return () => { if (this.handlers.get(k) === handler) this.handlers.delete(k); };
  }

  find(type: string, scope: IqScope, payload: Element): IqHandler | undefined {
    return this.handlers.get(key(type, scope, payload.xmlns, payload.name));
  }
}
