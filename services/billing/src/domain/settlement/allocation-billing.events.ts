// What billing knows about one allocation, in its own stream `billing-allocation-<allocationId>`: the terms heard
// from matching, the delivery readings heard from metering, and every settlement booked for it. Consumers append
// here at the exact revision they read (DESIGN.md: effects in the consumer's own stream), so a redelivered
// reading or allocation changes nothing.

export const ALLOCATION_BILLING_PREFIX = 'billing-allocation-';
export const allocationBillingStream = (allocationId: string): string => `${ALLOCATION_BILLING_PREFIX}${allocationId}`;

/** A trade's facts billing needs beyond the allocation: who took liquidity (fees differ for maker and taker). */
export const TRADE_BILLING_PREFIX = 'billing-trade-';
export const tradeBillingStream = (tradeId: string): string => `${TRADE_BILLING_PREFIX}${tradeId}`;

export interface AllocationTerms {
  allocationId: string;
  tradeId: string;
  instrumentId: string;
  resourceClass: string;
  region: string;
  providerAccount: string;
  buyerAccount: string;
  /** Accelerator-hours allocated, a decimal string. */
  quantity: string;
  /** Per accelerator-hour, in `currency`. */
  price: string;
  currency: string;
  /** ISO instants, [start, end). The UTC day of the start is the period the allocation settles in. */
  deliveryStart: string;
  deliveryEnd: string;
  guidanceVersion: string | null;
}

export interface AllocationRegistered {
  type: 'AllocationRegistered';
  data: AllocationTerms;
}

export type ReadingRole = 'provider' | 'buyer';

/** One usage event from metering for this allocation: `key` is its `(source, id)`. */
export interface DeliveryReadingRecorded {
  type: 'DeliveryReadingRecorded';
  data: {
    key: string;
    role: ReadingRole;
    meter: string;
    quantity: string;
    usageTime: string;
    /** Metering saw the usage's period already closed (it is settled as an adjustment in a later period). */
    late: boolean;
  };
}

export interface DeliveryReadingAmended {
  type: 'DeliveryReadingAmended';
  data: { key: string; quantity: string; previousQuantity: string };
}

export interface DeliveryReadingVoided {
  type: 'DeliveryReadingVoided';
  data: { key: string };
}

/** A transfer the settlement books, exactly as submitted to the ledger (so a resumed close re-submits the same). */
export interface SettlementTransfer {
  id: string;
  debitAccount: string;
  creditAccount: string;
  amount: string;
  phase?: 'post' | 'void';
  pendingId?: string;
  code: string;
  ref: string;
  period: string;
}

/**
 * One settlement of the allocation, booked in `period`: the first is its settlement, later ones (after late or
 * corrected readings) adjustments by the difference. Amounts are cumulative over the allocation's settlements,
 * with the deltas this one books beside them; the transfers are what it submits to the ledger.
 */
export interface AllocationSettled {
  type: 'AllocationSettled';
  data: {
    settlementId: string;
    sequence: number;
    kind: 'settlement' | 'adjustment';
    period: string;
    currency: string;
    buyerAccount: string;
    providerAccount: string;
    /** Provider-reported accelerator-hours, before the cap at the allocated quantity. */
    reportedHours: string;
    /** Buyer-reported accelerator-hours: evidence, never billed. */
    buyerReportedHours: string;
    deliveredHours: string;
    deliveredHoursDelta: string;
    shortfallHours: string;
    overageHours: string;
    /** `reference`: overage rated at the band's reference price; `unrated`: no reference price was in force. */
    overageRating: 'none' | 'reference' | 'unrated';
    overagePrice: string | null;
    overageVersion: string | null;
    charge: string;
    chargeDelta: string;
    buyerFee: string;
    buyerFeeDelta: string;
    providerFee: string;
    providerFeeDelta: string;
    buyerFeeBps: number;
    providerFeeBps: number;
    transfers: SettlementTransfer[];
    at: string;
  };
}

export type AllocationBillingEvent =
  AllocationRegistered | DeliveryReadingRecorded | DeliveryReadingAmended | DeliveryReadingVoided | AllocationSettled;

export const allocationBillingEventTypes: readonly string[] = [
  'AllocationRegistered',
  'DeliveryReadingRecorded',
  'DeliveryReadingAmended',
  'DeliveryReadingVoided',
  'AllocationSettled',
];
export const isAllocationBillingEvent = (type: string): boolean => allocationBillingEventTypes.includes(type);

export interface TradeHeard {
  type: 'TradeHeard';
  data: { tradeId: string; aggressorSide: 'buy' | 'sell' | null };
}
