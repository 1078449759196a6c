// The "Bidi Rule" of RFC 5893 §2, which RFC 8265 §3.3.2 (rule 5) applies to localparts that
// contain right-to-left code points and IDNA2008 (RFC 5891 §5.4) applies to every label of a
// domain name that contains one.
//
// Approximation, deliberately: the rule is stated over the Unicode Bidi_Class property, which
// JS RegExp cannot query (\p{Bidi_Class=...} is not in ECMAScript). Shipping the table would
// cost ~10 kB for a rule that only matters for RTL scripts, so bidiClass() derives the class:
//   - R/AL: characters of the right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, NKo, ...)
//     that are not marks; R and AL are handled identically by the rule, so both are 'R';
//   - AN: the Arabic-Indic digits and Arabic number signs, listed exactly;
//   - EN: ASCII and Extended Arabic-Indic digits plus the superscript/fullwidth digit forms;
//   - ES, CS, ET: the ASCII members and the few non-ASCII members that matter, listed;
//   - NSM: \p{Mn} and \p{Me};  BN: controls and default-ignorables;  WS: \p{Zs};
//   - ON: remaining punctuation and symbols;  L: everything else (letters and digits of other
//     scripts, spacing marks...).
// Errors of this approximation concern only rare punctuation inside RTL strings; strings with no
// RTL character are never affected, because then the rule does not apply at all.

export type BidiClass = 'L' | 'R' | 'AN' | 'EN' | 'ES' | 'CS' | 'ET' | 'ON' | 'BN' | 'NSM' | 'WS' | 'B' | 'S';

const RE_RTL_SCRIPT = new RegExp('[' + [
  'Hebrew', 'Arabic', 'Syriac', 'Thaana', 'Nko', 'Samaritan', 'Mandaic', 'Adlam', 'Hanifi_Rohingya',
  'Mende_Kikakui', 'Imperial_Aramaic', 'Phoenician', 'Kharoshthi', 'Old_South_Arabian',
  'Old_North_Arabian', 'Avestan', 'Inscriptional_Parthian', 'Inscriptional_Pahlavi',
  'Psalter_Pahlavi', 'Old_Turkic', 'Old_Hungarian', 'Manichaean', 'Nabataean', 'Palmyrene',
  'Hatran', 'Lydian', 'Meroitic_Cursive', 'Meroitic_Hieroglyphs', 'Cypriot', 'Sogdian',
  'Old_Sogdian', 'Elymaic', 'Chorasmian', 'Yezidi', 'Old_Uyghur',
].map((s) => `\\p{Script=${s}}`).join('') + ']', 'u');
const RE_NSM = /[\p{Mn}\p{Me}]/u;
const RE_BN = /[\p{Cc}\p{Default_Ignorable_Code_Point}]/u;
const RE_NEUTRAL = /[\p{P}\p{S}\p{No}]/u;
const RE_CURRENCY = /\p{Sc}/u;

function inRanges(cp: number, ranges: readonly number[]): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (cp >= ranges[i]! && cp <= ranges[i + 1]!) return true;
  return false;
}
// Pairs of inclusive bounds, from the Bidi_Class values in Unicode's DerivedBidiClass.txt.
const AN = [0x0600, 0x0605, 0x0660, 0x0669, 0x066b, 0x066c, 0x06dd, 0x06dd, 0x0890, 0x0891,
  0x08e2, 0x08e2, 0x10d30, 0x10d39, 0x10e60, 0x10e7e];
const EN = [0x0030, 0x0039, 0x00b2, 0x00b3, 0x00b9, 0x00b9, 0x06f0, 0x06f9, 0x2070, 0x2070,
  0x2074, 0x2079, 0x2080, 0x2089, 0x2488, 0x249b, 0xff10, 0xff19, 0x1d7ce, 0x1d7ff,
  0x1f100, 0x1f10a, 0x1fbf0, 0x1fbf9];
const ES = [0x002b, 0x002b, 0x002d, 0x002d, 0x207a, 0x207b, 0x208a, 0x208b, 0x2212, 0x2212,
  0xfb29, 0xfb29, 0xfe62, 0xfe63, 0xff0b, 0xff0b, 0xff0d, 0xff0d];
const CS = [0x002c, 0x002c, 0x002e, 0x002f, 0x003a, 0x003a, 0x00a0, 0x00a0, 0x060c, 0x060c,
  0x202f, 0x202f, 0x2044, 0x2044, 0xfe50, 0xfe50, 0xfe52, 0xfe52, 0xfe55, 0xfe55,
  0xff0c, 0xff0c, 0xff0e, 0xff0f, 0xff1a, 0xff1a];
const ET = [0x0023, 0x0025, 0x00b0, 0x00b1, 0x0609, 0x060a, 0x066a, 0x066a, 0x2030, 0x2034,
  0x212e, 0x212e, 0x2213, 0x2213];

/** Approximate Bidi_Class of one code point (see the header for what is exact). */
export function bidiClass(cp: number): BidiClass {
  if (cp < 0x80) {
    if ((cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) return 'L';
    if (cp === 0x20) return 'WS';
    if (cp === 0x09 || cp === 0x0b || cp === 0x1f) return 'S';
    if (cp === 0x0a || cp === 0x0d || (cp >= 0x1c && cp <= 0x1e)) return 'B';
    if (cp < 0x20 || cp === 0x7f) return 'BN';
  }
  if (inRanges(cp, EN)) return 'EN';
  if (inRanges(cp, ES)) return 'ES';
  if (inRanges(cp, CS)) return 'CS';
  if (inRanges(cp, ET)) return 'ET';
  if (cp < 0x80) return 'ON';
  if (inRanges(cp, AN)) return 'AN';
  const ch = String.fromCodePoint(cp);
  if (RE_NSM.test(ch)) return 'NSM';
  if (RE_RTL_SCRIPT.test(ch)) return 'R';
  if (cp === 0x061b || cp === 0x061f) return 'R';   // Arabic semicolon/question mark: Common, AL
  if (RE_BN.test(ch)) return 'BN';
  if (cp === 0x2029) return 'B';
  if (/[\p{Zs}\p{Zl}]/u.test(ch)) return 'WS';
  if (RE_CURRENCY.test(ch)) return 'ET';
  if (RE_NEUTRAL.test(ch)) return 'ON';
  return 'L';
}

/** Whether `s` contains a character that makes it (or its domain name) subject to the rule. */
export function hasRtl(s: string): boolean {
  for (const ch of s) {
    if (ch.charCodeAt(0) < 0x590) continue;   // nothing below the Hebrew block is R, AL or AN
    const c = bidiClass(ch.codePointAt(0)!);
    if (c === 'R' || c === 'AN') return true;
  }
  return false;
}

const RTL_ALLOWED = new Set<BidiClass>(['R', 'AN', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);
const LTR_ALLOWED = new Set<BidiClass>(['L', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);

/**
 * RFC 5893 §2 conditions 1-6 for one string (a localpart or a label). Returns undefined if they
 * hold, else which condition fails. The caller decides whether the rule applies at all.
 */
export function bidiRuleViolation(s: string): string | undefined {
  const classes = Array.from(s, (ch) => bidiClass(ch.codePointAt(0)!));
  if (classes.length === 0) return undefined;
  const first = classes[0]!;
  if (first !== 'L' && first !== 'R') return 'bidi rule 1: must start with a strong character';
  let last = classes.length - 1;
  while (last > 0 && classes[last] === 'NSM') last--;
  const end = classes[last]!;
  if (classes.some((c) => c === 'R' || c === 'AN')) {              // an RTL string: 2, 3, 4
    if (!classes.every((c) => RTL_ALLOWED.has(c))) return 'bidi rule 2: left-to-right or space character in a right-to-left string';
    if (end !== 'R' && end !== 'EN' && end !== 'AN') return 'bidi rule 3: right-to-left string must end with a right-to-left character or digit';
    if (classes.includes('EN') && classes.includes('AN')) return 'bidi rule 4: mixes European and Arabic-Indic digits';
  } else {                                                         // an LTR string: 5, 6
    if (!classes.every((c) => LTR_ALLOWED.has(c))) return 'bidi rule 5: right-to-left or space character in a left-to-right string';
    if (end !== 'L' && end !== 'EN') return 'bidi rule 6: left-to-right string must end with a letter or digit';
  }
  return undefined;
}
