// XEP-0198 §4 sequence numbers: 'h' counts handled stanzas as an unsignedInt that wraps from
// 2^32-1 back to 0, so every comparison is done modulo 2^32.

export const WRAP = 2 ** 32;

/** n + by, modulo 2^32. */
export function advance(n: number, by = 1): number { return (n + by) % WRAP; }

/** How many steps from `from` forward to `to`, modulo 2^32 (0 .. 2^32-1). */
export function distance(from: number, to: number): number { return ((to - from) % WRAP + WRAP) % WRAP; }

/** Parse an 'h' attribute: a decimal unsignedInt, or undefined when malformed. */
export function parseH(v: string | undefined): number | undefined {
  if (v === undefined || !/^[0-9]{1,10}$/.test(v)) return undefined;
  const n = Number(v);
  return n < WRAP ? n : undefined;
}
