// The web client's state and the one reducer that changes it. Pure (no DOM, no XMPP): the
// session controller (session.ts) turns library events into actions, the UI renders the state.
// Conversations are keyed by bare JID; lines are deduplicated by message id because the same
// message can arrive live, as a carbon (XEP-0280) and again from the archive (XEP-0313).

export type Show = 'chat' | 'available' | 'away' | 'xa' | 'dnd' | 'offline';
export type OwnShow = 'available' | 'away' | 'dnd';
export type ConnStatus = 'offline' | 'connecting' | 'online' | 'reconnecting' | 'disconnecting';
export type ChatState = 'active' | 'composing' | 'paused' | 'inactive' | 'gone';

export interface Contact {
  jid: string;
  name: string | undefined;
  subscription: 'none' | 'to' | 'from' | 'both';
  /** We asked to see their presence and wait for an answer. */
  ask: boolean;
  show: Show;
  status: string | undefined;
}

export interface Line {
  id: string;
  /** Bare JID of the author (chat) or the nick (room). */
  from: string;
  body: string;
  outgoing: boolean;
  /** Milliseconds since the epoch. */
  stamp: number;
  /** An attached file URL (XEP-0066 out-of-band data, as sent with XEP-0363 uploads). */
  oob?: string;
  /** 'error' when the server bounced it, 'system' for notices such as "you blocked …". */
  kind?: 'error' | 'system';
}

export interface Conversation {
  jid: string;
  lines: Line[];
  unread: number;
  /** The peer's last chat state (XEP-0085). */
  peerState: ChatState | undefined;
  /** Archive paging (XEP-0313 with RSM): the oldest archive id loaded; complete when none older. */
  history: { loaded: boolean; oldest: string | undefined; complete: boolean };
}

export interface RoomView {
  jid: string;
  nick: string;
  joined: boolean;
  subject: string | undefined;
  occupants: string[];
  lines: Line[];
  unread: number;
}

export interface View { kind: 'chat' | 'room'; jid: string }

export interface State {
  status: ConnStatus;
  /** Reconnection attempt number while reconnecting. */
  attempt: number;
  me: string | undefined;
  own: { show: OwnShow; status: string };
  contacts: Record<string, Contact>;
  /** Presence by bare JID, also for JIDs not (yet) in the roster: after login, presence and the
      roster result race, and presence that arrived first must not be lost. */
  presences: Record<string, { show: Show; status: string | undefined }>;
  /** Bare JIDs asking to see our presence. */
  requests: string[];
  conversations: Record<string, Conversation>;
  rooms: Record<string, RoomView>;
  blocked: string[];
  active: View | undefined;
  /** A message for the user (login failure, an action that failed). */
  notice: string | undefined;
}

export const initialState: State = {
  status: 'offline', attempt: 0, me: undefined, own: { show: 'available', status: '' },
  contacts: {}, presences: {}, requests: [], conversations: {}, rooms: {}, blocked: [], active: undefined, notice: undefined,
};

export type Action =
  | { type: 'status'; status: ConnStatus; attempt?: number }
  | { type: 'online'; jid: string }
  | { type: 'roster'; items: Omit<Contact, 'show' | 'status'>[] }
  | { type: 'roster-item'; item: Omit<Contact, 'show' | 'status'> }
  | { type: 'roster-removed'; jid: string }
  | { type: 'presence'; jid: string; show: Show; status: string | undefined }
  | { type: 'request'; jid: string }
  | { type: 'request-done'; jid: string }
  | { type: 'message'; peer: string; line: Line }
  | { type: 'history'; peer: string; lines: Line[]; oldest: string | undefined; complete: boolean }
  | { type: 'chat-state'; peer: string; state: ChatState }
  | { type: 'open'; view: View }
  | { type: 'close' }
  | { type: 'own'; show: OwnShow; status: string }
  | { type: 'room'; jid: string; nick: string; joined: boolean }
  | { type: 'room-left'; jid: string }
  | { type: 'room-occupants'; jid: string; occupants: string[] }
  | { type: 'room-subject'; jid: string; subject: string }
  | { type: 'room-message'; jid: string; line: Line }
  | { type: 'blocklist'; jids: string[] }
  | { type: 'blocked'; jids: string[] }
  | { type: 'unblocked'; jids: string[] | 'all' }
  | { type: 'notice'; text: string | undefined }
  | { type: 'logout' };

const emptyConversation = (jid: string): Conversation =>
  ({ jid, lines: [], unread: 0, peerState: undefined, history: { loaded: false, oldest: undefined, complete: false } });

/** Insert lines keeping time order, skipping ids already present. */
export function mergeLines(existing: Line[], incoming: Line[]): Line[] {
  const seen = new Set(existing.map((l) => l.id));
  const add = incoming.filter((l) => { if (seen.has(l.id)) return false; seen.add(l.id); return true; });
  if (add.length === 0) return existing;
  // Stable sort: equal stamps keep arrival order.
  return [...existing, ...add].sort((a, b) => a.stamp - b.stamp);
}

const isActive = (s: State, kind: View['kind'], jid: string): boolean => s.active?.kind === kind && s.active.jid === jid;

export function reduce(s: State, a: Action): State {
  switch (a.type) {
    case 'status': return { ...s, status: a.status, attempt: a.attempt ?? (a.status === 'online' ? 0 : s.attempt) };
    case 'online': return { ...s, me: a.jid, notice: undefined };
    case 'roster': {
      const contacts: Record<string, Contact> = {};
      for (const i of a.items) contacts[i.jid] = { ...i, show: s.presences[i.jid]?.show ?? 'offline', status: s.presences[i.jid]?.status };
      return { ...s, contacts };
    }
    case 'roster-item': {
      const p = s.presences[a.item.jid];
      return { ...s, contacts: { ...s.contacts, [a.item.jid]: { ...a.item, show: p?.show ?? 'offline', status: p?.status } } };
    }
    case 'roster-removed': {
      const { [a.jid]: _gone, ...rest } = s.contacts;
      return { ...s, contacts: rest };
    }
    case 'presence': {
      const presences = { ...s.presences, [a.jid]: { show: a.show, status: a.status } };
      const c = s.contacts[a.jid];
      // Presence from someone not in the roster is kept but not listed.
      if (!c) return { ...s, presences };
      return { ...s, presences, contacts: { ...s.contacts, [a.jid]: { ...c, show: a.show, status: a.status } } };
    }
    case 'request': return s.requests.includes(a.jid) ? s : { ...s, requests: [...s.requests, a.jid] };
    case 'request-done': return { ...s, requests: s.requests.filter((j) => j !== a.jid) };
    case 'message': {
      const c = s.conversations[a.peer] ?? emptyConversation(a.peer);
      const lines = mergeLines(c.lines, [a.line]);
      if (lines === c.lines) return s;
      const unread = !a.line.outgoing && a.line.kind === undefined && !isActive(s, 'chat', a.peer) ? c.unread + 1 : c.unread;
      // A message with a body ends the typing notice (XEP-0085 §5.1: it implies <active/>).
      const peerState = a.line.outgoing ? c.peerState : undefined;
      return { ...s, conversations: { ...s.conversations, [a.peer]: { ...c, lines, unread, peerState } } };
    }
    case 'history': {
      const c = s.conversations[a.peer] ?? emptyConversation(a.peer);
      return { ...s, conversations: { ...s.conversations, [a.peer]: {
        ...c, lines: mergeLines(c.lines, a.lines), history: { loaded: true, oldest: a.oldest ?? c.history.oldest, complete: a.complete },
      } } };
    }
    case 'chat-state': {
      const c = s.conversations[a.peer] ?? emptyConversation(a.peer);
      return { ...s, conversations: { ...s.conversations, [a.peer]: { ...c, peerState: a.state } } };
    }
    case 'open': {
      const next = { ...s, active: a.view };
      if (a.view.kind === 'chat') {
        const c = s.conversations[a.view.jid] ?? emptyConversation(a.view.jid);
        next.conversations = { ...s.conversations, [a.view.jid]: { ...c, unread: 0 } };
      } else if (s.rooms[a.view.jid]) {
        next.rooms = { ...s.rooms, [a.view.jid]: { ...s.rooms[a.view.jid]!, unread: 0 } };
      }
      return next;
    }
    case 'close': return { ...s, active: undefined };
    case 'own': return { ...s, own: { show: a.show, status: a.status } };
    case 'room': {
      const r = s.rooms[a.jid];
      return { ...s, rooms: { ...s.rooms, [a.jid]: r ? { ...r, nick: a.nick, joined: a.joined }
        : { jid: a.jid, nick: a.nick, joined: a.joined, subject: undefined, occupants: [], lines: [], unread: 0 } } };
    }
    case 'room-left': {
      const { [a.jid]: _gone, ...rest } = s.rooms;
      return { ...s, rooms: rest, active: isActive(s, 'room', a.jid) ? undefined : s.active };
    }
    case 'room-occupants': {
      const r = s.rooms[a.jid];
      return r ? { ...s, rooms: { ...s.rooms, [a.jid]: { ...r, occupants: [...a.occupants].sort((x, y) => x.localeCompare(y)) } } } : s;
    }
    case 'room-subject': {
      const r = s.rooms[a.jid];
      return r ? { ...s, rooms: { ...s.rooms, [a.jid]: { ...r, subject: a.subject } } } : s;
    }
    case 'room-message': {
      const r = s.rooms[a.jid];
      if (!r) return s;
      const lines = mergeLines(r.lines, [a.line]);
      if (lines === r.lines) return s;
      const unread = !a.line.outgoing && !isActive(s, 'room', a.jid) ? r.unread + 1 : r.unread;
      return { ...s, rooms: { ...s.rooms, [a.jid]: { ...r, lines, unread } } };
    }
    case 'blocklist': return { ...s, blocked: [...new Set(a.jids)] };
    case 'blocked': return { ...s, blocked: [...new Set([...s.blocked, ...a.jids])] };
    case 'unblocked': return { ...s, blocked: a.jids === 'all' ? [] : s.blocked.filter((j) => !(a.jids as string[]).includes(j)) };
    case 'notice': return { ...s, notice: a.text };
    case 'logout': return { ...initialState };
  }
}

export interface ContactEntry {
  jid: string;
  label: string;
  show: Show;
  status: string | undefined;
  unread: number;
  blocked: boolean;
  /** Not in the roster: someone who wrote to us. */
  stranger: boolean;
  pending: boolean;
}

const SHOW_RANK: Record<Show, number> = { chat: 0, available: 0, away: 1, xa: 2, dnd: 1, offline: 3 };

/** The sidebar list: roster contacts plus people we have a conversation with, online ones first. */
export function contactList(s: State): ContactEntry[] {
  const out = new Map<string, ContactEntry>();
  for (const c of Object.values(s.contacts)) {
    out.set(c.jid, {
      jid: c.jid, label: c.name || c.jid, show: c.show, status: c.status, unread: s.conversations[c.jid]?.unread ?? 0,
      blocked: s.blocked.includes(c.jid), stranger: false, pending: c.ask && c.subscription !== 'to' && c.subscription !== 'both',
    });
  }
  for (const conv of Object.values(s.conversations)) {
    if (out.has(conv.jid) || conv.lines.length === 0) continue;
    out.set(conv.jid, { jid: conv.jid, label: conv.jid, show: s.presences[conv.jid]?.show ?? 'offline', status: s.presences[conv.jid]?.status, unread: conv.unread, blocked: s.blocked.includes(conv.jid), stranger: true, pending: false });
  }
  return [...out.values()].sort((a, b) => SHOW_RANK[a.show] - SHOW_RANK[b.show] || a.label.localeCompare(b.label));
}

/** Total unread, for the document title. */
export function unreadTotal(s: State): number {
  let n = 0;
  for (const c of Object.values(s.conversations)) n += c.unread;
  for (const r of Object.values(s.rooms)) n += r.unread;
  return n;
}
