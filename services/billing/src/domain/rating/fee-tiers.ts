import { Dec } from '@cx/shared-kernel';
import type { AllocationRecord } from '../statement/statement';
import { feeBpsFor, type FeeSchedule, type FeeSide } from './fees';

// Monthly volume tiers at settlement (issue 7, "Fees"): the rate a side pays on an allocation's charge is chosen by
// the account's traded notional so far in the calendar month (UTC) of the day being settled, before this
// settlement. Traded notional is what billing settled, not what it heard: the charges of the account's allocation
// settlements (as buyer or as provider, adjustments included) booked in earlier days of the month, and in the same
// close those of allocations settled before it (a close settles allocations in id order). So the rate depends only
// on recorded settlements and their order, which are the same under replay, redelivery or any arrival order, and a
// settlement's own charge never lowers its own fee.

/** `YYYY-MM` of a day `YYYY-MM-DD` (or of a month). */
export const monthOf = (period: string): string => period.slice(0, 7);

/** Each account's traded notional in the month from the recorded settlements (one pass over them). */
export const notionalByAccount = (records: Iterable<AllocationRecord>, month: string): Map<string, Dec> => {
  const out = new Map<string, Dec>();
  for (const { terms, settled } of records) {
    if (monthOf(settled.period) !== month) continue;
    const charge = new Dec(settled.chargeDelta);
    for (const account of new Set([terms.buyerAccount, terms.providerAccount])) {
      out.set(account, (out.get(account) ?? new Dec(0)).plus(charge));
    }
  }
  return out;
};

/**
 * The whole-bps rate a side pays given its month-to-date notional. Settlement records whole basis points (the
 * configuration refuses fractional tier rates), so the conversion to a number is exact.
 */
export const settlementFeeBps = (schedule: FeeSchedule, side: FeeSide, monthToDate: Dec): number => {
  const rate = feeBpsFor(schedule, side, monthToDate);
  if (!rate.isInteger()) throw new TypeError(`fee rate ${rate.toFixed()} bp is not whole`);
  return rate.toNumber();
};
