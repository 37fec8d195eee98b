// When to try a delivery again: exponential backoff with jitter, for at most `maxAgeMs` after it was first due
// (or last asked to be redelivered). Pure: the random draw arrives as an argument.

export interface BackoffPolicy {
  /** The wait before the second try, before jitter. */
  baseMs: number;
  /** The longest wait between two tries, before jitter. */
  maxMs: number;
  /** How long after it is first due a delivery is still tried (3 days by default). */
  maxAgeMs: number;
}

/**
 * The wait after failed try number `attempt` (1-based): base × 2^(attempt−1), capped at max, then "equal jitter":
 * half of it fixed, half drawn, so that endpoints failing together do not all retry in the same instant.
 */
export const retryDelayMs = (policy: BackoffPolicy, attempt: number, random: number): number => {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt - 1, 52));
  const half = exp / 2;
  return Math.round(half + half * Math.min(Math.max(random, 0), 1));
};

/** The instant of the next try after a failed `attempt`, or null when it would fall past the delivery's max age. */
export const nextAttemptAt = (
  policy: BackoffPolicy,
  attempt: number,
  failedAt: Date,
  dueSince: Date,
  random: number,
): Date | null => {
  const next = failedAt.getTime() + retryDelayMs(policy, attempt, random);
  return next - dueSince.getTime() > policy.maxAgeMs ? null : new Date(next);
};
