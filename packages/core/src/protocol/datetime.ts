// XMPP date and time profiles (XEP-0082 1.1): the DateTime profile, used in timestamps such as
// MAM's start/end and delay stamps. Parsing is strict (CCYY-MM-DDThh:mm:ss[.sss]TZD, TZD
// mandatory, calendar-valid) because a timestamp we misread silently changes a query's answer.

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds since the epoch, or undefined when `s` is not a valid XEP-0082 DateTime. */
export function parseDateTime(s: string): number | undefined {
  const m = DATETIME.exec(s.trim());
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 60) return undefined;
  const dim = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (d > dim) return undefined;
  // Fractions beyond milliseconds are truncated: stored times have ms precision.
  const ms = m[7] ? Number.parseInt((m[7].slice(1) + '00').slice(0, 3), 10) : 0;
  let t = Date.UTC(y, mo - 1, d, h, mi, Math.min(sec, 59), ms);
  const tz = m[8]!;
  if (tz !== 'Z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const [th, tm] = tz.slice(1).split(':').map(Number) as [number, number];
    if (th > 23 || tm > 59) return undefined;
    t -= sign * (th * 60 + tm) * 60_000;
  }
  return t;
}

/** XEP-0082 DateTime in UTC with milliseconds. */
export function formatDateTime(ms: number): string { return new Date(ms).toISOString(); }
