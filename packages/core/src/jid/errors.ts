// The error every JID preparation step throws (RFC 7622 §3: a JID that fails any part's
// profile is invalid), plus the small helpers the part-preparing modules share.
//
// JIDError lives here rather than in jid.ts because jid.ts imports precis.ts and domain.ts,
// which throw it: keeping it in a leaf module avoids an import cycle. jid.ts re-exports it, so
// callers keep importing it from './jid.js'.

export class JIDError extends Error {
  constructor(message: string) { super(message); this.name = 'JIDError'; }
}

/** Each part of a JID is at most 1023 octets of UTF-8 once prepared (RFC 7622 §3.2-§3.4). */
export const MAX_PART_OCTETS = 1023;

/**
 * Octets of `s` as UTF-8, counted without allocating (TextEncoder would copy the string on
 * every stanza). A lone surrogate counts 3, as the WHATWG encoder would write U+FFFD; such a
 * string is rejected by the profiles anyway.
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length &&
             (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { n += 4; i++; }
    else n += 3;
  }
  return n;
}

/** "U+00E9" style name of a code point, for error messages. */
export function cpName(cp: number): string {
  return 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
}

/** Throws unless the prepared part fits RFC 7622's 1023-octet limit. */
export function checkLength(part: string, s: string): void {
  const n = utf8Length(s);
  if (n > MAX_PART_OCTETS) throw new JIDError(`${part} is ${n} octets, more than ${MAX_PART_OCTETS}`);
}
