// Roles and affiliations (XEP-0045 §5): their ranks, the role an affiliation enters with
// (§5.1.2 table), and who may change whose role or affiliation (§5.1.1, §5.2.1 tables, the
// "higher affiliation" rules of §8.2, §9.1 and the owner-only rules of §10).

import type { Role, RoomConfig } from './config.js';

export type Affiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';
export const AFFILIATIONS: Affiliation[] = ['owner', 'admin', 'member', 'none', 'outcast'];
export const ROLES: Role[] = ['moderator', 'participant', 'visitor', 'none'];

const AFF_RANK: Record<Affiliation, number> = { owner: 4, admin: 3, member: 2, none: 1, outcast: 0 };
const ROLE_RANK: Record<Role, number> = { moderator: 3, participant: 2, visitor: 1, none: 0 };

export const affRank = (a: Affiliation): number => AFF_RANK[a];
export const roleRank = (r: Role): number => ROLE_RANK[r];

export function isAffiliation(s: string | undefined): s is Affiliation { return !!s && Object.hasOwn(AFF_RANK, s); }
export function isRole(s: string | undefined): s is Role { return !!s && Object.hasOwn(ROLE_RANK, s); }

/** §5.1.2: the role an occupant gets when entering, from its affiliation and the room type. */
export function defaultRole(a: Affiliation, c: RoomConfig): Role {
  if (a === 'owner' || a === 'admin') return 'moderator';
  if (a === 'outcast') return 'none';
  if (a === 'member') return 'participant';
  return c.moderated ? 'visitor' : 'participant';
}

/**
 * May an actor with (actorAff, actorRole) set `targetRole` on an occupant with (targetAff,
 * targetRole)? §8.2–§8.6: moderators kick and give/take voice; only admins/owners
 * grant or revoke moderator; nobody acts on an occupant of higher affiliation, and admins
 * and owners cannot be kicked or lose moderator by role change (§8.2, §9.7).
 */
export function canSetRole(actorAff: Affiliation, actorRole: Role, targetAff: Affiliation, curRole: Role, newRole: Role): 'ok' | 'forbidden' | 'not-allowed' {
  if (actorRole !== 'moderator') return 'forbidden';
  if (targetAff === 'owner' || targetAff === 'admin') {
    if (newRole !== 'moderator') return 'not-allowed';
  }
  if (affRank(targetAff) > affRank(actorAff)) return 'not-allowed';
  if (newRole === 'moderator' || curRole === 'moderator') {
    if (affRank(actorAff) < AFF_RANK.admin) return 'forbidden';
  }
  return 'ok';
}

/** §9 and §10: admins manage members and outcasts below admin; owners manage everything. */
export function canSetAffiliation(actorAff: Affiliation, targetAff: Affiliation, newAff: Affiliation): 'ok' | 'forbidden' | 'not-allowed' {
  if (actorAff === 'owner') return 'ok';
  if (actorAff !== 'admin') return 'forbidden';
  if (newAff === 'owner' || newAff === 'admin') return 'forbidden';
  if (targetAff === 'owner' || targetAff === 'admin') return 'not-allowed';
  return 'ok';
}

/** Who may retrieve an affiliation list (§9.5 members/outcasts, §10.5 owners, §10.8 admins). */
export function canListAffiliation(list: Affiliation, actorAff: Affiliation, actorRole: Role, c: RoomConfig): boolean {
  if (affRank(actorAff) >= AFF_RANK.admin) return true;
  return list === 'member' && actorRole !== 'none' && c.getMemberList.includes(actorRole);
}

/** Who may retrieve a role list (§8.5 voice list, §9.9 moderator list): moderators. */
export function canListRole(actorRole: Role): boolean { return actorRole === 'moderator'; }
