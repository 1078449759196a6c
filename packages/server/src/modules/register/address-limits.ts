// Who may create accounts in-band, by client address (XEP-0077 §8: registration is a policy
// matter and an open form is an invitation to bulk sign-ups): an optional allow-list of
// addresses and CIDR blocks, and a sliding-window quota of accounts per address. An IPv6
// client is counted per prefix block, since one subscriber usually holds a whole /64 and could
// otherwise pick a fresh address for every account. The quota lives in this process's memory:
// in a cluster each node counts on its own (documented), and a restart forgets it.

import net from 'node:net';

/** A predicate for "address is in one of these addresses or CIDR blocks" (IPv4-mapped IPv6 as IPv4). */
export function addressMatcher(list: readonly string[]): (address: string) => boolean {
  const blocks = new net.BlockList();
  for (const item of list) {
    const [addr, bits] = item.split('/') as [string, string | undefined];
    const family = net.isIPv6(addr) ? 'ipv6' : 'ipv4';
    if (bits === undefined) blocks.addAddress(addr, family); else blocks.addSubnet(addr, Number(bits), family);
  }
  return (address) => {
    const a = unmapped(address);
    return net.isIP(a) !== 0 && blocks.check(a, net.isIPv6(a) ? 'ipv6' : 'ipv4');
  };
}

function unmapped(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** The key an address is counted under: an IPv4 address itself, an IPv6 address's prefix block. */
export function addressKey(address: string, ipv6Prefix: number): string {
  const a = unmapped(address);
  if (!net.isIPv6(a)) return a;
  const groups = expandIpv6(a);
  if (!groups) return a;
  let bits = ipv6Prefix;
  const out: string[] = [];
  for (const g of groups) {
    const keep = Math.max(0, Math.min(16, bits));
    bits -= 16;
    out.push((keep === 0 ? 0 : g & (0xffff << (16 - keep)) & 0xffff).toString(16));
  }
  return `${out.join(':')}/${ipv6Prefix}`;
}

/** The eight 16-bit groups of an IPv6 address (with an embedded IPv4 tail), or undefined. */
function expandIpv6(a: string): number[] | undefined {
  const addr = a.split('%')[0]!;
  let tail: number[] = [];
  let head = addr;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(addr);
  if (v4) {
    const p = v4[1]!.split('.').map(Number);
    tail = [(p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!];
    head = addr.slice(0, addr.length - v4[1]!.length);
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const parse = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const [left, right, ...more] = head.split('::');
  if (more.length) return undefined;
  const l = parse(left ?? '');
  const r = right === undefined ? [] : parse(right);
  const fill = 8 - tail.length - l.length - r.length;
  if (fill < 0 || (right === undefined && fill !== 0)) return undefined;
  const groups = [...l, ...new Array<number>(fill).fill(0), ...r, ...tail];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

const MAX_KEYS = 100_000;

/**
 * At most `max` registrations per key in any `windowMs`. take() reserves one before the account
 * is created (so that concurrent attempts from one address cannot all pass the check), and
 * release() gives it back when the creation fails: a conflict or a refused password does not
 * use up a newcomer's quota.
 */
export class RegistrationQuota {
  private byKey = new Map<string, number[]>();
  constructor(private readonly max: number, private readonly windowMs: number, private readonly now: () => number = Date.now) {}

  take(key: string): boolean {
    const t = this.now();
    const recent = (this.byKey.get(key) ?? []).filter((x) => t - x < this.windowMs);
    if (recent.length >= this.max) { this.byKey.set(key, recent); return false; }
    if (!this.byKey.has(key) && this.byKey.size >= MAX_KEYS) this.prune(t);
    recent.push(t);
    this.byKey.set(key, recent);
    return true;
  }

  release(key: string): void {
    const recent = this.byKey.get(key);
    if (!recent) return;
    recent.pop();
    if (!recent.length) this.byKey.delete(key);
  }

  private prune(t: number): void {
    for (const [k, v] of this.byKey) if (v.every((x) => t - x >= this.windowMs)) this.byKey.delete(k);
    // Still full: drop the oldest half (a Map iterates in insertion order).
    if (this.byKey.size >= MAX_KEYS) { let i = 0; for (const k of this.byKey.keys()) { if (i++ > MAX_KEYS / 2) break; this.byKey.delete(k); } }
  }
}
