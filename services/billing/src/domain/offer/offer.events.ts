import type { BandUnit } from '@cx/guidance';
import type { Currency } from '@cx/shared-kernel';
import type { RateCardTerms } from '../rating/rate-card';

// Offers (DESIGN.md, "Offer"): a provider's on-demand listing for one resource class (optionally one region) and
// one meter, priced by a rate card in the unit the meter is quoted in. Stream `offer-<offerId>`. An offer is never
// edited: a provider withdraws it and lists another, so every usage rated against an offer id is rated by one
// card for the offer's whole life.

export interface OfferTerms {
  offerId: string;
  /** The participant account that provides the capacity and is paid for usage. */
  providerAccount: string;
  resourceClass: string;
  /** null: offered wherever the provider delivers; the national band applies. */
  region: string | null;
  /** The metering meter usage events name, e.g. `accelerator_seconds`, `tokens`. */
  meter: string;
  /** What the card is quoted in: derived from the meter (accelerator_seconds → accelerator-hour). */
  unit: BandUnit;
  currency: Currency;
  /** Canonical form (rateCardTerms). */
  rateCard: RateCardTerms;
}

export interface OfferListed {
  type: 'OfferListed';
  data: OfferTerms & {
    listedAt: string;
    /** The floor for the unit the card was checked against at listing, and the band version that set it. */
    floorPerUnit: string | null;
    guidanceVersion: string | null;
  };
}

export interface OfferWithdrawn {
  type: 'OfferWithdrawn';
  data: { offerId: string; withdrawnAt: string; reason: string | null };
}

export type OfferEvent = OfferListed | OfferWithdrawn;
export const offerEventTypes: readonly string[] = ['OfferListed', 'OfferWithdrawn'];
export const isOfferEvent = (type: string): boolean => offerEventTypes.includes(type);

export const OFFER_STREAM_PREFIX = 'offer-';
export const offerStream = (offerId: string): string => `${OFFER_STREAM_PREFIX}${offerId}`;
