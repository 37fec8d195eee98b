import { Dec } from '@cx/shared-kernel';
import type { Aggregation } from '../meter/meter.events';

// Usage is kept per UTC minute in mergeable summaries: every aggregation combines minute summaries into a window
// exactly as it would combine the readings themselves, so a window from the projection equals a recomputation
// from the raw events. Minutes, because every timezone's hours and days start on a whole minute.

export const MINUTE_MS = 60_000;

export interface Reading {
  timeMs: number;
  quantity: Dec;
  /** The UNIQUE_COUNT value, if the meter has one. */
  unique: string | null;
  /** Store order, to break ties for LATEST between readings at the same instant. */
  order: bigint;
}

export interface Summary {
  count: number;
  sum: Dec;
  max: Dec | null;
  unique: Set<string>;
  latest: { timeMs: number; order: bigint; quantity: Dec } | null;
}

export const emptySummary = (): Summary => ({ count: 0, sum: new Dec(0), max: null, unique: new Set(), latest: null });

const later = (a: Summary['latest'], b: Summary['latest']): Summary['latest'] => {
  if (a === null) return b;
  if (b === null) return a;
  return b.timeMs > a.timeMs || (b.timeMs === a.timeMs && b.order > a.order) ? b : a;
};

export const addReading = (s: Summary, r: Reading): Summary => {
  s.count += 1;
  s.sum = s.sum.add(r.quantity);
  s.max = s.max === null || r.quantity.gt(s.max) ? r.quantity : s.max;
  if (r.unique !== null) s.unique.add(r.unique);
  s.latest = later(s.latest, { timeMs: r.timeMs, order: r.order, quantity: r.quantity });
  return s;
};

export const merge = (into: Summary, other: Summary): Summary => {
  into.count += other.count;
  into.sum = into.sum.add(other.sum);
  into.max = into.max === null || (other.max !== null && other.max.gt(into.max)) ? other.max : into.max;
  for (const u of other.unique) into.unique.add(u);
  into.latest = later(into.latest, other.latest);
  return into;
};

/** The value of a window under the meter's aggregation, as a decimal string. */
export const valueOf = (s: Summary, aggregation: Aggregation): string => {
  switch (aggregation) {
    case 'SUM':
      return s.sum.toFixed();
    case 'COUNT':
      return String(s.count);
    case 'MAX':
      return (s.max ?? new Dec(0)).toFixed();
    case 'UNIQUE_COUNT':
      return String(s.unique.size);
    case 'LATEST':
      return (s.latest?.quantity ?? new Dec(0)).toFixed();
    default: {
      const never: never = aggregation;
      throw new TypeError(`unknown aggregation ${String(never)}`);
    }
  }
};

export const windowSizes = ['minute', 'hour', 'day'] as const;
export type WindowSize = (typeof windowSizes)[number];

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The formatter for a timezone, or null when the name is not an IANA zone this runtime knows. */
export const zoneFormatter = (tz: string): Intl.DateTimeFormat | null => {
  const cached = formatters.get(tz);
  if (cached) return cached;
  try {
    const f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(tz, f);
    return f;
  } catch {
    return null;
  }
};

export interface WindowKey {
  /** The window's first instant. */
  startMs: number;
  /** The window in local time, e.g. `2026-03-10`, `2026-03-10T08:00`. */
  label: string;
}

/** The window a minute belongs to in a timezone: local wall-clock hours and days, not UTC ones. */
export const windowOf = (minuteMs: number, size: WindowSize, fmt: Intl.DateTimeFormat): WindowKey => {
  const parts: Record<string, string> = {};
  for (const p of fmt.formatToParts(new Date(minuteMs))) parts[p.type] = p.value;
  const date = `${parts.year}-${parts.month}-${parts.day}`;
  const hour = Number(parts.hour);
  const minute = Number(parts.minute);
  switch (size) {
    case 'minute':
      return { startMs: minuteMs, label: `${date}T${parts.hour}:${parts.minute}` };
    case 'hour':
      return { startMs: minuteMs - minute * MINUTE_MS, label: `${date}T${parts.hour}:00` };
    case 'day':
      // The local day started this many minutes ago (a DST change inside the day moves the start; the label
      // stays the local date, which is what a statement shows).
      return { startMs: minuteMs - (hour * 60 + minute) * MINUTE_MS, label: date };
    default: {
      const never: never = size;
      throw new TypeError(`unknown window ${String(never)}`);
    }
  }
};
