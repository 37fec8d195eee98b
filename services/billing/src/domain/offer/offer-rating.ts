import type { GuidanceBandVersion } from '@cx/guidance';
import { Dec, DomainError, formatDecimal } from '@cx/shared-kernel';
import { type ChargeLine, rateWithFloor } from '../rating/floor';
import { meterUnitOf, toCardUnits } from '../rating/meter-units';
import { parseQuantity } from '../rating/price-models';
import { parseRateCard } from '../rating/rate-card';
import { floorInForce } from './offer.decider';
import type { OfferTerms } from './offer.events';

// Rating usage of an offer (issue 7, item 2): the meter's reading converted to the card's unit, rated by the card,
// never below the floor of the band in force at the time of use. Settlement calls this once per charge line with
// the band it resolved for the usage's time (GuidanceView.bandAt(offer.resourceClass, offer.region, usedAt)), so
// the line records the version that applied and an audit can prove it from the guidance history alone.

export type RatableOffer = Pick<OfferTerms, 'offerId' | 'meter' | 'unit' | 'currency' | 'rateCard'>;

export interface OfferUsageCharge extends ChargeLine {
  offerId: string;
  meter: string;
  /** The usage as the meter counted it (seconds, tokens). */
  meterQuantity: string;
  /** The unit `quantity` and `unitPrice` are in (accelerator-hour, thousand-tokens). */
  unit: OfferTerms['unit'];
}

/**
 * Rates `usageQuantity` (in the meter's unit, a decimal string or Dec, not negative) of `offer` under `band`, the
 * band in force for the offer's scope at the time of use (null where none was).
 */
export const rateOfferUsage = (
  offer: RatableOffer,
  usageQuantity: Dec | string,
  band: GuidanceBandVersion | null,
): OfferUsageCharge => {
  const meterQuantity =
    typeof usageQuantity === 'string' ? parseQuantity(usageQuantity, 'quantity') : new Dec(usageQuantity);
  if (meterQuantity.isNeg() || !meterQuantity.isFinite()) {
    throw DomainError.invalid('BILLING.QUANTITY_INVALID', 'usage quantity must not be negative', 'quantity');
  }
  const meterUnit = meterUnitOf(offer.meter);
  if (meterUnit === undefined || meterUnit.unit !== offer.unit) {
    // An offer is only ever listed with a ratable meter, so this is a record that cannot have been decided.
    throw new TypeError(`offer ${offer.offerId}: meter ${offer.meter} is not rated in ${offer.unit}`);
  }
  if (band !== null && band.currency !== offer.currency) {
    throw new DomainError(
      'BILLING.GUIDANCE_CURRENCY_MISMATCH',
      `the band in force (${band.versionId}) is in ${band.currency}, offer ${offer.offerId} in ${offer.currency}`,
      'unprocessable',
    );
  }
  const card = parseRateCard(offer.rateCard, offer.currency);
  const line = rateWithFloor(card, toCardUnits(meterQuantity, meterUnit), floorInForce(band, offer.unit));
  return {
    ...line,
    offerId: offer.offerId,
    meter: offer.meter,
    meterQuantity: formatDecimal(meterQuantity),
    unit: offer.unit,
  };
};
