import { isDay } from '../ledger/ledger.events';

// Billing periods (DESIGN.md): UTC days `YYYY-MM-DD` for daily settlement and UTC months `YYYY-MM` for monthly
// statements. A period is a half-open interval of instants [start, end); an account's timezone changes only how a
// statement is shown, never which period money is booked in.

export type PeriodKind = 'day' | 'month';

export interface Period {
  id: string;
  kind: PeriodKind;
  startMs: number;
  endMs: number;
}

const MONTH_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;
const DAY_MS = 86_400_000;

/** The period an id names, or null when it is not a real UTC day or month. */
export const parsePeriod = (id: unknown): Period | null => {
  if (isDay(id)) {
    const startMs = Date.parse(`${id}T00:00:00.000Z`);
    return { id, kind: 'day', startMs, endMs: startMs + DAY_MS };
  }
  if (typeof id !== 'string') return null;
  const m = MONTH_RE.exec(id);
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  return { id, kind: 'month', startMs: Date.UTC(year, month - 1, 1), endMs: Date.UTC(year, month, 1) };
};

/** The UTC day an instant falls in. */
export const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** The day after `day`. */
export const nextDay = (day: string): string => dayOf(Date.parse(`${day}T00:00:00.000Z`) + DAY_MS);

/** The day before `day`. */
export const previousDay = (day: string): string => dayOf(Date.parse(`${day}T00:00:00.000Z`) - DAY_MS);

/** Whether a day belongs to a period (itself, or the month it is in). */
export const periodContainsDay = (period: Period, day: string): boolean =>
  period.kind === 'day' ? period.id === day : day.startsWith(`${period.id}-`);

/** The days of a period, in order. */
export const daysOf = (period: Period): string[] => {
  const days: string[] = [];
  for (let ms = period.startMs; ms < period.endMs; ms += DAY_MS) days.push(dayOf(ms));
  return days;
};
