import { type Currency, Dec, DomainError, type ErrorDetail, formatDecimal, formatMoney } from '@cx/shared-kernel';
import { ratedAmount } from './price-models';
import type { RateCard } from './rate-card';

// The floor (DESIGN.md, "The floor"): no unit of usage is rated below the band's floor for that unit in force at
// the time of use. Two points apply it:
//
// - Listing: a card any of whose unit prices is below the floor in force is refused (BILLING.RATE_BELOW_FLOOR,
//   one detail per price at fault). A unit price is a flat card's price, a package's price per unit (compared
//   as packagePrice ≥ floor × packageSize, so nothing is divided), and each tier's unit price; free units are
//   units priced at zero, so a card with free units is refused wherever a positive floor is in force. Flat fees
//   only ever add to a charge, so they are not unit prices. A card that passes can never rate below that floor.
// - Rating: after a later floor rise, a charge whose effective unit price (its exact amount ÷ quantity) is below
//   the floor is rated at quantity × floor instead, flagged `ratedAtFloor` with the guidance version, so the
//   statement shows it and an audit can prove it from the guidance history alone.

/** The band in force for the unit, as a rating uses it. */
export interface FloorInForce {
  /** The band's floor for this unit; null where the band sets none (e.g. no per-1,000-token floor). */
  perUnit: Dec | null;
  /** The band version consulted: recorded on the charge even when it sets no floor for the unit. */
  guidanceVersion: string;
}

/** A rated charge line as it leaves the rating (decimal strings; amounts with the currency beside them). */
export interface ChargeLine {
  /** In the card's unit (accelerator-hours, thousands of tokens); display form, ≤ DISPLAY_DECIMALS places. */
  quantity: string;
  /**
   * The effective unit price, amount ÷ quantity before rounding (the floor when rated at the floor); display
   * form, ≤ DISPLAY_DECIMALS places. "0" for a zero quantity.
   */
  unitPrice: string;
  /** The charge, rounded half-even to the currency's minor unit: the one rounding point of a charge. */
  amount: string;
  currency: Currency;
  /** True when the card would have rated below the floor and the floor was charged instead. */
  ratedAtFloor: boolean;
  /** The floor applied or checked against, or null where none was in force for the unit. */
  floorPerUnit: string | null;
  /** The band version in force at the time of use; null where no band was in force. */
  guidanceVersion: string | null;
}

/**
 * Digits kept after the point when a quantity or unit price is shown. Display only: a quantity converted from
 * seconds (1 s = 1/3600 h) has no finite decimal form, and the amount is computed from the exact values.
 */
export const DISPLAY_DECIMALS = 12;

const display = (d: Dec): string => formatDecimal(d.toDecimalPlaces(DISPLAY_DECIMALS, Dec.ROUND_HALF_EVEN));

/** Rates `quantity` by the card, never below the floor in force. */
export const rateWithFloor = (card: RateCard, quantity: Dec, floorPerUnit: FloorInForce | null): ChargeLine => {
  const exact = ratedAmount(card, quantity);
  const floor = floorPerUnit?.perUnit ?? null;
  // amount < quantity × floor is "amount ÷ quantity < floor" without a division (and false for zero usage).
  const atFloor = floor !== null && exact.lt(quantity.times(floor));
  const amount = atFloor ? quantity.times(floor) : exact;
  const unitPrice = atFloor ? floor : quantity.isZero() ? new Dec(0) : exact.div(quantity);
  return {
    quantity: display(quantity),
    unitPrice: display(unitPrice),
    amount: formatMoney(amount, card.currency),
    currency: card.currency,
    ratedAtFloor: atFloor,
    floorPerUnit: floor === null ? null : formatDecimal(floor),
    guidanceVersion: floorPerUnit?.guidanceVersion ?? null,
  };
};

/** The unit prices of a card below `floor`, as error details naming each field at fault. */
export const pricesBelowFloor = (card: RateCard, floor: Dec, field = 'rateCard'): ErrorDetail[] => {
  const code = 'BILLING.RATE_BELOW_FLOOR';
  const faults: ErrorDetail[] = [];
  const below = (f: string, message: string) => faults.push({ field: `${field}.${f}`, code, message });
  switch (card.model) {
    case 'flat':
      if (card.unitPrice.lt(floor)) below('unitPrice', `${card.unitPrice.toFixed()} is below the floor ${floor}`);
      break;
    case 'package':
      if (card.packagePrice.lt(floor.times(card.packageSize))) {
        below('packagePrice', `a package of ${card.packageSize} costs less than ${card.packageSize} × ${floor}`);
      }
      if (card.freeUnits.gt(0) && floor.gt(0)) below('freeUnits', `free units are priced below the floor ${floor}`);
      break;
    default:
      card.tiers.forEach((t, i) => {
        if (t.unitPrice.lt(floor)) {
          below(`tiers[${i}].unitPrice`, `${t.unitPrice.toFixed()} is below the floor ${floor}`);
        }
      });
  }
  return faults;
};

/** Refuses a card with any unit price below the floor in force (listing). */
export const assertNotBelowFloor = (card: RateCard, floor: FloorInForce | null, field = 'rateCard'): void => {
  if (floor === null || floor.perUnit === null) return;
  const faults = pricesBelowFloor(card, floor.perUnit, field);
  if (faults.length > 0) {
    throw new DomainError(
      'BILLING.RATE_BELOW_FLOOR',
      `the rate card prices units below the floor ${floor.perUnit.toFixed()} ${card.currency} of ${floor.guidanceVersion}`,
      'unprocessable',
      faults,
    );
  }
};
