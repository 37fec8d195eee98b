// The services' pure domain code the audit replays with (DESIGN.md: "the audit tooling (a lib) may import their
// pure `domain/` functions"). One file, so every path into a service is in one place and nothing but domain/ is
// reached: application code, Nest modules and adapters of a service are never imported by the audit.

export { bandAt, versionInForce } from '../../../services/pricing-guidance/src/domain/price-band/band-at';
export {
  type BandVersion,
  GUIDANCE_STREAM_PREFIX,
  type PriceBandEvent,
  bandIdOf,
  isPriceBandEvent,
  kindOf,
} from '../../../services/pricing-guidance/src/domain/price-band/price-band.events';

export type { BookEvent, TradeExecuted } from '../../../services/matching/src/domain/order-book/order-book.events';
export { evolve as evolveBook, initialBook } from '../../../services/matching/src/domain/order-book/order-book.decider';
export type { Book } from '../../../services/matching/src/domain/order-book/order-book.state';

export {
  type LedgerEvent,
  type TransferRecord,
  isLedgerEvent,
  participantAccountKinds,
} from '../../../services/billing/src/domain/ledger/ledger.events';
export {
  type LedgerState,
  balanceView,
  evolve as evolveLedger,
  initialLedger,
  isParticipantId,
  ledgerTotals,
} from '../../../services/billing/src/domain/ledger/ledger.decider';
export { canonicalToMinor, formatAmount } from '../../../services/billing/src/domain/ledger/ledger.amounts';
export { bookingDay } from '../../../services/billing/src/domain/ledger/ledger.events';
export {
  ALLOCATION_BILLING_PREFIX,
  type AllocationSettled,
  type AllocationTerms,
} from '../../../services/billing/src/domain/settlement/allocation-billing.events';
export { deliveryDayOf } from '../../../services/billing/src/domain/settlement/allocation-billing.decider';
export {
  OFFER_USAGE_PREFIX,
  type OfferUsageSettled,
} from '../../../services/billing/src/domain/settlement/offer-usage';
export { PERIOD_STREAM_PREFIX, type PeriodClosed } from '../../../services/billing/src/domain/settlement/period.events';
export { type Period, parsePeriod, periodContainsDay } from '../../../services/billing/src/domain/settlement/periods';
export {
  type CashMovement,
  type ReadingDifference,
  type SettlementRecord,
  type Shortfall,
  type StatementLine,
  type StatementSummary,
  buildLines,
  cashIn,
  contentHashOf,
  readingDifferencesOf,
  shortfallsOf,
  summarise,
} from '../../../services/billing/src/domain/statement/statement';
export {
  STATEMENT_STREAM_PREFIX,
  type StatementIssued,
  type StatementLinesRecorded,
  statementStream,
} from '../../../services/billing/src/domain/statement/statement.events';

export {
  USAGE_STREAM_PREFIX,
  type UsageRecordedData,
  usageStream,
} from '../../../services/metering/src/domain/usage/usage.events';
export { METER_STREAM_PREFIX } from '../../../services/metering/src/domain/meter/meter.events';

/**
 * Order book streams are `book-<instrument>` (matching names them in its application layer, which the audit does
 * not import; the name is part of the store's contract, like every stream name).
 */
export const BOOK_STREAM_PREFIX = 'book-';

/** An instrument id is `<resourceClass>.<region>.<delivery day>` (DESIGN.md, "Instrument"). */
export const parseInstrument = (id: string): { resourceClass: string; region: string; day: string } | null => {
  const parts = id.split('.');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return null;
  const [resourceClass, region, day] = parts as [string, string, string];
  return { resourceClass, region, day };
};
