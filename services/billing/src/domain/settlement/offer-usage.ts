import type { GuidanceBandVersion } from '@cx/guidance';
import { type Currency, Dec, formatMoney } from '@cx/shared-kernel';
import { participantAccount } from '../ledger/ledger.events';
import { type RatableOffer, rateOfferUsage } from '../offer/offer-rating';
import {
  applyReading,
  feeOn,
  type HasReadings,
  type ReadingEvent,
  settlementTransfers,
} from './allocation-billing.decider';
import type { SettlementTransfer } from './allocation-billing.events';

// Usage of an on-demand offer (issue: "Rate cards"), rated by the offer's card and settled at the day's close like
// an allocation: one aggregate per offer, consuming account and UTC day of use, in the stream
// `billing-offer-usage-<offerId>.<account>.<day>`. It keeps the readings (the same reading events and deciders as
// allocations: recorded once per `(source, id)`, corrected by amendments and voids) and its settlements.
//
// No unit is rated below the floor in force at the time of use: readings are grouped by the band version in force
// when each was used, and each group is rated by the card with that band's floor (a group under a raised floor is
// rated at the floor and flagged). Tiers apply within a day's group.

export const OFFER_USAGE_PREFIX = 'billing-offer-usage-';
export const offerUsageStream = (offerId: string, account: string, day: string): string =>
  `${OFFER_USAGE_PREFIX}${offerId}.${account}.${day}`;

export interface OfferUsageOpened {
  type: 'OfferUsageOpened';
  data: { offerId: string; account: string; day: string };
}

export interface OfferUsageSettled {
  type: 'OfferUsageSettled';
  data: {
    settlementId: string;
    sequence: number;
    kind: 'settlement' | 'adjustment';
    period: string;
    offerId: string;
    consumerAccount: string;
    providerAccount: string;
    currency: string;
    meter: string;
    unit: string;
    /** Usage in the meter's unit and in the card's unit, cumulative. */
    meterQuantity: string;
    quantity: string;
    quantityDelta: string;
    /** The charge ÷ quantity, shown to the minor unit's precision plus four digits; null without usage. */
    unitPrice: string | null;
    charge: string;
    chargeDelta: string;
    consumerFee: string;
    consumerFeeDelta: string;
    providerFee: string;
    providerFeeDelta: string;
    ratedAtFloor: boolean;
    guidanceVersions: string[];
    transfers: SettlementTransfer[];
    at: string;
  };
}

export type OfferUsageEvent = OfferUsageOpened | ReadingEvent | OfferUsageSettled;
export const isOfferUsageEvent = (type: string): boolean =>
  [
    'OfferUsageOpened',
    'DeliveryReadingRecorded',
    'DeliveryReadingAmended',
    'DeliveryReadingVoided',
    'OfferUsageSettled',
  ].includes(type);

export interface OfferUsageState extends HasReadings {
  key: OfferUsageOpened['data'] | null;
  settled: { sequence: number; charge: string; consumerFee: string; providerFee: string; quantity: string };
  dirty: boolean;
}

export const initialOfferUsage = (): OfferUsageState => ({
  key: null,
  readings: new Map(),
  settled: { sequence: 0, charge: '0', consumerFee: '0', providerFee: '0', quantity: '0' },
  dirty: false,
});

/** Mutates the state it is given (a hot aggregate with one writer, like the ledger). */
export const evolveOfferUsage = (s: OfferUsageState, e: OfferUsageEvent): OfferUsageState => {
  if (e.type === 'OfferUsageOpened') {
    s.key = e.data;
  } else if (e.type === 'OfferUsageSettled') {
    s.settled = {
      sequence: e.data.sequence,
      charge: e.data.charge,
      consumerFee: e.data.consumerFee,
      providerFee: e.data.providerFee,
      quantity: e.data.quantity,
    };
    s.dirty = false;
  } else {
    applyReading(s, e);
  }
  return s;
};

export interface SettleOfferUsage {
  settlementId: string;
  period: string;
  offer: RatableOffer & { providerAccount: string };
  /** The band in force for the offer's scope at an instant (null where none was). */
  bandAt: (at: Date) => GuidanceBandVersion | null;
  consumerFeeBps: number;
  providerFeeBps: number;
  now: Date;
}

export const decideOfferUsageSettlement = (s: OfferUsageState, cmd: SettleOfferUsage): OfferUsageSettled[] => {
  const key = s.key;
  if (key === null) return [];
  const first = s.settled.sequence === 0;
  if (!first && !s.dirty) return [];
  const currency = cmd.offer.currency as Currency;
  const groups = new Map<string, { band: GuidanceBandVersion | null; quantity: Dec }>();
  for (const r of s.readings.values()) {
    if (r.voided || r.meter !== cmd.offer.meter) continue;
    const band = cmd.bandAt(new Date(r.usageTime));
    const id = band?.versionId ?? '';
    const g = groups.get(id) ?? { band, quantity: new Dec(0) };
    g.quantity = g.quantity.plus(r.quantity);
    groups.set(id, g);
  }
  let meterQuantity = new Dec(0);
  let quantity = new Dec(0);
  let charge = new Dec(0);
  let ratedAtFloor = false;
  const versions = new Set<string>();
  for (const [, g] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const line = rateOfferUsage(cmd.offer, g.quantity, g.band);
    meterQuantity = meterQuantity.plus(g.quantity);
    quantity = quantity.plus(line.quantity);
    charge = charge.plus(line.amount);
    ratedAtFloor ||= line.ratedAtFloor;
    if (line.guidanceVersion !== null) versions.add(line.guidanceVersion);
  }
  const consumerFee = feeOn(charge, cmd.consumerFeeBps, currency);
  const providerFee = feeOn(charge, cmd.providerFeeBps, currency);
  const chargeDelta = charge.minus(s.settled.charge);
  const consumerFeeDelta = consumerFee.minus(s.settled.consumerFee);
  const providerFeeDelta = providerFee.minus(s.settled.providerFee);
  if (!first && chargeDelta.isZero() && consumerFeeDelta.isZero() && providerFeeDelta.isZero()) return [];
  if (first && charge.isZero() && groups.size === 0) return [];

  const f = (d: Dec) => formatMoney(d, currency);
  const consumerCash = participantAccount(key.account, 'cash');
  const providerCash = participantAccount(cmd.offer.providerAccount, 'cash');
  const { transfers, add, withFees } = settlementTransfers(cmd.settlementId, cmd.offer.offerId, cmd.period, currency);
  withFees(
    [
      [consumerCash, consumerFeeDelta],
      [providerCash, providerFeeDelta],
    ],
    () => add('offer_usage', consumerCash, providerCash, chargeDelta),
  );
  return [
    {
      type: 'OfferUsageSettled',
      data: {
        settlementId: cmd.settlementId,
        sequence: s.settled.sequence + 1,
        kind: first ? 'settlement' : 'adjustment',
        period: cmd.period,
        offerId: cmd.offer.offerId,
        consumerAccount: key.account,
        providerAccount: cmd.offer.providerAccount,
        currency,
        meter: cmd.offer.meter,
        unit: cmd.offer.unit,
        meterQuantity: meterQuantity.toFixed(),
        quantity: quantity.toFixed(),
        quantityDelta: quantity.minus(s.settled.quantity).toFixed(),
        unitPrice: quantity.isZero() ? null : charge.div(quantity).toDecimalPlaces(6, Dec.ROUND_HALF_EVEN).toFixed(),
        charge: f(charge),
        chargeDelta: f(chargeDelta),
        consumerFee: f(consumerFee),
        consumerFeeDelta: f(consumerFeeDelta),
        providerFee: f(providerFee),
        providerFeeDelta: f(providerFeeDelta),
        ratedAtFloor,
        guidanceVersions: [...versions].sort(),
        transfers,
        at: cmd.now.toISOString(),
      },
    },
  ];
};
