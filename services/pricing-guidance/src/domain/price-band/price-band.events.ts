import type { Currency } from '@cx/shared-kernel';

// Price bands (DESIGN.md, "Price band"). A band is one line of versions for one scope: a resource class
// nationally, or a resource class in one region. Its id is the scope itself (`nvidia-h100-sxm-80g` or
// `nvidia-h100-sxm-80g.cn-east-1`), so there is exactly one line per scope and "the band in force" never has to
// compare versions of different lines: a regional band overrides the national one whenever it is in force, and
// within a line the versions are totally ordered by the band's own stream (stream `guidance-<bandId>`, appended at
// an exact expected revision). Version ids are `<bandId>.v<n>`, unique across all bands, and what orders, trades
// and charges record as `guidanceVersion`.
//
// Every event carries one complete version (a consumer needs no earlier event to apply it), shaped so the relay
// can map it field by field onto `cx.pricing.v1.GuidanceChanged` (proto/cx/pricing/v1/guidance.proto).

export interface Issuer {
  /** The regulator's API key id; null for an automatic effect. */
  keyId: string | null;
  role: string | null;
}

export interface PriceBandVersion {
  bandId: string;
  /** `<bandId>.v<version>`. */
  versionId: string;
  /** 1, 2, 3… within the band. */
  version: number;
  resourceClass: string;
  /** null: the national band. */
  region: string | null;
  currency: Currency;
  /** Unit prices as canonical decimal strings in `currency` (see formatPrice). */
  floorPerAcceleratorHour: string;
  floorPerThousandTokens: string | null;
  ceilingPerAcceleratorHour: string | null;
  referencePrice: string | null;
  /** ISO 8601 instants (UTC, milliseconds). The version applies on [effectiveFrom, effectiveTo). */
  effectiveFrom: string;
  effectiveTo: string | null;
  reason: string;
  /** The regulator's document the version rests on, e.g. "NDRC-2026-041". */
  documentRef: string;
  issuedBy: Issuer;
  /** When it was issued, by the business clock. */
  issuedAt: string;
  /** The version this one follows in the band; null for the band's first version. */
  previousVersionId: string | null;
}

export interface PriceBandIssued {
  type: 'PriceBandIssued';
  data: PriceBandVersion;
}

export interface PriceBandAmended {
  type: 'PriceBandAmended';
  data: PriceBandVersion;
}

/**
 * Ends the band at `effectiveTo` (= `effectiveFrom`: the withdrawal itself is in force nowhere). Every earlier
 * version of the band stops applying from that instant; the prices are the previous version's, so the event is
 * still a complete band for a consumer (the contract's GUIDANCE_CHANGE_KIND_WITHDRAWN).
 */
export interface PriceBandWithdrawn {
  type: 'PriceBandWithdrawn';
  data: PriceBandVersion;
}

export type PriceBandEvent = PriceBandIssued | PriceBandAmended | PriceBandWithdrawn;
export const priceBandEventTypes: readonly string[] = ['PriceBandIssued', 'PriceBandAmended', 'PriceBandWithdrawn'];
export const isPriceBandEvent = (type: string): boolean => priceBandEventTypes.includes(type);

export type VersionKind = 'issued' | 'amended' | 'withdrawn';
export const kindOf = (type: PriceBandEvent['type']): VersionKind =>
  type === 'PriceBandIssued' ? 'issued' : type === 'PriceBandAmended' ? 'amended' : 'withdrawn';

/** A version as folded from its event: the data and what kind of change made it. */
export type BandVersion = PriceBandVersion & { kind: VersionKind };

export const bandIdOf = (resourceClass: string, region: string | null): string =>
  region === null ? resourceClass : `${resourceClass}.${region}`;
/** Whether a string can name a band: a class id, optionally followed by `.` and a region id. */
export const isBandId = (v: unknown, isClass: (s: string) => boolean, isRegion: (s: string) => boolean): boolean => {
  if (typeof v !== 'string') return false;
  const [rc, region, ...rest] = v.split('.');
  return rest.length === 0 && rc !== undefined && isClass(rc) && (region === undefined || isRegion(region));
};
export const versionIdOf = (bandId: string, version: number): string => `${bandId}.v${version}`;

export const GUIDANCE_STREAM_PREFIX = 'guidance-';
export const priceBandStream = (bandId: string): string => `${GUIDANCE_STREAM_PREFIX}${bandId}`;
