// The billing periods metering has heard closed, as a union of disjoint [start, end) intervals in ms. A day and
// the month around it may both close; lateness only asks "is this instant inside any closed period", so the
// intervals are merged on insert and looked up by binary search. Pure: no clock, no I/O.

export interface ClosedPeriod {
  /** "YYYY-MM-DD" (a UTC day) or "YYYY-MM" (a UTC month). */
  period: string;
  startMs: number;
  endMs: number;
}

export type Interval = readonly [startMs: number, endMs: number];

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH_RE = /^(\d{4})-(\d{2})$/;

/** The [start, end) a period label names in UTC, or null when the label is not a UTC day or month. */
export const periodBounds = (period: string): Interval | null => {
  const day = DAY_RE.exec(period);
  if (day) {
    const start = Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3]));
    // Date.UTC rolls 2026-02-30 over into March: a label that does not round-trip is not a day.
    if (new Date(start).toISOString().slice(0, 10) !== period) return null;
    return [start, start + 86_400_000];
  }
  const month = MONTH_RE.exec(period);
  if (month) {
    const m = Number(month[2]);
    if (m < 1 || m > 12) return null;
    return [Date.UTC(Number(month[1]), m - 1, 1), Date.UTC(Number(month[1]), m, 1)];
  }
  return null;
};

/**
 * Checks a PeriodClosed as heard: the label must be a UTC day or month and `start`/`end`, when given, must be its
 * bounds. A close that disagrees with itself is a producer bug; trusting either half could mark the wrong usage late.
 */
export const closedPeriodOf = (
  period: string,
  startMs: number | null,
  endMs: number | null,
): { ok: ClosedPeriod } | { error: string } => {
  const bounds = periodBounds(period);
  if (bounds === null)
    return { error: `period "${period.slice(0, 32)}" is not a UTC day (YYYY-MM-DD) or month (YYYY-MM)` };
  if ((startMs !== null && startMs !== bounds[0]) || (endMs !== null && endMs !== bounds[1])) {
    return { error: `period ${period}: start/end do not match the period's UTC bounds` };
  }
  return { ok: { period, startMs: bounds[0], endMs: bounds[1] } };
};

/** Adds [start, end) to sorted disjoint intervals, merging what it touches. Returns a new array. */
export const addInterval = (intervals: readonly Interval[], add: Interval): Interval[] => {
  const out: Interval[] = [];
  let [start, end] = add;
  let placed = false;
  for (const iv of intervals) {
    if (iv[1] < start) out.push(iv);
    else if (iv[0] > end) {
      if (!placed) {
        out.push([start, end]);
        placed = true;
      }
      out.push(iv);
    } else {
      start = Math.min(start, iv[0]);
      end = Math.max(end, iv[1]);
    }
  }
  if (!placed) out.push([start, end]);
  return out;
};

/** Whether `timeMs` lies in one of the sorted disjoint intervals. */
export const inIntervals = (intervals: readonly Interval[], timeMs: number): boolean => {
  let lo = 0;
  let hi = intervals.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const iv = intervals[mid] as Interval;
    if (timeMs < iv[0]) hi = mid - 1;
    else if (timeMs >= iv[1]) lo = mid + 1;
    else return true;
  }
  return false;
};
