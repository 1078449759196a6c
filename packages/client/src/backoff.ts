// Reconnection delays: exponential backoff with jitter, so that many clients dropped by one
// server restart do not all come back in the same instant ("decorrelated" from each other).

export interface BackoffOptions {
  /** First delay, ms. Default 1000. */
  initial: number;
  /** Cap, ms. Default 60000. */
  max: number;
  /** Growth per attempt. Default 2. */
  factor: number;
  /** Fraction of the delay that is randomised, 0..1. Default 0.5 ("equal jitter" at 0.5). */
  jitter: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ initial: 1000, max: 60000, factor: 2, jitter: 0.5 });

/**
 * The delay before reconnection attempt `attempt` (0 = first retry): base = min(max,
 * initial·factor^attempt); the result is uniform in [base·(1-jitter), base]. `random` is
 * injectable for tests.
 */
export function backoffDelay(attempt: number, opts: Partial<BackoffOptions> = {}, random: () => number = Math.random): number {
  const o = { ...DEFAULT_BACKOFF, ...opts };
  const jitter = Math.min(1, Math.max(0, o.jitter));
  const base = Math.min(o.max, o.initial * Math.pow(o.factor, Math.max(0, attempt)));
  return Math.round(base * (1 - jitter * random()));
}
