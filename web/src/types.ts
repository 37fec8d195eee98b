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

export interface StatementLine {
  kind: string;
  day?: string;
  ref?: string;
  role?: string;
  instrument?: string;
  quantity?: string;
  unit?: string;
  unitPrice?: string;
  amount: string;
  fee?: string;
  guidanceVersion?: string | null;
}

export interface Statement {
  statementId: string;
  account: string;
  period: string;
  currency: string;
  version: number;
  issuedAt: string;
  contentHash: string;
  openingBalance: string;
  closingBalance: string;
  guidanceVersions: string[];
  lineCount: number;
  lines?: StatementLine[];
  shortfalls: Array<{
    allocationId: string;
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
  adjustments?: StatementLine[];
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

export interface Verification {
  verificationId: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  progress: { eventsChecked: number; totalEvents: number | null; fraction: number | null };
  report: {
    clean: boolean;
    eventsChecked: number;
    violationCount: number;
    violations: Array<{
      check: string;
      stream: string;
      revision: string;
      position: string;
      message: string;
      source?: string;
    }>;
    warnings: string[];
    rules: string[];
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
