import { assertNever, type Currency, Dec, formatMoney } from '@cx/shared-kernel';
import { participantAccount, exchangeAccount } from '../ledger/ledger.events';
import type {
  AllocationBillingEvent,
  AllocationSettled,
  AllocationTerms,
  DeliveryReadingAmended,
  DeliveryReadingRecorded,
  DeliveryReadingVoided,
  ReadingRole,
  SettlementTransfer,
} from './allocation-billing.events';

// Rating and settlement of one allocation (issue: "Rating of allocations"). The charge is the delivered
// accelerator-hours (the provider's `accelerator_seconds` readings, capped at the allocated quantity) × the traded
// price; undelivered capacity is a shortfall nobody pays for; usage beyond the allocation is overage, rated at the
// reference price of the band in force at delivery, or reported unrated where the band has none.
//
// Like the ledger, this is a hot aggregate kept in memory by one writer: `evolve` mutates the state it is given.

export const DELIVERY_METER = 'accelerator_seconds';
const SECONDS_PER_HOUR = 3600;
/** Hours are shown to the microhour (3.6 ms); money is computed from the exact seconds. */
const HOURS_DECIMALS = 6;

export interface Reading {
  role: ReadingRole;
  meter: string;
  quantity: string;
  usageTime: string;
  voided: boolean;
}

/** What the reading deciders need: the readings recorded so far (an allocation's, or an offer usage's). */
export interface HasReadings {
  readings: Map<string, Reading>;
}

export interface AllocationBillingState {
  terms: AllocationTerms | null;
  readings: Map<string, Reading>;
  /** Cumulative over the settlements booked, as decimal strings; `sequence` 0 before the first. */
  settled: { sequence: number; deliveredHours: string; charge: string; buyerFee: string; providerFee: string };
  /** The last period a settlement was booked in. */
  lastPeriod: string | null;
  /** Readings or terms changed since the last settlement: the next close looks at this allocation. */
  dirty: boolean;
}

export const initialAllocationBilling = (): AllocationBillingState => ({
  terms: null,
  readings: new Map(),
  settled: { sequence: 0, deliveredHours: '0', charge: '0', buyerFee: '0', providerFee: '0' },
  lastPeriod: null,
  dirty: false,
});

export const evolve = (s: AllocationBillingState, e: AllocationBillingEvent): AllocationBillingState => {
  switch (e.type) {
    case 'AllocationRegistered':
      s.terms = e.data;
      s.dirty = true;
      return s;
    case 'DeliveryReadingRecorded':
    case 'DeliveryReadingAmended':
    case 'DeliveryReadingVoided':
      applyReading(s, e);
      return s;
    case 'AllocationSettled':
      s.settled = {
        sequence: e.data.sequence,
        deliveredHours: e.data.deliveredHours,
        charge: e.data.charge,
        buyerFee: e.data.buyerFee,
        providerFee: e.data.providerFee,
      };
      s.lastPeriod = e.data.period;
      s.dirty = false;
      return s;
    default:
      return assertNever(e);
  }
};

// ------------------------------------------------------------------------------------------------ readings

/** Folds a reading event into any aggregate that keeps readings (mutating it, like `evolve`). */
export const applyReading = (s: HasReadings & { dirty: boolean }, e: ReadingEvent): void => {
  s.dirty = true;
  if (e.type === 'DeliveryReadingRecorded') {
    const { role, meter, quantity, usageTime } = e.data;
    s.readings.set(e.data.key, { role, meter, quantity, usageTime, voided: false });
    return;
  }
  const r = s.readings.get(e.data.key);
  if (r === undefined) return;
  if (e.type === 'DeliveryReadingAmended') r.quantity = e.data.quantity;
  else r.voided = true;
};

export type ReadingEvent = DeliveryReadingRecorded | DeliveryReadingAmended | DeliveryReadingVoided;

export type ReadingOutcome = 'recorded' | 'duplicate' | 'conflict' | 'unknown_reading' | 'stale';

/** A usage event heard for this allocation: recorded once per `(source, id)`. */
export const decideReading = (
  s: HasReadings,
  r: DeliveryReadingRecorded['data'],
): { outcome: ReadingOutcome; events: ReadingEvent[] } => {
  const known = s.readings.get(r.key);
  if (known === undefined) return { outcome: 'recorded', events: [{ type: 'DeliveryReadingRecorded', data: r }] };
  // Metering dedupes by (source, id); a second body under the same id would be its bug, so it is reported, not used.
  const same = known.role === r.role && known.meter === r.meter;
  return { outcome: same ? 'duplicate' : 'conflict', events: [] };
};

/**
 * A correction heard from metering. It applies only to the quantity it corrects (compare-and-set on
 * `previousQuantity`), so a redelivered older amendment never undoes a newer one.
 */
export const decideAmendment = (
  s: HasReadings,
  a: DeliveryReadingAmended['data'],
): { outcome: ReadingOutcome; events: ReadingEvent[] } => {
  const known = s.readings.get(a.key);
  if (known === undefined) return { outcome: 'unknown_reading', events: [] };
  if (known.voided) return { outcome: 'stale', events: [] };
  if (new Dec(known.quantity).eq(a.quantity)) return { outcome: 'duplicate', events: [] };
  if (!new Dec(known.quantity).eq(a.previousQuantity)) return { outcome: 'stale', events: [] };
  return { outcome: 'recorded', events: [{ type: 'DeliveryReadingAmended', data: a }] };
};

export const decideVoid = (
  s: HasReadings,
  v: DeliveryReadingVoided['data'],
): { outcome: ReadingOutcome; events: ReadingEvent[] } => {
  const known = s.readings.get(v.key);
  if (known === undefined) return { outcome: 'unknown_reading', events: [] };
  if (known.voided) return { outcome: 'duplicate', events: [] };
  return { outcome: 'recorded', events: [{ type: 'DeliveryReadingVoided', data: v }] };
};

// ------------------------------------------------------------------------------------------------ settlement

export interface SettleAllocation {
  settlementId: string;
  period: string;
  currency: Currency;
  buyerFeeBps: number;
  providerFeeBps: number;
  /** The band's reference price at delivery (per accelerator-hour) and its version, for overage; null: none. */
  reference: { price: string; version: string } | null;
  /** The buyer's hold for the trade, if the ledger has it pending: posted by the first settlement. */
  hold: { id: string; amount: string } | null;
  now: Date;
}

const hoursOf = (s: AllocationBillingState, role: ReadingRole): Dec => {
  let seconds = new Dec(0);
  for (const r of s.readings.values()) {
    if (r.role === role && r.meter === DELIVERY_METER && !r.voided) seconds = seconds.plus(r.quantity);
  }
  return seconds.div(SECONDS_PER_HOUR);
};

const hours = (d: Dec): string => d.toDecimalPlaces(HOURS_DECIMALS, Dec.ROUND_HALF_EVEN).toFixed();

/** The fee on an amount at `bps` basis points, rounded half-even to the currency's minor unit. */
export const feeOn = (amount: Dec, bps: number, currency: Currency): Dec =>
  new Dec(formatMoney(amount.times(bps).div(10_000), currency));

/**
 * Settles what changed since the last settlement: the first books the charge (posting the buyer's hold for it and
 * releasing the rest), later ones book the difference as an adjustment. Nothing changed: no event.
 */
export const decideSettlement = (s: AllocationBillingState, cmd: SettleAllocation): AllocationSettled[] => {
  const t = s.terms;
  if (t === null) return [];
  const first = s.settled.sequence === 0;
  if (!first && !s.dirty) return [];
  const cur = cmd.currency;
  const money = (d: Dec) => new Dec(formatMoney(d, cur));
  const allocated = new Dec(t.quantity);
  const reported = hoursOf(s, 'provider');
  const delivered = Dec.min(reported, allocated);
  const overage = Dec.max(reported.minus(allocated), 0);
  const rating: AllocationSettled['data']['overageRating'] = overage.isZero()
    ? 'none'
    : cmd.reference === null
      ? 'unrated'
      : 'reference';
  const overageAmount = rating === 'reference' ? overage.times((cmd.reference as { price: string }).price) : new Dec(0);
  const charge = money(delivered.times(t.price).plus(overageAmount));
  const buyerFee = feeOn(charge, cmd.buyerFeeBps, cur);
  const providerFee = feeOn(charge, cmd.providerFeeBps, cur);
  const chargeDelta = charge.minus(s.settled.charge);
  const buyerFeeDelta = buyerFee.minus(s.settled.buyerFee);
  const providerFeeDelta = providerFee.minus(s.settled.providerFee);
  if (!first && chargeDelta.isZero() && buyerFeeDelta.isZero() && providerFeeDelta.isZero()) return [];

  const sequence = s.settled.sequence + 1;
  const f = (d: Dec) => formatMoney(d, cur);
  const buyerCash = participantAccount(t.buyerAccount, 'cash');
  const buyerHeld = participantAccount(t.buyerAccount, 'held');
  const providerCash = participantAccount(t.providerAccount, 'cash');
  const { transfers, push, add, withFees } = settlementTransfers(cmd.settlementId, t.allocationId, cmd.period, cur);
  let fromCash = chargeDelta;
  if (first && cmd.hold !== null) {
    // Settlement posts the delivered amount of the buyer's hold and releases the rest (issue: "Holds").
    const posted = Dec.min(charge, cmd.hold.amount);
    push({
      debitAccount: buyerCash,
      creditAccount: buyerHeld,
      amount: posted.isZero() ? cmd.hold.amount : f(posted),
      ...(posted.isZero() ? { phase: 'void' as const } : { phase: 'post' as const }),
      pendingId: cmd.hold.id,
      code: posted.isZero() ? 'hold_release' : 'hold_post',
    });
    add('settlement', buyerHeld, providerCash, posted);
    fromCash = charge.minus(posted);
  }
  withFees(
    [
      [buyerCash, buyerFeeDelta],
      [providerCash, providerFeeDelta],
    ],
    () => add(first ? 'settlement' : 'adjustment', buyerCash, providerCash, fromCash),
  );

  return [
    {
      type: 'AllocationSettled',
      data: {
        settlementId: cmd.settlementId,
        sequence,
        kind: first ? 'settlement' : 'adjustment',
        period: cmd.period,
        currency: cur,
        buyerAccount: t.buyerAccount,
        providerAccount: t.providerAccount,
        reportedHours: hours(reported),
        buyerReportedHours: hours(hoursOf(s, 'buyer')),
        deliveredHours: hours(delivered),
        deliveredHoursDelta: hours(delivered.minus(s.settled.deliveredHours)),
        shortfallHours: hours(allocated.minus(delivered)),
        overageHours: hours(overage),
        overageRating: rating,
        overagePrice: rating === 'reference' ? (cmd.reference as { price: string }).price : null,
        overageVersion: rating === 'reference' ? (cmd.reference as { version: string }).version : null,
        charge: f(charge),
        chargeDelta: f(chargeDelta),
        buyerFee: f(buyerFee),
        buyerFeeDelta: f(buyerFeeDelta),
        providerFee: f(providerFee),
        providerFeeDelta: f(providerFeeDelta),
        buyerFeeBps: cmd.buyerFeeBps,
        providerFeeBps: cmd.providerFeeBps,
        transfers,
        at: cmd.now.toISOString(),
      },
    },
  ];
};

/**
 * Builds a settlement's transfers, numbered `<settlementId>:<n>` in the order of the linked chain. A negative
 * amount (a reading corrected down) moves the money back the other way.
 */
export const settlementTransfers = (settlementId: string, ref: string, period: string, currency: Currency) => {
  const transfers: SettlementTransfer[] = [];
  const push = (t: Omit<SettlementTransfer, 'id' | 'ref' | 'period'>) =>
    transfers.push({ id: `${settlementId}:${transfers.length + 1}`, ...t, ref, period });
  const add = (code: string, debit: string, credit: string, amount: Dec) => {
    if (amount.isZero()) return;
    const [d, c] = amount.isNeg() ? [credit, debit] : [debit, credit];
    push({ debitAccount: d, creditAccount: c, amount: formatMoney(amount.abs(), currency), code });
  };
  /**
   * The parties' fee deltas around the charge: refunds before it, so on a correction downwards a party repays
   * with its refund in hand (a provider without a credit line is never refused); new fees after it.
   */
  const withFees = (payers: ReadonlyArray<[string, Dec]>, charge: () => void) => {
    for (const [account, delta] of payers) if (delta.isNeg()) add('fee', account, exchangeAccount('fees'), delta);
    charge();
    for (const [account, delta] of payers) if (!delta.isNeg()) add('fee', account, exchangeAccount('fees'), delta);
  };
  return { transfers, push, add, withFees };
};

/** The UTC day an allocation settles in: its delivery day. */
export const deliveryDayOf = (t: AllocationTerms): string => t.deliveryStart.slice(0, 10);
