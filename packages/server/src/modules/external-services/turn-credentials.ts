// Time-limited TURN credentials, the "TURN REST API" shared-secret scheme
// (draft-uberti-behave-turn-rest-00 §2.2, implemented by coturn's `use-auth-secret` and other
// TURN servers): username = "<expiry unix seconds>:<user id>", password =
// base64(HMAC-SHA1(shared secret, username)). The TURN server recomputes the password from the
// username with the same secret and refuses it after the expiry, so no state is shared.

import { createHmac } from 'node:crypto';

export interface TurnCredentials { username: string; password: string; expires: Date }

export function turnCredentials(secret: string, userId: string, ttlSeconds: number, now = Date.now()): TurnCredentials {
  const expiry = Math.floor(now / 1000) + ttlSeconds;
  const username = `${expiry}:${userId}`;
  const password = createHmac('sha1', secret).update(username).digest('base64');
  return { username, password, expires: new Date(expiry * 1000) };
}
