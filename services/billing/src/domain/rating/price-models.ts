import { assert, assertNever, Dec, DomainError, parseDecimal } from '@cx/shared-kernel';
import type { PriceModel, Tier } from './rate-card';

// The price models as exact arithmetic: what a quantity costs before any rounding. Rounding happens once, on the
// charge line (see floor.ts), so a statement's lines and its unrounded total differ by less than one minor unit
// per line. A quantity of zero costs nothing under every model (no tier is entered, no package started).

/** Parses a usage quantity in the card's unit: a plain decimal, not negative. */
export const parseQuantity = (value: unknown, field = 'quantity'): Dec =>
  parseDecimal(value, { field, service: 'BILLING', nonNegative: true });

const assertQuantity = (q: Dec): void => {
  if (!q.isFinite() || q.isNeg()) {
    throw DomainError.invalid('BILLING.QUANTITY_INVALID', 'a quantity is a finite decimal, not negative', 'quantity');
  }
};

/**
 * Whole packages needed for `quantity` beyond the free units: ceil(billable / size), computed by integer
 * division and remainder so that no quotient is ever rounded.
 */
export const packagesFor = (quantity: Dec, packageSize: Dec, freeUnits: Dec): Dec => {
  const billable = Dec.max(quantity.minus(freeUnits), 0);
  const whole = billable.divToInt(packageSize);
  const rest = billable.minus(whole.times(packageSize));
  assert(!rest.isNeg() && rest.lt(packageSize), `package remainder ${rest.toFixed()} outside [0, ${packageSize})`);
  return rest.isZero() ? whole : whole.plus(1);
};

const graduated = (tiers: readonly Tier[], quantity: Dec): Dec => {
  let amount = new Dec(0);
  let lower = new Dec(0);
  for (const tier of tiers) {
    // A tier is entered only by units strictly above the previous bound.
    if (quantity.lte(lower)) break;
    const upper = tier.upTo === null ? quantity : Dec.min(quantity, tier.upTo);
    amount = amount.plus(upper.minus(lower).times(tier.unitPrice)).plus(tier.flatFee);
    lower = upper;
  }
  return amount;
};

/** The tier the total quantity reaches (volume pricing): the first whose inclusive bound holds it. */
export const volumeTierFor = (tiers: readonly Tier[], quantity: Dec): Tier => {
  const tier = tiers.find((t) => t.upTo === null || quantity.lte(t.upTo));
  assert(tier !== undefined, 'a parsed card ends with an open tier');
  return tier;
};

/** What `quantity` units cost under the model, exactly (no rounding). */
export const ratedAmount = (model: PriceModel, quantity: Dec): Dec => {
  assertQuantity(quantity);
  if (quantity.isZero()) return new Dec(0);
  switch (model.model) {
    case 'flat':
      return quantity.times(model.unitPrice);
    case 'package':
      return packagesFor(quantity, model.packageSize, model.freeUnits).times(model.packagePrice);
    case 'graduated':
      return graduated(model.tiers, quantity);
    case 'volume': {
      const tier = volumeTierFor(model.tiers, quantity);
      return quantity.times(tier.unitPrice).plus(tier.flatFee);
    }
    default:
      return assertNever(model);
  }
};
