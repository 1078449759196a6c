// Localpart and resourcepart preparation (RFC 7622 §3.3 and §3.4) with the PRECIS profiles of
// RFC 8265 over the string classes of RFC 8264:
//   - localpart: UsernameCaseMapped (RFC 8265 §3.3): width mapping, case mapping
//     (toLowerCase), NFC, the Bidi Rule, IdentifierClass (RFC 8264 §4.2), then RFC 7622
//     §3.3.1's extra exclusions " & ' / : < > @;
//   - resourcepart: OpaqueString (RFC 8265 §4.2): non-ASCII spaces to U+0020, NFC,
//     FreeformClass (RFC 8264 §4.3); case and width are preserved.
// Both: non-empty, at most 1023 octets of UTF-8 once prepared (RFC 7622 §3.3, §3.4).
//
// Every stanza's 'to' and 'from' pass through here, so each profile has an ASCII fast path
// for the overwhelmingly common case. It returns only when it can prove the full algorithm
// would return the same string; anything unusual (non-ASCII, a disallowed character, a length
// edge) falls through to the full path, so errors always come from one place and read alike.
// precis.test.ts checks fast = full over a corpus of ASCII inputs.
//
// Pure JS (no node: imports) so the same code runs in browser clients.

import { JIDError, MAX_PART_OCTETS, checkLength } from './errors.js';
import { firstDisallowed, precisProperty } from './codepoints.js';
import { bidiRuleViolation, hasRtl } from './bidi.js';

// RFC 7622 §3.3.1: ASCII characters the IdentifierClass allows but a localpart must not hold
// (they are exactly the characters XEP-0106 escapes, less the space already disallowed).
const LOCAL_FORBIDDEN = new Uint8Array(128);
for (const ch of '"&\'/:<>@') LOCAL_FORBIDDEN[ch.charCodeAt(0)] = 1;

// RFC 8265 §3.3.2 rule 1 maps fullwidth and halfwidth code points to their decomposition
// mapping. Exactly the characters whose decomposition is tagged <wide> or <narrow> live in
// U+3000 and the Halfwidth and Fullwidth Forms block U+FF01-U+FFEE; for each of them NFKC is
// that single mapping. (NFKC on the whole string would be wrong: it would also fold
// compatibility characters that the IdentifierClass must reject as HasCompat.)
const WIDE_OR_NARROW = /[\u3000\uff01-\uffee]/gu;
function widthMap(s: string): string {
  return s.replace(WIDE_OR_NARROW, (ch) => ch.normalize('NFKC'));
}

// RFC 8265 §4.2.2 rule 2: "map any instances of non-ASCII space to SPACE (U+0020)".
const NON_ASCII_SPACE = /(?!\u0020)\p{Zs}/gu;

const identifierProperty = (cp: number) => precisProperty(cp, false);
const freeformProperty = (cp: number) => precisProperty(cp, true);

// ---- localpart -------------------------------------------------------------------------------

/** The ASCII fast path of enforceLocalpart, or undefined to take the full path. */
function fastLocal(s: string): string | undefined {
  const n = s.length;
  if (n === 0 || n > MAX_PART_OCTETS) return undefined;
  let upper = false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // ASCII7 (U+0021-U+007E) is PVALID in the IdentifierClass (RFC 8264 §9.11); space,
    // controls and DEL are not, and non-ASCII needs the full analysis.
    if (c <= 0x20 || c >= 0x7f || LOCAL_FORBIDDEN[c] === 1) return undefined;
    if (c >= 0x41 && c <= 0x5a) upper = true;
  }
  // ASCII is NFC already, has no width forms, and no R/AL/AN character, so only case maps.
  return upper ? s.toLowerCase() : s;
}

/**
 * UsernameCaseMapped enforcement (RFC 8265 §3.3.3) plus RFC 7622 §3.3.1, without the fast
 * path. Exported for tests; use prepareLocal.
 */
export function enforceLocalpart(input: string): string {
  if (input === '') throw new JIDError('empty localpart');
  // Rules 1 (width), 3 (case: Unicode toLowerCase, which is what String#toLowerCase is,
  // locale-independent and with the Final_Sigma context) and 4 (NFC), in the order of
  // RFC 8264 §7. They are repeated until the string no longer changes, so that preparing a
  // prepared localpart again is the identity (PRECIS enforcement is meant to be idempotent,
  // and a stored canonical JID must compare equal to itself re-parsed).
  let s = input;
  for (let round = 0; ; round++) {
    const next = widthMap(s).toLowerCase().normalize('NFC');
    if (next === s) break;
    if (round === 3) throw new JIDError('localpart does not stabilise under preparation');
    s = next;
  }
  const why = firstDisallowed(s, identifierProperty);
  if (why !== undefined) throw new JIDError(`localpart: ${why}; RFC 8264 IdentifierClass`);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128 && LOCAL_FORBIDDEN[c] === 1) {
      throw new JIDError(`localpart: character '${s[i]}' is not allowed (RFC 7622 §3.3.1)`);
    }
  }
  // Rule 5: the Bidi Rule, for strings containing right-to-left characters.
  if (hasRtl(s)) {
    const bidi = bidiRuleViolation(s);
    if (bidi !== undefined) throw new JIDError(`localpart: ${bidi} (RFC 5893)`);
  }
  checkLength('localpart', s);
  return s;
}

/** Prepares and enforces a (non-empty) localpart; throws JIDError naming the reason. */
export function prepareLocal(input: string): string {
  return fastLocal(input) ?? enforceLocalpart(input);
}

// ---- resourcepart ----------------------------------------------------------------------------

/** The ASCII fast path of enforceResourcepart, or undefined to take the full path. */
function fastResource(s: string): string | undefined {
  const n = s.length;
  if (n === 0 || n > MAX_PART_OCTETS) return undefined;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    // U+0020-U+007E are all PVALID in the FreeformClass and unchanged by OpaqueString.
    if (c < 0x20 || c >= 0x7f) return undefined;
  }
  return s;
}

/**
 * OpaqueString enforcement (RFC 8265 §4.2.3) for a resourcepart, without the fast path.
 * Exported for tests; use prepareResource.
 */
export function enforceResourcepart(input: string): string {
  if (input === '') throw new JIDError('empty resourcepart');
  // Rule 2 (non-ASCII spaces) then rule 4 (NFC); no width, case or directionality rule.
  // Neither step can produce input for the other, so one pass is already idempotent.
  const s = input.replace(NON_ASCII_SPACE, ' ').normalize('NFC');
  const why = firstDisallowed(s, freeformProperty);
  if (why !== undefined) throw new JIDError(`resourcepart: ${why}; RFC 8264 FreeformClass`);
  checkLength('resourcepart', s);
  return s;
}

/** Prepares and enforces a (non-empty) resourcepart; throws JIDError naming the reason. */
export function prepareResource(input: string): string {
  return fastResource(input) ?? enforceResourcepart(input);
}
