// The API's response shapes the console reads (see the controllers' DTOs under services/*/src/interface).
// Every amount is a decimal string with its currency beside it.
import type { BandVersion } from './band-steps';

export interface Instrument {
  instrumentId: string;
  resourceClass: string;
  region: string;
  deliveryDay: string;
  tradingEndsAt: string;
  tickSize: string;
  lotSize: string;
  currency: string;
  status: string;
  bestBid: string | null;
  bestAsk: string | null;
  lastPrice: string | null;
  guidanceVersion: string | null;
  floor: string | null;
}

export interface DepthLevel {
  price: string;
  quantityLots: number;
  orders: number;
}

export interface Depth {
  instrumentId: string;
  bids: DepthLevel[];
  asks: DepthLevel[];
  currency: string;
}

export interface Trade {
  tradeId: string;
  sequence: number;
  price: string;
  quantityLots: number;
  aggressorSide: 'buy' | 'sell';
  guidanceVersion: string | null;
  floor: string | null;
  executedAt: string;
}

export interface BandHistoryItem extends BandVersion {
  floorPerThousandTokens: string | null;
  reason: string;
  documentRef: string;
  issuedBy: { keyId: string | null; role: string | null };
  issuedAt: string;
  previousVersionId: string | null;
}

export interface GuidanceAt {
  resourceClass: string;
  region: string | null;
  at: string;
  guidanceVersion: string | null;
  band: BandHistoryItem | null;
}

export interface IndexValue {
  indexId: string;
  currency: string;
  vwap: string;
  volume: string;
  tradeCount: number;
  publishedAt: string;
  windowStart: string;
  windowEnd: string;
  region: string | null;
}

export interface Alert {
  alertId: string;
  rule: string;
  resourceClass: string;
  region: string | null;
  instrumentId: string | null;
  currency: string;
  day: string;
  observedPercent: string;
  thresholdPercent: string;
  price: string | null;
  floor: string | null;
  message: string;
  raisedAt: string;
  tradeId: string;
  haltId: string | null;
}

export interface Halt {
  haltId: string;
  status: 'halted' | 'resumed';
  scope: { resourceClass: string | null; region: string | null; instrumentId: string | null };
  reason: string;
  origin: 'manual' | 'circuit-breaker';
  haltedAt: string;
  resumesAt: string | null;
  resumed: { at: string; reason: string } | null;
}

export interface Order {
  orderId: string;
  clientOrderId: string;
  account: string;
  instrument: string;
  side: 'buy' | 'sell';
  price: string;
  quantityLots: number;
  filledLots: number;
  remainingLots: number;
  timeInForce: string;
  status: string;
  reason: string | null;
  createdAt: string;
}

export interface Allocation {
  allocationId: string;
  instrument: string;
  providerAccount: string;
  buyerAccount: string;
  quantity: string;
  price: string;
  currency: string;
  deliveryStart: string;
  deliveryEnd: string;
}

export interface ResourceClass {
  resourceClassId: string;
  vendor: string;
  model: string;
}

export interface Region {
  regionId: string;
  name: string;
}

export interface Account {
  accountId: string;
  legalName: string;
  currency: string;
  timezone: string;
}

/** One line of a statement, as billing's StatementLine (services/billing/src/domain/statement/statement.ts). */
export interface StatementLine {
  day: string;
  kind: string;
  /** What the line is about: an allocation id, a transfer id, a note id. */
  ref: string;
  role: 'buyer' | 'provider' | null;
  instrument: string | null;
  quantity: string | null;
  unit: string | null;
  unitPrice: string | null;
  /** The account's cash effect, signed, without fees. */
  amount: string;
  /** Fees paid (negative) or refunded (positive) on this line. */
  fee: string;
  guidanceVersion: string | null;
  ratedAtFloor: boolean;
}

/**
 * A credit or debit note against a reissued statement. Its money is booked in the period open when it was issued
 * (`bookedOn`), so the statement's own lines and totals stay as the ledger booked them and the note is counted in
 * `adjustedTotals` instead.
 */
export interface NoteAdjustment {
  noteId: string;
  kind: 'credit_note' | 'debit_note';
  /** Signed: a credit note is positive, a debit note negative. */
  amount: string;
  reason: string;
  disputeId: string | null;
  transferId: string;
  issuedAt: string;
  bookedOn: string;
}

export interface AdjustedTotals {
  /** The sum of the adjustments. */
  adjustments: string;
  /** totals.net + adjustments. */
  net: string;
  /** closingBalance + adjustments. */
  closingBalance: string;
}

/** A statement version as GET /v1/statements/{account}/{period} answers it (the list omits `lines`). */
export interface Statement {
  statementId: string;
  account: string;
  period: string;
  currency: string;
  version: number;
  supersedes: string | null;
  reason: 'period_close' | 'correction';
  issuedAt: string;
  contentHash: string;
  /** Store revisions of the version's line chunks; null without lines. */
  lineChunks: { fromRevision: string; toRevision: string } | null;
  builtFrom: { ledgerRevision: string | null; position: { commit: string; prepare: string } | null };
  openingBalance: string;
  closingBalance: string;
  guidanceVersions: string[];
  lineCount: number;
  lines?: StatementLine[];
  shortfalls: Array<{
    allocationId: string;
    role: 'buyer' | 'provider';
    allocatedHours: string;
    deliveredHours: string;
    shortfallHours: string;
    value: string;
  }>;
  readingDifferences: Array<{
    allocationId: string;
    providerReportedHours: string;
    buyerReportedHours: string;
    differenceHours: string;
  }>;
  /** Only on a version reissued by a correction, with `adjustedTotals`. */
  adjustments?: NoteAdjustment[];
  adjustedTotals?: AdjustedTotals;
  totals: {
    acceleratorHours: string;
    thousandTokens: string;
    charges: string;
    fees: string;
    deposits: string;
    withdrawals: string;
    notes: string;
    net: string;
    costPerAcceleratorHour: string | null;
    costPerThousandTokens: string | null;
  };
}

export interface LedgerView {
  account: string;
  currency: string;
  creditLine: string;
  available: string;
  balances: Record<string, { posted: string; pending: string }>;
}

export interface Transfer {
  transferId: string;
  kind: string;
  amount: string;
  currency: string;
  status: string;
  code: string;
  counterparty: string;
  ref: string | null;
  at: string;
}

/** One finding of verify (libs/audit/src/verify/checker.ts). */
export interface Violation {
  /** Which check failed, e.g. `chain.hash`. */
  check: string;
  stream: string;
  revision: string;
  /** The event's global position, "commit/prepare". */
  position: string;
  message: string;
  source?: string;
}

/** GET /v1/audit/verifications/{id}: progress while running, verify's report once finished. */
export interface Verification {
  verificationId: string;
  status: 'running' | 'clean' | 'violations' | 'failed';
  requestedBy: string;
  startedAt: string;
  finishedAt: string | null;
  progress: { eventsChecked: number; totalEvents: number | null; fraction: number | null };
  report: {
    clean: boolean;
    sources: string[];
    eventsChecked: number;
    checkpointsChecked: number;
    checkpointsSignedByTrustedKey: number;
    trustedKeyIds: string[];
    keyIdsSeen: string[];
    keysPinned: boolean;
    rules: string[];
    violationCount: number;
    violations: Violation[];
    warnings: string[];
    elapsedMs: number;
  } | null;
  error: string | null;
}

export interface AuditEvent {
  position: string;
  stream: string;
  revision: string;
  id: string;
  type: string;
  data: unknown;
  metadata: { correlationId?: string; causationId?: string; actor?: { keyId: string | null; role: string | null } };
  created: string;
}
