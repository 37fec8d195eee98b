import type { PeriodKind } from './periods';

// A period's close, in its own stream `billing-period-<period>`, appended once (at `no_stream`): closing twice is
// refused, and the relay publishes the close on `cx.billing.periods.v1` for metering (late usage) and others.

export const PERIOD_STREAM_PREFIX = 'billing-period-';
export const periodStream = (period: string): string => `${PERIOD_STREAM_PREFIX}${period}`;

export interface PeriodClosed {
  type: 'PeriodClosed';
  data: {
    period: string;
    kind: PeriodKind;
    /** ISO instants of the period, [start, end). */
    start: string;
    end: string;
    /** When it was closed, by the business clock. */
    closedAt: string;
    /** The late-usage grace the close waited for. */
    graceMs: number;
    /** Settlements booked by this close (allocation settlements and adjustments). */
    settlementIds: string[];
  };
}

/** Every account's statement for the period was issued: the close is complete (closing again is refused). */
export interface PeriodStatementsIssued {
  type: 'PeriodStatementsIssued';
  data: { period: string; statementIds: string[] };
}

export type PeriodEvent = PeriodClosed | PeriodStatementsIssued;
