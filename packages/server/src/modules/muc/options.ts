// The MUC service's options (modules.options.muc): every limit configurable with a safe default.

import { z } from 'zod';

export const MucOptionsSchema = z.object({
  /** Service domain; {host} is replaced by each hosted domain. */
  domain: z.string().default('conference.{host}'),
  /** Name shown in disco. */
  name: z.string().default('Chatrooms'),
  /** Who may create rooms: 'local' (this server's users), 'admins' (the `admins` list), 'anyone'. */
  createRooms: z.enum(['local', 'admins', 'anyone']).default('local'),
  /** Bare JIDs with owner powers in every room (and room creation when createRooms is 'admins'). */
  admins: z.array(z.string()).default([]),
  /** Most rooms one service holds (existing rooms, temporary and persistent). */
  maxRooms: z.number().int().min(1).default(10_000),
  /** Most rooms one user may create (those it still owns in memory). */
  maxRoomsPerUser: z.number().int().min(1).default(100),
  /** muc#roomconfig_maxusers of a new room, and the most an owner may set. */
  defaultMaxUsers: z.number().int().min(1).default(200),
  maxUsersLimit: z.number().int().min(1).default(5000),
  /** Messages of history a new room keeps, and the most an owner may set. */
  defaultHistory: z.number().int().min(0).default(20),
  maxHistory: z.number().int().min(0).default(200),
  /** Largest groupchat or private message (serialised bytes) a room relays. */
  maxMessageBytes: z.number().int().min(256).default(32_768),
  /** Longest nickname (characters). */
  maxNickLength: z.number().int().min(1).max(1023).default(64),
  /** Offer muc#roomconfig_enablelogging: groupchat is appended to the room archive. */
  allowLogging: z.boolean().default(true),
  /** XEP-0045 §7.10: users may register with rooms (jabber:iq:register) to reserve a nickname. */
  registration: z.boolean().default(true),
  /** Most registered (reserved) nicknames one room holds. */
  maxRegistrationsPerRoom: z.number().int().min(1).default(1000),
}).strict();

export type MucOptions = z.infer<typeof MucOptionsSchema>;
