// The parts of the exchange's HTTP answers that `cx simulate` reads (the exchange's OpenAPI has the whole shapes).

export interface OrderView {
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
  expiresAt: string | null;
  status: 'open' | 'partially_filled' | 'filled' | 'cancelled' | 'expired' | 'rejected';
  reason: string | null;
}

export interface TradeView {
  tradeId: string;
  sequence: number;
  price: string;
  quantityLots: number;
  aggressorSide: 'buy' | 'sell';
  guidanceVersion: string | null;
  floor: string | null;
  executedAt: string;
}

export interface AllocationView {
  allocationId: string;
  tradeId: string;
  instrument: string;
  providerAccount: string;
  buyerAccount: string;
  quantity: string;
  quantityLots: number;
  price: string;
  deliveryStart: string;
  deliveryEnd: string;
}

export interface InstrumentView {
  instrumentId: string;
  status: 'open' | 'halted' | 'closed';
  floor: string | null;
  guidanceVersion: string | null;
  tradingEndsAt: string;
}

export interface BandVersionView {
  bandId: string;
  versionId: string;
  floorPerAcceleratorHour: string;
  effectiveFrom: string;
  region: string | null;
}

export interface UsageBatchView {
  accepted: number;
  duplicates: number;
  rejected: number;
  results: Array<{ status: 'accepted' | 'duplicate' | 'rejected'; code?: string; message?: string; late?: boolean }>;
}

export interface StatementView {
  statementId: string;
  account: string;
  period: string;
  currency: string;
  openingBalance: string;
  closingBalance: string;
  lineCount: number;
  contentHash: string;
  totals: { charges: string; fees: string; deposits: string; withdrawals: string; notes: string; net: string };
  lines: Array<{ kind: string; amount: string; fee: string }>;
  shortfalls: unknown[];
  readingDifferences: unknown[];
}

export interface LedgerView {
  account: string;
  currency: string;
  available: string;
  balances: Record<'cash' | 'held' | 'payable' | 'receivable', { posted: string; pending: string }>;
}

export interface CloudEvent {
  specversion: '1.0';
  id: string;
  source: string;
  type: string;
  subject: string;
  time: string;
  data: { meter: string; quantity: string };
}
