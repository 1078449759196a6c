// Multi-User Chat (XEP-0045 v1.35): join (§7.2: presence to room/nick with <x/>, optional
// password and history limits; joined when our own presence comes back with status 110), leave
// (§7.14), groupchat messages (§7.4), subject (§8.1), the occupant list kept from presence, and
// instant rooms (§10.1.2: a room we just created, status 201, stays locked until its owner accepts
// the default configuration).

import { xml, type Element } from '@magpie/core/xml/element';
import { JID } from '@magpie/core/jid/jid';
import { NS } from '@magpie/core/protocol/namespaces';
import type { Client } from '../client.js';
import { Emitter } from '../emitter.js';
import { TimeoutError, XmppError } from '../errors.js';
import { newId } from '../iq.js';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';

export interface Occupant { nick: string; jid: string | undefined; affiliation: string; role: string; show: string | undefined; status: string | undefined }
export interface Room { jid: string; nick: string; joined: boolean; subject: string | undefined; occupants: Map<string, Occupant> }

export interface MucEvents {
  [k: string]: unknown[];
  joined: [room: Room];
  left: [room: Room];
  occupant: [info: { room: string; occupant: Occupant; left: boolean }];
  message: [info: { room: string; nick: string; body: string; id: string | undefined; delayed: boolean; element: Element }];
  subject: [info: { room: string; subject: string; nick: string }];
}

export class Muc extends Emitter<MucEvents> {
  readonly rooms = new Map<string, Room>();

  constructor(private readonly client: Client) {
    super();
    client.features.add(NS_MUC);
    client.on('presence', (p) => this.onPresence(p));
    client.on('message', (m) => this.onMessage(m));
    // A new session is not in any room any more (XEP-0045 §7.2 occupancy is per session): rejoin.
    client.on('online', ({ resumed }) => {
      if (resumed) return;
      for (const r of this.rooms.values()) { r.joined = false; r.occupants.clear(); this.sendJoin(r.jid, r.nick, undefined, 0); }
    });
  }

  /** Join and wait for our own presence (status 110) or an error. */
  async join(room: string, nick: string, o: { password?: string; maxHistory?: number; timeout?: number; instant?: boolean } = {}): Promise<Room> {
    const jid = JID.parse(room).bareString();
    const r: Room = { jid, nick, joined: false, subject: undefined, occupants: new Map() };
    this.rooms.set(jid, r);
    const done = new Promise<Room>((resolve, reject) => {
      const timer = setTimeout(() => { off(); reject(new TimeoutError('joining ' + jid, o.timeout ?? 30000)); }, o.timeout ?? 30000);
      const off = this.client.on('presence', (p) => {
        const from = JID.tryParse(p.attr('from'));
        if (!from || from.bareString() !== jid) return;
        if (p.attr('type') === 'error') { clearTimeout(timer); off(); this.rooms.delete(jid); reject(XmppError.fromStanza(p)); return; }
        if (isSelf(p)) { clearTimeout(timer); off(); resolve(r); created = hasStatus(p, '201'); }
      });
    });
    let created = false;
    this.sendJoin(jid, nick, o.password, o.maxHistory);
    await done;
    if (created && o.instant !== false) {
      await this.client.iq('set', jid, xml('query', NS_MUC_OWNER, {}, xml('x', NS.DATA_FORMS, { type: 'submit' })));
    }
    return r;
  }

  leave(room: string, status?: string): void {
    const r = this.rooms.get(JID.parse(room).bareString());
    if (!r) return;
    this.client.send(xml('presence', NS.CLIENT, { to: `${r.jid}/${r.nick}`, type: 'unavailable' }, status ? xml('status', NS.CLIENT, {}, status) : undefined));
  }

  send(room: string, body: string, extra: Element[] = []): string {
    const id = newId();
    this.client.send(xml('message', NS.CLIENT, { to: JID.parse(room).bareString(), type: 'groupchat', id }, xml('body', NS.CLIENT, {}, body), ...extra));
    return id;
  }

  setSubject(room: string, subject: string): void {
    this.client.send(xml('message', NS.CLIENT, { to: JID.parse(room).bareString(), type: 'groupchat' }, xml('subject', NS.CLIENT, {}, subject)));
  }

  private sendJoin(jid: string, nick: string, password: string | undefined, maxHistory: number | undefined): void {
    this.client.send(xml('presence', NS.CLIENT, { to: `${jid}/${nick}` },
      xml('x', NS_MUC, {},
        password ? xml('password', NS_MUC, {}, password) : undefined,
        maxHistory !== undefined ? xml('history', NS_MUC, { maxstanzas: maxHistory }) : undefined)));
  }

  private onPresence(p: Element): void {
    const from = JID.tryParse(p.attr('from'));
    const r = from && this.rooms.get(from.bareString());
    if (!r || !from.resource) return;
    const x = p.getChild('x', NS_MUC_USER);
    const item = x?.getChild('item', NS_MUC_USER);
    const left = p.attr('type') === 'unavailable';
    if (p.attr('type') === 'error') return;
    const occ: Occupant = {
      nick: from.resource, jid: item?.attr('jid'), affiliation: item?.attr('affiliation') ?? 'none', role: item?.attr('role') ?? 'none',
      show: p.getChildText('show'), status: p.getChildText('status'),
    };
    if (left) r.occupants.delete(occ.nick); else r.occupants.set(occ.nick, occ);
    this.emit('occupant', { room: r.jid, occupant: occ, left });
    if (isSelf(p)) {
      if (left) { r.joined = false; this.rooms.delete(r.jid); this.emit('left', r); }
      else if (!r.joined) { r.joined = true; r.nick = occ.nick; this.emit('joined', r); }
    }
  }

  private onMessage(m: Element): void {
    if (m.attr('type') !== 'groupchat') return;
    const from = JID.tryParse(m.attr('from'));
    const r = from && this.rooms.get(from.bareString());
    if (!r) return;
    const subject = m.getChildText('subject');
    if (subject !== undefined && m.getChild('body') === undefined) {
      r.subject = subject;
      this.emit('subject', { room: r.jid, subject, nick: from.resource });
      return;
    }
    const body = m.getChildText('body');
    if (body !== undefined) this.emit('message', { room: r.jid, nick: from.resource, body, id: m.attr('id'), delayed: m.getChild('delay', NS.DELAY) !== undefined, element: m });
  }
}

function hasStatus(p: Element, code: string): boolean {
  return (p.getChild('x', NS_MUC_USER)?.getChildren('status', NS_MUC_USER) ?? []).some((s) => s.attr('code') === code);
}
const isSelf = (p: Element): boolean => hasStatus(p, '110');

export const muc = (client: Client): Muc => new Muc(client);
