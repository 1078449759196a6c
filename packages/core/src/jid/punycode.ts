// Punycode (RFC 3492), the Bootstring instance IDNA uses to turn a U-label into the part of an
// A-label after "xn--" (RFC 5891 §4.4) and back.
//
// Written here instead of importing node:punycode (deprecated, and Node-only) or node:url's
// domainToASCII (Node-only, and it applies WHATWG URL host rules rather than IDNA2008 as
// RFC 7622 §3.2 asks): this module and domain.ts must also run in browsers. It is the plain
// algorithm of RFC 3492 §6 with the parameter values of §5; no case annotations (§A) are
// emitted, and decoding is case-insensitive, as IDNA requires.

const BASE = 36;
const TMIN = 1;
const TMAX = 26;
const SKEW = 38;
const DAMP = 700;
const INITIAL_BIAS = 72;
const INITIAL_N = 0x80;
const MAX_CP = 0x10ffff;
/** Far below 2^53, so intermediate products stay exact; real labels are ≤ 63 octets anyway. */
const MAX_INT = 0x7fffffff;

export class PunycodeError extends Error {
  constructor(message: string) { super(message); this.name = 'PunycodeError'; }
}

/** §6.1: bias adaptation after each encoded delta. */
function adapt(delta: number, numPoints: number, firstTime: boolean): number {
  delta = firstTime ? Math.floor(delta / DAMP) : Math.floor(delta / 2);
  delta += Math.floor(delta / numPoints);
  let k = 0;
  while (delta > ((BASE - TMIN) * TMAX) >> 1) {
    delta = Math.floor(delta / (BASE - TMIN));
    k += BASE;
  }
  return k + Math.floor(((BASE - TMIN + 1) * delta) / (delta + SKEW));
}

/** Threshold t for the digit at position k (§6.2/§6.3), clamped to [TMIN, TMAX]. */
function threshold(k: number, bias: number): number {
  if (k <= bias) return TMIN;
  if (k >= bias + TMAX) return TMAX;
  return k - bias;
}

/** Digit value d (0-35) as a character: a-z for 0-25, 0-9 for 26-35 (lowercase, §5). */
function digitChar(d: number): string {
  return String.fromCharCode(d < 26 ? 0x61 + d : 0x30 + d - 26);
}

function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30 + 26;
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x61 && c <= 0x7a) return c - 0x61;
  return -1;
}

/** §6.3: encode a Unicode string (e.g. "bücher") to Punycode ("bcher-kva"). */
export function punycodeEncode(input: string): string {
  const cps = Array.from(input, (ch) => ch.codePointAt(0)!);
  let out = '';
  for (const c of cps) if (c < INITIAL_N) out += String.fromCharCode(c);
  const basicCount = out.length;
  let handled = basicCount;
  if (basicCount > 0) out += '-';
  let n = INITIAL_N;
  let delta = 0;
  let bias = INITIAL_BIAS;
  while (handled < cps.length) {
    // The smallest code point not yet handled; everything below n is already in the output.
    let m = MAX_CP + 1;
    for (const c of cps) if (c >= n && c < m) m = c;
    delta += (m - n) * (handled + 1);
    if (delta > MAX_INT) throw new PunycodeError('overflow');
    n = m;
    for (const c of cps) {
      if (c < n) delta++;
      if (c !== n) continue;
      // Emit delta as a generalized variable-length integer (§3.3).
      let q = delta;
      for (let k = BASE; ; k += BASE) {
        const t = threshold(k, bias);
        if (q < t) break;
        out += digitChar(t + ((q - t) % (BASE - t)));
        q = Math.floor((q - t) / (BASE - t));
      }
      out += digitChar(q);
      bias = adapt(delta, handled + 1, handled === basicCount);
      delta = 0;
      handled++;
    }
    delta++;
    n++;
  }
  return out;
}

/** §6.2: decode Punycode ("bcher-kva") to Unicode ("bücher"); throws PunycodeError. */
export function punycodeDecode(input: string): string {
  const out: number[] = [];
  const delim = input.lastIndexOf('-');
  // Everything before the last delimiter is copied literally and must be basic (ASCII).
  for (let j = 0; j < Math.max(delim, 0); j++) {
    const c = input.charCodeAt(j);
    if (c >= INITIAL_N) throw new PunycodeError('non-basic code point before the delimiter');
    out.push(c);
  }
  let pos = delim > 0 ? delim + 1 : 0;
  let n = INITIAL_N;
  let i = 0;
  let bias = INITIAL_BIAS;
  while (pos < input.length) {
    const oldI = i;
    let w = 1;
    for (let k = BASE; ; k += BASE) {
      if (pos >= input.length) throw new PunycodeError('truncated input');
      const digit = digitValue(input.charCodeAt(pos++));
      if (digit < 0) throw new PunycodeError('invalid digit');
      i += digit * w;
      if (i > MAX_INT) throw new PunycodeError('overflow');
      const t = threshold(k, bias);
      if (digit < t) break;
      w *= BASE - t;
      if (w > MAX_INT) throw new PunycodeError('overflow');
    }
    const len = out.length + 1;
    bias = adapt(i - oldI, len, oldI === 0);
    n += Math.floor(i / len);
    i %= len;
    if (n > MAX_CP || (n >= 0xd800 && n <= 0xdfff)) throw new PunycodeError('invalid code point');
    out.splice(i, 0, n);
    i++;
  }
  return String.fromCodePoint(...out);
}
