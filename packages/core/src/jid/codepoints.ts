// Per-code-point derived properties and contextual rules shared by the PRECIS profiles
// (localpart, resourcepart) and IDNA2008 (domainpart):
//   - RFC 8264 §8 (derived property algorithm) with the categories of §9, giving the value of a
//     code point in the IdentifierClass (§4.2) and the FreeformClass (§4.3);
//   - RFC 5892 §3 (IDNA2008 derived property) for U-labels;
//   - RFC 5892 §2.6 exceptions and Appendix A contextual rules (CONTEXTJ / CONTEXTO), which both
//     of the above use.
// Everything is computed from the JS engine's Unicode tables (RegExp property escapes and
// String.prototype.normalize) instead of shipping tables, so the results follow the engine's
// Unicode version; in particular "unassigned" (\p{Cn}) shrinks as engines upgrade, which PRECIS
// expects (derived values are defined per Unicode version). Pure JS, no node: imports, so it
// also runs in browsers.

import { cpName } from './errors.js';

export type Derived = 'PVALID' | 'CONTEXTJ' | 'CONTEXTO' | 'DISALLOWED' | 'UNASSIGNED';

// RFC 5892 §2.6 (F): exceptions, consulted before any other rule by both RFC 8264 and 5892.
const EXCEPTIONS = new Map<number, Derived>([
  [0x00df, 'PVALID'], [0x03c2, 'PVALID'], [0x06fd, 'PVALID'], [0x06fe, 'PVALID'],
  [0x0f0b, 'PVALID'], [0x3007, 'PVALID'],
  [0x00b7, 'CONTEXTO'], [0x0375, 'CONTEXTO'], [0x05f3, 'CONTEXTO'], [0x05f4, 'CONTEXTO'],
  [0x30fb, 'CONTEXTO'],
  [0x0640, 'DISALLOWED'], [0x07fa, 'DISALLOWED'], [0x302e, 'DISALLOWED'], [0x302f, 'DISALLOWED'],
  [0x3031, 'DISALLOWED'], [0x3032, 'DISALLOWED'], [0x3033, 'DISALLOWED'], [0x3034, 'DISALLOWED'],
  [0x3035, 'DISALLOWED'], [0x303b, 'DISALLOWED'],
]);
for (let cp = 0x0660; cp <= 0x0669; cp++) EXCEPTIONS.set(cp, 'CONTEXTO');
for (let cp = 0x06f0; cp <= 0x06f9; cp++) EXCEPTIONS.set(cp, 'CONTEXTO');

const RE_UNASSIGNED = /\p{Cn}/u;                       // §9.6 (J), noncharacters caught first
const RE_NONCHAR = /\p{Noncharacter_Code_Point}/u;
const RE_DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const RE_CONTROL = /\p{Cc}/u;                          // §9.12 (L)
const RE_LETTER_DIGITS = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u;  // §9.1 (A)
const RE_OTHER_LETTER_DIGITS = /[\p{Lt}\p{Nl}\p{No}\p{Me}]/u;            // §9.18 (R)
const RE_SPACES = /\p{Zs}/u;                                              // §9.14 (N)
const RE_SYMBOLS = /[\p{Sm}\p{Sc}\p{Sk}\p{So}]/u;                         // §9.15 (O)
const RE_PUNCTUATION = /\p{P}/u;                                          // §9.16 (P)
const RE_WHITE_SPACE = /\p{White_Space}/u;

/** §9.9 (I): conjoining jamo of Hangul_Syllable_Type L, V or T (RFC 5892 §2.9). */
function isOldHangulJamo(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97c) ||
    (cp >= 0xd7b0 && cp <= 0xd7c6) || (cp >= 0xd7cb && cp <= 0xd7fb);
}

/** RFC 8264 §8: the value of `cp` in the IdentifierClass or the FreeformClass. */
export function precisProperty(cp: number, freeform: boolean): Derived {
  const exc = EXCEPTIONS.get(cp);
  if (exc !== undefined) return exc;                           // (F); BackwardCompatible (G) is empty
  const ch = String.fromCodePoint(cp);
  if (RE_UNASSIGNED.test(ch) && !RE_NONCHAR.test(ch)) return 'UNASSIGNED';   // (J)
  if (cp >= 0x21 && cp <= 0x7e) return 'PVALID';              // ASCII7 (K)
  if (cp === 0x200c || cp === 0x200d) return 'CONTEXTJ';      // JoinControl (H)
  if (isOldHangulJamo(cp)) return 'DISALLOWED';               // (I)
  if (RE_DEFAULT_IGNORABLE.test(ch) || RE_NONCHAR.test(ch)) return 'DISALLOWED';  // (M)
  if (RE_CONTROL.test(ch)) return 'DISALLOWED';               // (L)
  // The four categories below are ID_DIS in the IdentifierClass and FREE_PVAL in Freeform.
  if (ch.normalize('NFKC') !== ch) return freeform ? 'PVALID' : 'DISALLOWED';  // HasCompat (Q)
  if (RE_LETTER_DIGITS.test(ch)) return 'PVALID';             // (A)
  if (RE_OTHER_LETTER_DIGITS.test(ch) || RE_SPACES.test(ch) || RE_SYMBOLS.test(ch) ||
      RE_PUNCTUATION.test(ch)) return freeform ? 'PVALID' : 'DISALLOWED';
  return 'DISALLOWED';    // Zl, Zp, other Cf, private use (Co), lone surrogates (Cs)
}

/**
 * NFKC_Casefold approximated by NFKC, then uppercase-then-lowercase (which gives the case fold
 * for all but a few scripts such as Cherokee, whose fold is uppercase), then NFKC again.
 */
export function approxNfkcCasefold(ch: string): string {
  return ch.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

/** RFC 5892 §3: the IDNA2008 value of `cp` (for U-labels). */
export function idnaProperty(cp: number): Derived {
  const exc = EXCEPTIONS.get(cp);
  if (exc !== undefined) return exc;
  const ch = String.fromCodePoint(cp);
  if (RE_UNASSIGNED.test(ch) && !RE_NONCHAR.test(ch)) return 'UNASSIGNED';
  if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39) || cp === 0x2d) return 'PVALID';
  if (cp === 0x200c || cp === 0x200d) return 'CONTEXTJ';
  if (approxNfkcCasefold(ch) !== ch) return 'DISALLOWED';      // Unstable (B)
  if (RE_DEFAULT_IGNORABLE.test(ch) || RE_WHITE_SPACE.test(ch) || RE_NONCHAR.test(ch)) {
    return 'DISALLOWED';                                       // IgnorableProperties (C)
  }
  // IgnorableBlocks (D): Combining Marks for Symbols, Musical Symbols, Ancient Greek Notation.
  if ((cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0x1d100 && cp <= 0x1d24f)) return 'DISALLOWED';
  if (isOldHangulJamo(cp)) return 'DISALLOWED';
  if (RE_LETTER_DIGITS.test(ch)) return 'PVALID';
  return 'DISALLOWED';
}

// ---- RFC 5892 Appendix A: contextual rules ----------------------------------------------------

const VIRAMA_PROBE_BELOW = '\u093c'; // DEVANAGARI SIGN NUKTA, canonical combining class 7
const VIRAMA_PROBE_ABOVE = '\u05b0'; // HEBREW POINT SHEVA, canonical combining class 10

/**
 * Canonical_Combining_Class(ch) == Virama (9). JS exposes no ccc, but NFD's canonical
 * reordering reveals it: a mark swaps in front of a ccc-7 mark iff its ccc is above 7, and a
 * ccc-10 mark swaps past it iff its ccc is between 1 and 9. That leaves ccc 8 and 9, and the only
 * ccc-8 characters are the kana voicing marks U+3099/U+309A.
 */
export function isVirama(ch: string): boolean {
  if (ch === '\u3099' || ch === '\u309a' || ch === VIRAMA_PROBE_BELOW || ch === VIRAMA_PROBE_ABOVE) {
    return false;
  }
  if (ch.normalize('NFD') !== ch) return false;
  return ('a' + ch + VIRAMA_PROBE_BELOW).normalize('NFD') === 'a' + VIRAMA_PROBE_BELOW + ch &&
    ('a' + VIRAMA_PROBE_ABOVE + ch).normalize('NFD') === 'a' + ch + VIRAMA_PROBE_ABOVE;
}

// Joining_Type is not exposed either. Approximation for the ZWNJ rule: letters of the cursive
// joining scripts count as dual-joining (L/R/D), marks and format characters as transparent (T).
const RE_JOINING = /[\p{Script=Arabic}\p{Script=Syriac}\p{Script=Nko}\p{Script=Mongolian}\p{Script=Mandaic}\p{Script=Manichaean}\p{Script=Psalter_Pahlavi}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}\p{Script=Sogdian}\p{Script=Old_Uyghur}\p{Script=Phags_Pa}\p{Script=Chorasmian}]/u;
const RE_LETTER = /\p{L}/u;
const RE_TRANSPARENT = /[\p{Mn}\p{Me}\p{Cf}]/u;
const RE_GREEK = /\p{Script=Greek}/u;
const RE_HEBREW = /\p{Script=Hebrew}/u;
const RE_KANA_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;

function joiningNeighbour(cps: string[], from: number, step: 1 | -1): boolean {
  for (let i = from; i >= 0 && i < cps.length; i += step) {
    const c = cps[i]!;
    if (c === '\u200c' || !RE_TRANSPARENT.test(c)) return RE_LETTER.test(c) && RE_JOINING.test(c);
  }
  return false;
}

/**
 * Whether the CONTEXTJ / CONTEXTO code point at index `i` of `cps` (the string split into code
 * points) satisfies its RFC 5892 Appendix A rule. A code point with no rule fails.
 */
export function contextRuleHolds(cps: string[], i: number): boolean {
  const ch = cps[i]!;
  const cp = ch.codePointAt(0)!;
  const before = i > 0 ? cps[i - 1]! : '';
  const after = i + 1 < cps.length ? cps[i + 1]! : '';
  switch (cp) {
    case 0x200d: return before !== '' && isVirama(before);                       // A.2
    case 0x200c:                                                                  // A.1
      if (before !== '' && isVirama(before)) return true;
      return joiningNeighbour(cps, i - 1, -1) && joiningNeighbour(cps, i + 1, 1);
    case 0x00b7: return before === 'l' && after === 'l';                         // A.3
    case 0x0375: return after !== '' && RE_GREEK.test(after);                    // A.4
    case 0x05f3: case 0x05f4: return before !== '' && RE_HEBREW.test(before);    // A.5, A.6
    case 0x30fb: return cps.some((c) => RE_KANA_HAN.test(c));                    // A.7
  }
  if (cp >= 0x0660 && cp <= 0x0669) return !cps.some((c) => c >= '\u06f0' && c <= '\u06f9'); // A.8
  if (cp >= 0x06f0 && cp <= 0x06f9) return !cps.some((c) => c >= '\u0660' && c <= '\u0669'); // A.9
  return false;
}

/**
 * Checks every code point of `s` against `property`, applying context rules; returns undefined
 * when all are allowed, else a reason naming the first offending code point.
 */
export function firstDisallowed(s: string, property: (cp: number) => Derived): string | undefined {
  const cps = Array.from(s);
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i]!.codePointAt(0)!;
    const v = property(cp);
    if (v === 'PVALID') continue;
    const name = cpName(cp);
    if (v === 'CONTEXTJ' || v === 'CONTEXTO') {
      if (contextRuleHolds(cps, i)) continue;
      return `${name} not allowed in this context (its RFC 5892 Appendix A rule fails)`;
    }
    return v === 'UNASSIGNED' ? `unassigned code point ${name}` : `disallowed code point ${name}`;
  }
  return undefined;
}
