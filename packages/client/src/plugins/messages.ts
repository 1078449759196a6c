// Messages (RFC 6121 §5): send and receive chat with threads (§5.2.5), delivery receipts
// (XEP-0184 v1.4: request, automatic answer, 'receipt' event), chat states (XEP-0085 v2.2) and
// last message correction (XEP-0308 v1.2). `client.use(messages)` installs it once.

import { xml, type Element } from '@magpie/core/xml/element';
import { NS } from '@magpie/core/protocol/namespaces';
import type { Client } from '../client.js';
import { Emitter } from '../emitter.js';
import { newId } from '../iq.js';

export const NS_RECEIPTS = 'urn:xmpp:receipts';
export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
export const NS_CORRECT = 'urn:xmpp:message-correct:0';
export type ChatState = 'active' | 'composing' | 'paused' | 'inactive' | 'gone';
const CHAT_STATES: ChatState[] = ['active', 'composing', 'paused', 'inactive', 'gone'];

export interface ChatMessage {
  id: string | undefined;
  from: string;
  to: string | undefined;
  type: string;
  body: string | undefined;
  thread: string | undefined;
  /** XEP-0308: the id of the message this one replaces. */
  replaces: string | undefined;
  chatState: ChatState | undefined;
  /** XEP-0184: the sender asked for a receipt. */
  receiptRequested: boolean;
  element: Element;
}

export interface SendOptions {
  type?: 'chat' | 'normal' | 'groupchat' | 'headline';
  id?: string;
  thread?: string;
  /** Ask for a delivery receipt (XEP-0184). Default true for chat. */
  receipt?: boolean;
  /** Include <active/> (XEP-0085 §5.1: a message with content carries the active state). */
  chatState?: ChatState | false;
  /** Extra payload elements. */
  extra?: Element[];
}

export interface MessageEvents {
  [k: string]: unknown[];
  /** A message with a body (or a correction). */
  message: [msg: ChatMessage];
  receipt: [info: { from: string; id: string }];
  chatstate: [info: { from: string; state: ChatState; type: string }];
  correction: [msg: ChatMessage];
  error: [info: { from: string; id: string | undefined; element: Element }];
}

export function parseMessage(el: Element): ChatMessage {
  const state = el.elements().find((e) => e.xmlns === NS_CHATSTATES && (CHAT_STATES as string[]).includes(e.name));
  return {
    id: el.attr('id'), from: el.attr('from') ?? '', to: el.attr('to'), type: el.attr('type') ?? 'normal',
    body: el.getChildText('body'), thread: el.getChildText('thread'),
    replaces: el.getChild('replace', NS_CORRECT)?.attr('id'),
    chatState: state?.name as ChatState | undefined,
    receiptRequested: el.getChild('request', NS_RECEIPTS) !== undefined,
    element: el,
  };
}

export class Messages extends Emitter<MessageEvents> {
  /** Answer receipt requests automatically (XEP-0184 §5.1). Default true. */
  autoReceipts = true;

  constructor(private readonly client: Client) {
    super();
    for (const f of [NS_RECEIPTS, NS_CHATSTATES, NS_CORRECT]) client.features.add(f);
    client.on('message', (el) => this.onMessage(el));
  }

  /** Send a message; returns its id (to match receipts and corrections). */
  send(to: string, body: string, o: SendOptions = {}): string {
    const type = o.type ?? 'chat';
    const id = o.id ?? newId();
    const m = xml('message', NS.CLIENT, { to, type, id }, xml('body', NS.CLIENT, {}, body));
    if (o.thread) m.c('thread', {}, NS.CLIENT).t(o.thread);
    // XEP-0184 §5.4: never ask for receipts in groupchat.
    if ((o.receipt ?? type === 'chat') && type !== 'groupchat') m.append(xml('request', NS_RECEIPTS));
    if (o.chatState !== false && type !== 'groupchat' && type !== 'headline') m.append(xml(o.chatState || 'active', NS_CHATSTATES));
    if (o.extra) m.append(...o.extra);
    this.client.send(m);
    return id;
  }

  /** XEP-0085: a standalone chat state notification. */
  sendChatState(to: string, state: ChatState, type: 'chat' | 'groupchat' = 'chat'): void {
    this.client.send(xml('message', NS.CLIENT, { to, type }, xml(state, NS_CHATSTATES), xml('no-store', 'urn:xmpp:hints')));
  }

  /** XEP-0308: replace the message `id` previously sent to `to`; returns the new id. */
  correct(to: string, id: string, body: string, o: SendOptions = {}): string {
    return this.send(to, body, { ...o, extra: [...(o.extra ?? []), xml('replace', NS_CORRECT, { id })] });
  }

  private onMessage(el: Element): void {
    const m = parseMessage(el);
    if (m.type === 'error') { this.emit('error', { from: m.from, id: m.id, element: el }); return; }
    const received = el.getChild('received', NS_RECEIPTS);
    if (received?.attr('id')) this.emit('receipt', { from: m.from, id: received.attr('id')! });
    if (m.chatState) this.emit('chatstate', { from: m.from, state: m.chatState, type: m.type });
    if (m.body === undefined) return;
    if (m.receiptRequested && this.autoReceipts && m.id && m.type !== 'groupchat') {
      this.client.send(xml('message', NS.CLIENT, { to: m.from, id: newId() }, xml('received', NS_RECEIPTS, { id: m.id })));
    }
    if (m.replaces) this.emit('correction', m);
    this.emit('message', m);
  }
}

/** `const chat = client.use(messages)` */
export const messages = (client: Client): Messages => new Messages(client);
