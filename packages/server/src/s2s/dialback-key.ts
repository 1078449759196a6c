// Dialback keys (XEP-0220 §2.1.1 with the generation method of XEP-0185 §3):
//   key = HEX( HMAC-SHA256( HEX(SHA256(secret)), receiving + ' ' + originating + ' ' + streamId ) )
// (the XEP's worked example keys the HMAC with the hex form of the hashed secret; so do we).
// Only the authoritative server (this one, for its own domains) can recompute a key, so a
// receiving server learns whether a db:result really came from us by asking (db:verify).

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export class DialbackKeys {
  private readonly hashedSecret: string;

  constructor(secret: string = randomBytes(32).toString('hex')) {
    this.hashedSecret = createHash('sha256').update(secret, 'utf8').digest('hex');
  }

  generate(receiving: string, originating: string, streamId: string): string {
    return createHmac('sha256', this.hashedSecret).update(`${receiving} ${originating} ${streamId}`, 'utf8').digest('hex');
  }

  /** Compare in constant time: the key is a secret-derived MAC. */
  verify(receiving: string, originating: string, streamId: string, key: string): boolean {
    const want = Buffer.from(this.generate(receiving, originating, streamId), 'utf8');
    const got = Buffer.from(key.trim().toLowerCase(), 'utf8');
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
