// IP-address domainparts (RFC 7622 §3.2: "the domainpart ... can be an IP address", IPv4 in
// dotted-decimal form and IPv6 as the IP-literal of RFC 3986 §3.2.2, i.e. in square brackets).
//
// Both are returned in one canonical spelling so that JIDs compare equal whenever the
// addresses are equal: IPv6 in the RFC 5952 §4 text form (lowercase, no leading zeros, longest
// run of zero groups shortened to "::", IPv4-mapped addresses with a dotted tail); IPv4 with
// leading zeros refused outright (not stripped), since "010" means 8 to inet_aton-style parsers
// and 10 to others, and either reading would silently address a different host.

/** Parses "a.b.c.d" strictly; returns the four octets or undefined. */
export function parseIPv4(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out.push(v);
  }
  return out;
}

/** Parses the text between the brackets of an IPv6 literal into eight 16-bit groups. */
export function parseIPv6(s: string): number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (text: string, allowV4Tail: boolean): number[] | undefined => {
    if (text === '') return [];
    const out: number[] = [];
    const items = text.split(':');
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (allowV4Tail && i === items.length - 1 && item.includes('.')) {
        const v4 = parseIPv4(item);
        if (!v4) return undefined;
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(item)) return undefined;
        out.push(parseInt(item, 16));
      }
    }
    return out;
  };
  if (halves.length === 1) {
    const g = parseGroups(s, true);
    return g && g.length === 8 ? g : undefined;
  }
  const head = parseGroups(halves[0]!, false);
  const tail = parseGroups(halves[1]!, true);
  if (!head || !tail || head.length + tail.length > 7) return undefined;  // "::" is ≥ 1 group
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** RFC 5952 §4 canonical text of eight groups (without brackets). */
export function formatIPv6(g: readonly number[]): string {
  // IPv4-mapped (::ffff:a.b.c.d), RFC 5952 §5: keep the dotted quad.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return `::ffff:${g[6]! >> 8}.${g[6]! & 0xff}.${g[7]! >> 8}.${g[7]! & 0xff}`;
  }
  // Longest run of ≥ 2 zero groups (the first one on a tie) becomes "::" (§4.2.1-§4.2.3).
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: readonly number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return hex(g.slice(0, bestStart)) + '::' + hex(g.slice(bestStart + bestLen));
}

/**
 * If `s` is an IP-address domainpart, returns its canonical form; returns undefined when it is
 * not shaped like one (so it is a domain name); throws via `fail` when it is malformed.
 */
export function canonicalIp(s: string, fail: (why: string) => never): string | undefined {
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) fail('IPv6 literal without closing bracket');
    const groups = parseIPv6(s.slice(1, -1));
    if (!groups) fail('malformed IPv6 literal');
    return '[' + formatIPv6(groups) + ']';
  }
  // All-numeric labels: an IPv4 address or nothing. (No top-level domain is all digits, and
  // accepting "1.2.3.256" as a name would make it look like an address that isn't.)
  if (/^[0-9.]+$/.test(s) && !s.includes('..')) {
    if (!parseIPv4(s)) fail('malformed IPv4 address');
    return s;
  }
  return undefined;
}
