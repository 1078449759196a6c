// The in-band registration module's options (modules.options.register, XEP-0077): account
// creation is off unless the operator names the hosts that allow it; password changes and
// cancellation are on. Every limit has a safe default (XEP-0077 §8 leaves them to the deployment).

import { z } from 'zod';
import { isIP } from 'node:net';

const addressOrBlock = z.string().refine((t) => {
  const [a, b, ...rest] = t.split('/');
  const family = isIP(a ?? '');
  return family !== 0 && rest.length === 0 && (b === undefined || (/^\d{1,3}$/.test(b) && Number(b) <= (family === 4 ? 32 : 128)));
}, 'expected an IP address or CIDR block');

export const RegisterOptionsSchema = z.object({
  /** Hosts on which anyone may create an account in-band (§3.1); '*' for every hosted domain.
      Empty (the default): no account creation, only the CLI's `magpie adduser`. */
  registrationHosts: z.array(z.string().min(1)).default([]),
  /** The <instructions/> of the registration form. */
  instructions: z.string().min(1).max(2000).default('Choose a username and password for use with this server.'),
  /** Longest username (characters, after PRECIS UsernameCaseMapped preparation). */
  maxUsernameLength: z.number().int().min(1).max(1023).default(64),
  /** Shortest and longest password (characters) for new accounts and password changes. */
  minPasswordLength: z.number().int().min(1).max(1024).default(8),
  maxPasswordLength: z.number().int().min(1).max(4096).default(1024),
  /** Accounts one client address may create in `windowSeconds` (IPv6: one per ipv6Prefix block). */
  maxPerAddress: z.number().int().min(1).default(3),
  windowSeconds: z.number().int().positive().default(3600),
  /** IPv6 clients are counted per block of this prefix length (one subscriber usually holds a /64). */
  ipv6Prefix: z.number().int().min(16).max(128).default(64),
  /** Refused registration attempts on one connection before it may try no more (§3.1.1). */
  maxAttemptsPerConnection: z.number().int().min(1).max(100).default(5),
  /** When non-empty, only clients from these addresses or CIDR blocks may create accounts. */
  allowFrom: z.array(addressOrBlock).default([]),
  /** §3.3: an authenticated user may change its password. */
  passwordChange: z.boolean().default(true),
  /** After a password change, the account's other sessions are closed with a <reset/> stream
      error (their credentials are no longer valid); false keeps them. */
  closeOtherSessions: z.boolean().default(true),
  /** §3.2: an authenticated user may delete its account. */
  cancellation: z.boolean().default(true),
}).strict().refine((o) => o.maxPasswordLength >= o.minPasswordLength, { message: 'maxPasswordLength must be at least minPasswordLength', path: ['maxPasswordLength'] });

export type RegisterOptions = z.infer<typeof RegisterOptionsSchema>;
