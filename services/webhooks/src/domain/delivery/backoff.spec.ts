// Proves the retry schedule: exponential from the base, capped, with equal jitter (half fixed, half drawn), and
// no try scheduled past the delivery's max age.
import { type BackoffPolicy, nextAttemptAt, retryDelayMs } from './backoff';

const P: BackoffPolicy = { baseMs: 10_000, maxMs: 3_600_000, maxAgeMs: 3 * 86_400_000 };

describe('retry backoff', () => {
  it('doubles from the base up to the cap; jitter keeps it between half and all of that', () => {
    const table = [
      [1, 10_000],
      [2, 20_000],
      [3, 40_000],
      [9, 2_560_000],
      [10, 3_600_000],
      [60, 3_600_000],
      [5000, 3_600_000],
    ] as const;
    for (const [attempt, full] of table) {
      expect({ attempt, low: retryDelayMs(P, attempt, 0), high: retryDelayMs(P, attempt, 1) }).toEqual({
        attempt,
        low: full / 2,
        high: full,
      });
      const mid = retryDelayMs(P, attempt, 0.5);
      expect(mid).toBeGreaterThanOrEqual(full / 2);
      expect(mid).toBeLessThanOrEqual(full);
    }
  });

  it('gives up once the next try would fall past the max age', () => {
    const due = new Date('2026-03-10T00:00:00Z');
    const late = new Date(due.getTime() + P.maxAgeMs - 1_000);
    expect(nextAttemptAt(P, 30, late, due, 0)).toBeNull();
    const early = new Date(due.getTime() + 60_000);
    expect(nextAttemptAt(P, 2, early, due, 1)).toEqual(new Date(early.getTime() + 20_000));
  });

  it('retries for about three days by default, then stops', () => {
    const due = new Date('2026-03-10T00:00:00Z');
    let at = due;
    let tries = 0;
    for (;;) {
      tries += 1;
      const next = nextAttemptAt(P, tries, at, due, 0.5);
      if (next === null) break;
      at = next;
    }
    expect(at.getTime() - due.getTime()).toBeLessThanOrEqual(P.maxAgeMs);
    expect(at.getTime() - due.getTime()).toBeGreaterThan(P.maxAgeMs - P.maxMs);
    expect(tries).toBeGreaterThan(50);
  });
});
