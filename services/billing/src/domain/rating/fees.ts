import { type Currency, Dec, DomainError, formatDecimal, formatMoney, parseDecimal } from '@cx/shared-kernel';

// Exchange fees (issue 7, "Fees"): basis points of a trade's notional, per side (the maker, whose order rested,
// and the taker may pay different rates), optionally lowered by monthly volume tiers: the rate is chosen by the
// account's traded notional so far this month (before the trade being charged), so one trade's fee never depends
// on itself. A fee is rounded once, half-even to the currency's minor unit.

export type FeeSide = 'maker' | 'taker';

export interface FeeScheduleTerms {
  makerBps: string;
  takerBps: string;
  /** Rates from a month-to-date notional on; ascending by `fromNotional`, every bound above zero. */
  volumeTiers?: { fromNotional: string; makerBps: string; takerBps: string }[];
}

export interface FeeRates {
  makerBps: Dec;
  takerBps: Dec;
}

export interface FeeSchedule extends FeeRates {
  volumeTiers: (FeeRates & { fromNotional: Dec })[];
}

/** Most digits after the point of a rate in basis points (0.25 bp is a usual step). */
export const BPS_DECIMALS = 4;
const BPS_PER_UNIT = 10_000;

const bps = (value: unknown, field: string): Dec =>
  parseDecimal(value, { field, service: 'BILLING', nonNegative: true, maxDecimals: BPS_DECIMALS });

export const parseFeeSchedule = (terms: FeeScheduleTerms, field = 'fees'): FeeSchedule => {
  const tiers = (terms.volumeTiers ?? []).map((t, i) => ({
    fromNotional: parseDecimal(t.fromNotional, {
      field: `${field}.volumeTiers[${i}].fromNotional`,
      service: 'BILLING',
      positive: true,
    }),
    makerBps: bps(t.makerBps, `${field}.volumeTiers[${i}].makerBps`),
    takerBps: bps(t.takerBps, `${field}.volumeTiers[${i}].takerBps`),
  }));
  tiers.forEach((t, i) => {
    const previous = tiers[i - 1];
    if (previous && t.fromNotional.lte(previous.fromNotional)) {
      throw DomainError.invalid(
        'BILLING.TIERS_NOT_ASCENDING',
        'volume tiers must start at increasing notionals',
        `${field}.volumeTiers[${i}].fromNotional`,
      );
    }
  });
  return {
    makerBps: bps(terms.makerBps, `${field}.makerBps`),
    takerBps: bps(terms.takerBps, `${field}.takerBps`),
    volumeTiers: tiers,
  };
};

/** The rate for a side, given the account's traded notional this month before the trade. */
export const feeBpsFor = (schedule: FeeSchedule, side: FeeSide, monthToDateNotional: Dec): Dec => {
  let rates: FeeRates = schedule;
  for (const tier of schedule.volumeTiers) {
    if (monthToDateNotional.gte(tier.fromNotional)) rates = tier;
  }
  return side === 'maker' ? rates.makerBps : rates.takerBps;
};

/** `amount` × `bps` / 10,000, rounded half-even to the currency's minor unit. */
export const fee = (amount: Dec, feeBps: Dec, currency: Currency): Dec =>
  new Dec(formatMoney(amount.times(feeBps).div(BPS_PER_UNIT), currency));

export interface FeeCharge {
  feeBps: string;
  amount: string;
  currency: Currency;
}

/** The fee one side of a trade pays on its notional. */
export const tradeFee = (
  schedule: FeeSchedule,
  trade: { notional: Dec; side: FeeSide; monthToDateNotional: Dec; currency: Currency },
): FeeCharge => {
  const rate = feeBpsFor(schedule, trade.side, trade.monthToDateNotional);
  return {
    feeBps: formatDecimal(rate),
    amount: formatMoney(fee(trade.notional, rate, trade.currency), trade.currency),
    currency: trade.currency,
  };
};
