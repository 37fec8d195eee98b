import type { Currency } from '@cx/shared-kernel';

// The shape of one price-band version that every service resolves "the band in force" over. Pricing-guidance
// records richer versions (issuer, document reference…); other services hold what the integration contract
// carries (`cx.pricing.v1.GuidanceChanged`). Both fit `BandVersionLike`, the fields the resolution rule reads.

export type BandVersionKind = 'issued' | 'amended' | 'withdrawn';

/** What "the band in force at T" reads from a version; any richer version type fits it. */
export interface BandVersionLike {
  /** The band's line: the resource class nationally, or `<class>.<region>`. Stable across versions. */
  bandId: string;
  /** 1, 2, 3… within the band. */
  version: number;
  kind: BandVersionKind;
  resourceClass: string;
  /** null: the national band. */
  region: string | null;
  /** ISO 8601 instants. The version applies on [effectiveFrom, effectiveTo). */
  effectiveFrom: string;
  effectiveTo: string | null;
}

/** A complete band version as another service holds it: the resolution fields and the prices. */
export interface GuidanceBandVersion extends BandVersionLike {
  /** `<bandId>.v<version>`: what a decision records as `guidanceVersion`. */
  versionId: string;
  currency: Currency;
  /** Unit prices as decimal strings in `currency`. */
  floorPerAcceleratorHour: string;
  floorPerThousandTokens: string | null;
  ceilingPerAcceleratorHour: string | null;
  referencePrice: string | null;
  /** The version this one follows in the band; null for the band's first version. */
  previousVersionId: string | null;
}

/** The units a band may set a floor for (DESIGN.md, "Price band"). */
export type BandUnit = 'accelerator-hour' | 'thousand-tokens';

/** The floor a band sets for `unit`, or null where it sets none (a band always floors the accelerator-hour). */
export const floorFor = (band: GuidanceBandVersion, unit: BandUnit): string | null =>
  unit === 'accelerator-hour' ? band.floorPerAcceleratorHour : band.floorPerThousandTokens;
