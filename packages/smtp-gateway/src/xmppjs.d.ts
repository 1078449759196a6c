// The part of xmpp.js's @xmpp/component (a CommonJS package without type declarations) that the
// gateway uses.
declare module '@xmpp/component' {
  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    children: (XmlElement | string)[];
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildText(name: string, xmlns?: string): string | null;
    text(): string;
    is(name: string, xmlns?: string): boolean;
  }
  export function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (XmlElement | string | undefined | null)[]): XmlElement;
  export interface IqContext { stanza: XmlElement; element: XmlElement; id: string }
  export interface Component {
    readonly status: string;
    start(): Promise<{ toString(): string }>;
    stop(): Promise<unknown>;
    send(el: XmlElement): Promise<void>;
    on(event: 'stanza', fn: (s: XmlElement) => void): void;
    on(event: 'error', fn: (e: Error) => void): void;
    on(event: 'status', fn: (status: string) => void): void;
    on(event: 'online' | 'offline', fn: () => void): void;
    iqCallee: {
      get(ns: string, name: string, handler: (ctx: IqContext) => unknown): void;
      set(ns: string, name: string, handler: (ctx: IqContext) => unknown): void;
    };
  }
  export function component(options: { service: string; domain: string; password: string }): Component;
}
