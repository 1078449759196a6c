// The state of one room (XEP-0045 §5–§7): configuration, affiliations (by bare JID), occupants
// (by nickname, each with one or more real sessions: §7.2.? multi-session joins share a nick),
// subject, discussion history, the lock of a newly created room (§10.1.1), and the per-room
// secret XEP-0421 occupant ids are derived from. Handlers run one at a time per room (run()),
// so a stanza sees the room as the previous stanza left it even across awaited sends.

import { createHmac, randomBytes } from 'node:crypto';
import type { Element } from '@magpie/core/xml/element';
import type { JID } from '@magpie/core/jid/jid';
import type { RoomConfig, Role } from './config.js';
import type { Affiliation } from './roles.js';

export interface Occupant {
  nick: string;
  /** Real bare JID. */
  bare: string;
  /** Real full JID → the last presence that session sent (its show/status/caps children). */
  sessions: Map<string, Element>;
  role: Role;
  /** XEP-0421 id, stable for this bare JID in this room. */
  id: string;
}

export interface AffiliationRecord { affiliation: Exclude<Affiliation, 'none'>; nick?: string; reason?: string }

export interface HistoryEntry { stanza: Element; when: number; chars: number }

export interface Subject { text: string; by: string; when: number }

export class Room {
  config: RoomConfig;
  readonly affiliations = new Map<string, AffiliationRecord>();
  readonly occupants = new Map<string, Occupant>();
  /** Real full JID → occupant. */
  readonly byReal = new Map<string, Occupant>();
  subject: Subject = { text: '', by: '', when: 0 };
  history: HistoryEntry[] = [];
  /** Created and not yet configured by its owner (§10.1.1): nobody else may enter. */
  locked = false;
  destroyed = false;
  readonly secret: string;
  readonly createdAt: number;
  private queue: Promise<unknown> = Promise.resolve();
  private ids = new Map<string, string>();

  /** Service-wide index of real full JID → rooms it is in (ghost removal on session close). */
  index: Map<string, Set<Room>> | undefined;

  constructor(readonly jid: JID, config: RoomConfig, opts: { secret?: string; createdAt?: number } = {}) {
    this.config = config;
    this.secret = opts.secret ?? randomBytes(32).toString('base64');
    this.createdAt = opts.createdAt ?? Date.now();
  }

  get node(): string { return this.jid.local; }
  get address(): string { return this.jid.toString(); }
  occupantJid(nick: string): string { return `${this.address}/${nick}`; }

  /** Serialise handlers of this room; an exception fails only its own stanza. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  affiliation(bare: string): Affiliation { return this.affiliations.get(bare)?.affiliation ?? 'none'; }

  setAffiliation(bare: string, a: Affiliation, reason?: string): void {
    if (a === 'none') { this.affiliations.delete(bare); return; }
    const prev = this.affiliations.get(bare);
    const rec: AffiliationRecord = { affiliation: a };
    if (prev?.nick) rec.nick = prev.nick;
    if (reason) rec.reason = reason;
    this.affiliations.set(bare, rec);
  }

  owners(): string[] { return [...this.affiliations].filter(([, r]) => r.affiliation === 'owner').map(([j]) => j); }

  /** XEP-0421 §3: an HMAC of the real bare JID under a room secret: stable, unlinkable across rooms. */
  occupantId(bare: string): string {
    let id = this.ids.get(bare);
    if (!id) {
      id = createHmac('sha256', this.secret).update(bare).digest('base64url').slice(0, 24);
      if (this.ids.size > 10_000) this.ids.clear();
      this.ids.set(bare, id);
    }
    return id;
  }

  occupantsOf(bare: string): Occupant[] { return [...this.occupants.values()].filter((o) => o.bare === bare); }

  /** Every real full JID of every occupant, with its occupant. */
  *sessions(): Iterable<[string, Occupant]> { yield* this.byReal; }

  moderators(): Occupant[] { return [...this.occupants.values()].filter((o) => o.role === 'moderator'); }

  addSession(o: Occupant, real: string, presence: Element): void {
    o.sessions.set(real, presence);
    this.byReal.set(real, o);
    if (this.index) { let set = this.index.get(real); if (!set) this.index.set(real, set = new Set()); set.add(this); }
    this.occupants.set(o.nick, o);
  }

  /** Remove one session; returns true when that was the occupant's last one. */
  removeSession(o: Occupant, real: string): boolean {
    o.sessions.delete(real);
    this.byReal.delete(real);
    this.unindex(real);
    if (o.sessions.size > 0) return false;
    this.occupants.delete(o.nick);
    return true;
  }

  removeOccupant(o: Occupant): void {
    for (const real of o.sessions.keys()) { this.byReal.delete(real); this.unindex(real); }
    o.sessions.clear();
    this.occupants.delete(o.nick);
  }

  private unindex(real: string): void {
    const set = this.index?.get(real);
    if (!set) return;
    set.delete(this);
    if (set.size === 0) this.index!.delete(real);
  }

  /** The presence an occupant shows: the one its most recent session sent. */
  presenceOf(o: Occupant): Element | undefined {
    let last: Element | undefined;
    for (const p of o.sessions.values()) last = p;
    return last;
  }
}
