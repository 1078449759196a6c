// JID escaping (XEP-0106 §3-§4, examples of §5): representing in a localpart the characters
// RFC 7622 §3.3.1 forbids there (space " & ' / : < > @), as "\" plus two lowercase hex digits:
// "d'artagnan" <-> "d\27artagnan". It is a presentation-layer convention for clients and
// gateways; the server never applies it when comparing or routing (XEP-0106 §4.1 rules 4-5).
//
// Rules followed exactly (XEP-0106 §3 and §4):
//   - case is significant: only the lowercase sequences of the table are escapes ("\2F" is not);
//   - a backslash is escaped to "\5c" only when it begins one of those sequences (so that
//     "c:\5commas" survives the round trip), every other backslash stays as it is;
//   - unescaping makes one left-to-right pass and turns only the ten sequences back;
//   - "\20" must not begin or end an escaped localpart. jidEscape refuses input with a leading
//     or trailing space rather than trimming it: silently dropping characters could address a
//     different user, and trimming user input is for the UI that collected it to decide.

import { JIDError } from './errors.js';

/** The characters XEP-0106 escapes, keyed by character, valued by the two hex digits. */
const ESCAPES: ReadonlyMap<string, string> = new Map([
  [' ', '20'], ['"', '22'], ['&', '26'], ["'", '27'], ['/', '2f'],
  [':', '3a'], ['<', '3c'], ['>', '3e'], ['@', '40'], ['\\', '5c'],
]);
const UNESCAPES: ReadonlyMap<string, string> = new Map(Array.from(ESCAPES, ([c, hex]) => [hex, c]));

/** Whether `s` has one of the ten escape sequences starting at index `i` (at a backslash). */
function escapeAt(s: string, i: number): string | undefined {
  return s.charCodeAt(i) === 0x5c ? UNESCAPES.get(s.slice(i + 1, i + 3)) : undefined;
}

/**
 * Escapes a localpart as a user or foreign system wrote it ("at&t guy") into the form sent on
 * the wire ("at\26t\20guy"). Throws JIDError if it begins or ends with a space.
 */
export function jidEscape(local: string): string {
  if (local.startsWith(' ') || local.endsWith(' ')) {
    throw new JIDError('localpart to escape begins or ends with a space (XEP-0106 §3.2)');
  }
  let out = '';
  for (let i = 0; i < local.length; i++) {
    const ch = local[i]!;
    if (ch === '\\') {
      out += escapeAt(local, i) !== undefined ? '\\5c' : '\\';
      continue;
    }
    const hex = ESCAPES.get(ch);
    out += hex === undefined ? ch : '\\' + hex;
  }
  return out;
}

/**
 * Turns an escaped localpart ("d\27artagnan") back into its presentation form ("d'artagnan").
 * Anything that is not one of the ten sequences, including "\5C" or "\41", is left untouched.
 */
export function jidUnescape(local: string): string {
  let out = '';
  for (let i = 0; i < local.length; i++) {
    const un = escapeAt(local, i);
    if (un !== undefined) { out += un; i += 2; } else out += local[i];
  }
  return out;
}
