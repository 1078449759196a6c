// One logged-in session: builds the @magpie/client Client with the plugins the UI needs and turns
// their events into store actions; the UI calls the methods here. Everything XMPP goes through
// the library: roster and subscriptions (RFC 6121 §2-§3), presence (§4), chat with receipts and
// chat states (XEP-0184, XEP-0085), carbons (XEP-0280), the archive (XEP-0313), MUC (XEP-0045),
// blocking (XEP-0191), upload (XEP-0363, shared with XEP-0066 out-of-band data), and the
// library's reconnection with stream management (XEP-0198).

import { createClient, xml, XmppError, AuthError, type Client, type Element } from '@magpie/client';
import { messages, type Messages, type ChatMessage } from '@magpie/client/plugins/messages';
import { presence, type Presence } from '@magpie/client/plugins/presence';
import { roster, type Roster, type RosterItem } from '@magpie/client/plugins/roster';
import { mam, type Mam, type ArchivedMessage } from '@magpie/client/plugins/mam';
import { muc, type Muc } from '@magpie/client/plugins/muc';
import { blocking, type Blocking } from '@magpie/client/plugins/blocking';
import { upload, type Upload } from '@magpie/client/plugins/upload';
import { carbons, type Carbons } from '@magpie/client/plugins/carbons';
import { disco } from '@magpie/client/plugins/disco';
import type { Action, Contact, Line, OwnShow, State } from './state.js';
import { bare } from './text.js';

export const NS_OOB = 'jabber:x:oob';
const NS_DELAY = 'urn:xmpp:delay';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
const NS_DATA = 'jabber:x:data';
const HISTORY_PAGE = 30;

export interface SessionOptions {
  jid: string;
  password: string;
  /** WebSocket/BOSH URLs to try in order (endpoint.ts). */
  service: string[];
  dispatch: (a: Action) => void;
  getState: () => State;
}

const toContact = (i: RosterItem): Omit<Contact, 'show' | 'status'> =>
  ({ jid: i.jid, name: i.name, subscription: i.subscription === 'remove' ? 'none' : i.subscription, ask: i.ask });

function stampOf(el: Element, fallback = Date.now()): number {
  const s = el.getChild('delay', NS_DELAY)?.attr('stamp');
  const t = s ? Date.parse(s) : NaN;
  return Number.isFinite(t) ? t : fallback;
}

const oobOf = (el: Element): string | undefined => el.getChild('x', NS_OOB)?.getChildText('url', NS_OOB);

export class Session {
  readonly client: Client;
  private readonly chat: Messages;
  private readonly pres: Presence;
  private readonly roster: Roster;
  private readonly mam: Mam;
  private readonly muc: Muc;
  private readonly blocking: Blocking;
  private readonly upload: Upload;
  private readonly carbons: Carbons;
  private readonly dispatch: (a: Action) => void;
  private readonly getState: () => State;
  private stopped = false;

  constructor(o: SessionOptions) {
    this.dispatch = o.dispatch;
    this.getState = o.getState;
    this.client = createClient({ jid: o.jid, password: o.password, service: o.service, resource: `web-${Math.random().toString(36).slice(2, 8)}` });
    const c = this.client;
    c.use(disco).identity = { category: 'client', type: 'web', name: 'Magpie web' };
    c.features.add(NS_OOB);
    this.chat = c.use(messages);
    this.pres = c.use(presence);
    this.roster = c.use(roster);
    this.mam = c.use(mam);
    this.muc = c.use(muc);
    this.blocking = c.use(blocking);
    this.upload = c.use(upload);
    this.carbons = c.use(carbons);
    this.wire();
  }

  private me(): string { return this.client.jid?.bareString() ?? bare(this.client.options.jid); }

  private wire(): void {
    const c = this.client, d = this.dispatch;
    c.on('status', (status) => d({ type: 'status', status }));
    c.on('reconnecting', ({ attempt }) => d({ type: 'status', status: 'reconnecting', attempt }));
    c.on('online', ({ jid, resumed }) => {
      d({ type: 'online', jid });
      if (resumed) return;
      // A new session (not a resumed one) starts with an empty server-side state for us.
      this.blocking.list().then((jids) => d({ type: 'blocklist', jids }), () => {});
      this.carbons.enable().catch(() => {});
      // Our own presence is re-sent by the presence plugin (it keeps what setPresence chose).
    });
    c.on('offline', (err) => {
      if (this.stopped) return;
      d({ type: 'notice', text: err instanceof AuthError ? 'Login failed: wrong address or password.' : `Disconnected${err ? `: ${err.message}` : ''}.` });
    });
    c.on('error', (e) => console.warn('magpie:', e.message));

    this.roster.on('loaded', (items) => d({ type: 'roster', items: items.map(toContact) }));
    this.roster.on('item', (item) => d({ type: 'roster-item', item: toContact(item) }));
    this.roster.on('removed', (jid) => d({ type: 'roster-removed', jid }));

    this.pres.on('presence', (p) => {
      const jid = bare(p.from);
      if (this.muc.rooms.has(jid)) return;
      const best = this.pres.best(jid);
      d({ type: 'presence', jid, show: best ? best.show ?? 'available' : 'offline', status: best ? best.status : p.status });
    });
    this.pres.on('subscription-request', ({ from }) => {
      const jid = bare(from);
      // Someone we already let see our presence (a repeated request) is answered at once (RFC 6121 §3.1.3).
      const sub = this.getState().contacts[jid]?.subscription;
      if (sub === 'from' || sub === 'both') { this.pres.approve(jid); return; }
      d({ type: 'request', jid });
    });

    this.chat.on('message', (m) => this.onChat(m));
    this.chat.on('chatstate', ({ from, state, type }) => { if (type !== 'groupchat') d({ type: 'chat-state', peer: this.peerOf(from), state }); });
    this.chat.on('error', ({ from, id, element }) => {
      const e = XmppError.fromStanza(element);
      d({ type: 'message', peer: this.peerOf(from), line: { id: `error-${id ?? Date.now()}`, from: bare(from), outgoing: false, stamp: Date.now(), kind: 'error',
        body: `Not delivered (${e.condition}${e.text ? `: ${e.text}` : ''}).` } });
    });
    this.carbons.on('carbon', ({ direction, message }) => {
      const body = message.getChildText('body');
      if (body === undefined || message.attr('type') === 'groupchat') return;
      const sent = direction === 'sent';
      const peer = this.peerOf(sent ? message.attr('to') ?? '' : message.attr('from') ?? '');
      d({ type: 'message', peer, line: this.line(message, body, sent) });
    });

    this.muc.on('joined', (r) => d({ type: 'room', jid: r.jid, nick: r.nick, joined: true }));
    this.muc.on('left', (r) => d({ type: 'room-left', jid: r.jid }));
    this.muc.on('occupant', ({ room }) => {
      const r = this.muc.rooms.get(room);
      if (r) d({ type: 'room-occupants', jid: room, occupants: [...r.occupants.keys()] });
    });
    this.muc.on('subject', ({ room, subject }) => d({ type: 'room-subject', jid: room, subject }));
    this.muc.on('message', ({ room, nick, body, id, element }) => {
      const r = this.muc.rooms.get(room);
      const stamp = stampOf(element);
      d({ type: 'room-message', jid: room, line: { id: id ?? `${nick}-${stamp}-${body.length}`, from: nick, body, outgoing: nick === r?.nick, stamp, oob: oobOf(element) } });
    });

    this.blocking.on('blocked', (jids) => d({ type: 'blocked', jids }));
    this.blocking.on('unblocked', (jids) => d({ type: 'unblocked', jids }));
  }

  /** Conversations are per bare JID, except private messages in a room (per occupant). */
  private peerOf(from: string): string {
    const b = bare(from);
    return this.muc.rooms.has(b) ? from : b;
  }

  private line(el: Element, body: string, outgoing: boolean, stamp?: number): Line {
    const s = stamp ?? stampOf(el);
    return { id: el.attr('id') ?? `${s}-${body.length}`, from: outgoing ? this.me() : bare(el.attr('from') ?? ''), body, outgoing, stamp: s, oob: oobOf(el) };
  }

  private onChat(m: ChatMessage): void {
    if (m.type === 'groupchat' || m.body === undefined) return;
    this.dispatch({ type: 'message', peer: this.peerOf(m.from), line: this.line(m.element, m.body, false) });
  }

  private ownPresence(show: OwnShow, status: string): { show?: 'away' | 'dnd'; status?: string } {
    return { show: show === 'available' ? undefined : show, status: status || undefined };
  }

  // ---- what the UI asks for -------------------------------------------------------------

  async start(): Promise<void> { await this.client.start(); }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.client.stop();
  }

  sendChat(peer: string, body: string, oob?: string): void {
    const id = this.chat.send(peer, body, { extra: oob ? [xml('x', NS_OOB, {}, xml('url', NS_OOB, {}, oob))] : [] });
    this.dispatch({ type: 'message', peer, line: { id, from: this.me(), body, outgoing: true, stamp: Date.now(), oob } });
  }

  chatState(peer: string, state: 'active' | 'composing' | 'paused'): void { this.chat.sendChatState(peer, state); }

  setPresence(show: OwnShow, status: string): void {
    this.dispatch({ type: 'own', show, status });
    this.pres.set(this.ownPresence(show, status));
  }

  /** Add to the roster and ask to see their presence (RFC 6121 §3.1.1). */
  async addContact(jid: string, name?: string): Promise<void> {
    await this.roster.set(jid, { name: name || undefined });
    this.pres.subscribe(jid);
  }

  /** Accept: let them see our presence and, unless we already do, ask to see theirs. */
  accept(jid: string): void {
    this.pres.approve(jid);
    const sub = this.getState().contacts[jid]?.subscription;
    if (sub !== 'to' && sub !== 'both') this.pres.subscribe(jid);
    this.dispatch({ type: 'request-done', jid });
  }

  refuse(jid: string): void {
    this.pres.deny(jid);
    this.dispatch({ type: 'request-done', jid });
  }

  async block(jid: string): Promise<void> { await this.blocking.block(jid); }
  async unblock(jid: string): Promise<void> { await this.blocking.unblock(jid); }

  /** Load the previous page of the archive with this peer (XEP-0313 §4 with RSM paging backwards). */
  async loadHistory(peer: string): Promise<void> {
    const conv = this.getState().conversations[peer];
    if (conv?.history.complete) return;
    try {
      const page = await this.mam.query({ with: peer, before: conv?.history.oldest ?? '', max: HISTORY_PAGE });
      const me = this.me();
      const lines = page.messages.flatMap((a: ArchivedMessage) => {
        const body = a.message.getChildText('body');
        if (body === undefined) return [];
        const outgoing = bare(a.message.attr('from') ?? me) === me;
        const stamp = a.stamp ? Date.parse(a.stamp) : Date.now();
        return [this.line(a.message, body, outgoing, Number.isFinite(stamp) ? stamp : Date.now())];
      });
      this.dispatch({ type: 'history', peer, lines, oldest: page.first, complete: page.complete || page.messages.length === 0 });
    } catch {
      // No archive on this server (or not for us): the conversation starts with what arrives live.
      this.dispatch({ type: 'history', peer, lines: [], oldest: undefined, complete: true });
    }
  }

  async joinRoom(room: string, nick: string): Promise<void> {
    const jid = bare(room).toLowerCase();
    this.dispatch({ type: 'room', jid, nick, joined: false });
    // XEP-0045 §10.1.2: a room we create is locked (201) until configured; accept the defaults
    // (an "instant room"). The library's MUC plugin does not do this itself.
    let created = false;
    const off = this.client.on('presence', (p) => {
      if (bare(p.attr('from') ?? '') !== jid) return;
      const codes = p.getChild('x', NS_MUC_USER)?.getChildren('status', NS_MUC_USER).map((s) => s.attr('code')) ?? [];
      if (codes.includes('201')) created = true;
    });
    try {
      await this.muc.join(jid, nick, { maxHistory: 20, timeout: 20000 });
      if (created) await this.client.iq('set', jid, xml('query', NS_MUC_OWNER, {}, xml('x', NS_DATA, { type: 'submit' })));
    } catch (e) {
      this.dispatch({ type: 'room-left', jid });
      throw e;
    } finally { off(); }
  }

  leaveRoom(room: string): void { this.muc.leave(room); this.dispatch({ type: 'room-left', jid: room }); }

  sendRoom(room: string, body: string, oob?: string): void {
    this.muc.send(room, body, oob ? [xml('x', NS_OOB, {}, xml('url', NS_OOB, {}, oob))] : []);
  }

  /** Upload through XEP-0363 and send the link (with XEP-0066 so clients show it as a file). */
  async sendFile(target: { kind: 'chat' | 'room'; jid: string }, file: File): Promise<void> {
    const url = await this.upload.upload(file.name, file, file.type || 'application/octet-stream');
    if (target.kind === 'room') this.sendRoom(target.jid, url, url);
    else this.sendChat(target.jid, url, url);
  }
}
