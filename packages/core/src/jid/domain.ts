// Domainpart preparation (RFC 7622 §3.2): an IP address (./ip.ts) or an internationalized
// domain name per IDNA2008 (RFC 5890-5893), with UTS #46 style mapping of user input first.
//
// Canonical form: the Unicode form, every A-label ("xn--...") converted to its U-label, all
// lowercase and NFC, with one trailing dot removed (§3.2). RFC 7622 §3.2.2-§3.2.3 compare
// domainparts as U-labels, so "xn--bcher-kva.example" and "Bücher.example" are one JID.
//
// Decisions (see also the mapping below):
//   - ASCII labels must be LDH (letters, digits, hyphen; no leading or trailing hyphen): the
//     host-name rule (STD 3) that IDNA2008 keeps for ASCII labels (RFC 5890 §2.3.1) and UTS #46
//     applies with UseSTD3ASCIIRules. In particular '_' is refused: it is not a host-name
//     character, and public CAs do not issue certificates for such names, so a server using
//     one could not be authenticated by its peers anyway.
//   - ASCII labels with "--" in positions 3-4 other than "xn--" (R-LDH labels) are accepted as
//     they are: such host names exist in DNS and UTS #46 lookups (CheckHyphens=false) accept
//     them. U-labels must not have them (RFC 5891 §4.2.3.1).
//   - Length: each label at most 63 octets in its A-label form (RFC 5890 §2.3.2.1, so a label
//     that is short in Unicode can still be too long); the whole domainpart at most 1023
//     octets of UTF-8 (RFC 7622 §3.2). The DNS limit of 253 octets is not applied: XMPP
//     domainparts of components need not be DNS names, and RFC 7622 gives only 1023.
//   - The mapping is not node:url's domainToASCII (Node-only; WHATWG host rules differ from
//     IDNA2008), but what UTS #46 nontransitional mapping amounts to for valid names: NFKC,
//     lowercase per code point (no Final_Sigma context: "ΑΣ" maps to "ασ" as UTS #46 does),
//     default-ignorables removed, ideographic full stops as dots. ß and ς are kept (IDNA2008
//     PVALID), not folded to "ss"/"σ". Punycode is ./punycode.ts.
//
// The ASCII fast path (every stanza carries domains) yields exactly what the full path does,
// and falls through whenever that is not obvious (xn--, all-digit names, bad characters).

import { JIDError, MAX_PART_OCTETS, checkLength, cpName } from './errors.js';
import { firstDisallowed, idnaProperty } from './codepoints.js';
import { bidiRuleViolation, hasRtl } from './bidi.js';
import { canonicalIp } from './ip.js';
import { PunycodeError, punycodeDecode, punycodeEncode } from './punycode.js';

const MAX_LABEL_OCTETS = 63;
const IDEOGRAPHIC_STOPS = new Set(['\u3002', '\uff0e', '\uff61']);
const RE_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const RE_MARK = /^\p{M}/u;
const RE_ASCII = /^[\x00-\x7f]*$/;
const RE_LDH = /^[a-z0-9-]+$/;

function fail(why: string): never {
  throw new JIDError(`domainpart: ${why}`);
}

/** The ASCII fast path of enforceDomain, or undefined to take the full path. */
function fastDomain(s: string): string | undefined {
  let n = s.length;
  if (n > 0 && s.charCodeAt(n - 1) === 0x2e) n--;          // one trailing dot (§3.2)
  if (n === 0 || n > MAX_PART_OCTETS) return undefined;
  let upper = false;
  let letters = false;      // all-digit names are IPv4 or invalid: full path
  let label = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (label === 0 || s.charCodeAt(i - 1) === 0x2d) return undefined;
      label = 0;
      continue;
    }
    if (c === 0x2d) { if (label === 0) return undefined; letters = true; }
    else if (c >= 0x61 && c <= 0x7a) letters = true;
    else if (c >= 0x41 && c <= 0x5a) { letters = true; upper = true; }
    else if (c < 0x30 || c > 0x39) return undefined;
    if (++label > MAX_LABEL_OCTETS) return undefined;
  }
  if (label === 0 || s.charCodeAt(n - 1) === 0x2d || !letters) return undefined;
  let out = n === s.length ? s : s.slice(0, n);
  if (upper) out = out.toLowerCase();
  return out.includes('xn--') ? undefined : out;            // A-labels are decoded below
}

/** UTS #46-style mapping of the whole input (see the header); dots are still separators. */
function mapDomain(input: string): string {
  let s = '';
  for (const ch of input) {
    if (IDEOGRAPHIC_STOPS.has(ch)) { s += '.'; continue; }
    if (ch === '\u200c' || ch === '\u200d') { s += ch; continue; }   // CONTEXTJ, judged later
    if (RE_IGNORABLE.test(ch)) continue;                             // e.g. soft hyphen
    // Characters whose compatibility form holds a dot (U+2024, "⒈") would forge label
    // separators; UTS #46 disallows them and so do we.
    if (ch !== '.' && ch.normalize('NFKC').includes('.')) {
      fail(`disallowed code point ${cpName(ch.codePointAt(0)!)}`);
    }
    s += ch;
  }
  const lowered = Array.from(s.normalize('NFKC'), (ch) => ch.toLowerCase()).join('');
  return lowered.normalize('NFKC');
}

/** RFC 5891 §5.4 / §4.2.3: the checks a U-label (or decoded A-label, `shown`) must pass. */
function checkULabel(u: string, shown: string): void {
  if (u.normalize('NFC') !== u) fail(`label '${shown}' is not in NFC`);
  if (u.startsWith('-') || u.endsWith('-')) fail(`label '${shown}' starts or ends with a hyphen`);
  if (u.length >= 4 && u[2] === '-' && u[3] === '-') fail(`label '${shown}' has "--" in positions 3-4`);
  if (RE_MARK.test(u)) fail(`label '${shown}' begins with a combining mark`);
  const why = firstDisallowed(u, idnaProperty);
  if (why !== undefined) fail(`${why} in label '${shown}'; IDNA2008`);
}

/** One mapped label to its canonical (Unicode) form; throws JIDError. */
function prepareLabel(label: string): string {
  if (label === '') fail('empty label');
  if (RE_ASCII.test(label)) {
    if (label.startsWith('xn--')) {
      let u: string;
      try { u = punycodeDecode(label.slice(4)); } catch (e) {
        if (e instanceof PunycodeError) fail(`invalid A-label '${label}': ${e.message}`);
        throw e;
      }
      if (RE_ASCII.test(u)) fail(`A-label '${label}' decodes to ASCII`);
      checkULabel(u, label);
      // Only the one encoding punycodeEncode produces is accepted, so two spellings of the
      // same U-label cannot both exist.
      if ('xn--' + punycodeEncode(u) !== label) fail(`A-label '${label}' is not canonical`);
      if (label.length > MAX_LABEL_OCTETS) fail(`label '${label}' is longer than 63 octets`);
      return u;
    }
    if (!RE_LDH.test(label)) {
      const bad = Array.from(label).find((c) => !RE_LDH.test(c))!;
      fail(`character '${bad}' is not allowed in label '${label}' (letters, digits, hyphen only)`);
    }
    if (label.startsWith('-') || label.endsWith('-')) fail(`label '${label}' starts or ends with a hyphen`);
    if (label.length > MAX_LABEL_OCTETS) fail(`label '${label}' is longer than 63 octets`);
    return label;
  }
  checkULabel(label, label);
  if (4 + punycodeEncode(label).length > MAX_LABEL_OCTETS) {
    fail(`label '${label}' is longer than 63 octets as an A-label`);
  }
  return label;
}

/** The full domainpart algorithm without the fast path. Exported for tests; use prepareDomain. */
export function enforceDomain(input: string): string {
  if (input === '') fail('empty');
  if (input.startsWith('[')) return canonicalIp(input, fail)!;
  let s = mapDomain(input);
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (s === '') fail('empty');
  const ip = canonicalIp(s, fail);
  if (ip !== undefined) return ip;
  const labels = s.split('.').map(prepareLabel);
  // RFC 5893 §1.4/§2: in a domain name with any RTL label, every label obeys the Bidi Rule.
  if (labels.some(hasRtl)) {
    for (const l of labels) {
      const why = bidiRuleViolation(l);
      if (why !== undefined) fail(`${why} in label '${l}' (RFC 5893)`);
    }
  }
  const out = labels.join('.');
  checkLength('domainpart', out);
  return out;
}

/** Prepares and enforces a domainpart; throws JIDError naming the reason. */
export function prepareDomain(input: string): string {
  return fastDomain(input) ?? enforceDomain(input);
}
