import { type GuidanceChanged, GuidanceChangeKind, type Money, timestampDate } from '@cx/contracts';
import { type Currency, isCurrency, isDecimalString } from '@cx/shared-kernel';
import type { BandVersionKind, GuidanceBandVersion } from './band-version';

// From the integration contract (`cx.pricing.v1.GuidanceChanged` on `cx.pricing.guidance.v1`, decoded with
// `decodeEvent('cx.pricing.guidance.v1', bytes)`) to the band-version shape every consumer resolves over. A
// message that cannot be a complete version is answered with the reason, never half-applied: a band without its
// floor would read as "no floor", which is looser than any band the regulator could have issued.

export type MappedBand = { ok: true; version: GuidanceBandVersion } | { ok: false; problem: string };

const KIND: Readonly<Partial<Record<GuidanceChangeKind, BandVersionKind>>> = {
  [GuidanceChangeKind.ISSUED]: 'issued',
  [GuidanceChangeKind.AMENDED]: 'amended',
  [GuidanceChangeKind.WITHDRAWN]: 'withdrawn',
};

const fail = (problem: string): MappedBand => ({ ok: false, problem });

export const bandVersionFromContract = (changed: GuidanceChanged): MappedBand => {
  const kind = KIND[changed.kind];
  if (kind === undefined) return fail(`unknown change kind ${String(changed.kind)}`);
  const band = changed.band;
  if (band === undefined) return fail('no band');
  if (!band.bandId || !band.versionId || !band.resourceClass) return fail('band id, version id or class is empty');
  if (band.version < 1n || band.version > BigInt(Number.MAX_SAFE_INTEGER)) return fail('version out of range');
  const floor = band.floorPerAcceleratorHour;
  if (floor === undefined) return fail('no floor per accelerator-hour');
  if (band.effectiveFrom === undefined) return fail('no effectiveFrom');
  const currency: unknown = floor.currency;
  if (!isCurrency(currency)) return fail(`unknown currency ${JSON.stringify(currency)}`);

  // Every price of one version is in one currency; a mixed version cannot be compared with anything.
  const price = (m: Money | undefined, field: string): string | null | Error => {
    if (m === undefined) return null;
    if (m.currency !== currency) return new Error(`${field} is in ${m.currency}, the floor in ${currency}`);
    if (!isDecimalString(m.amount)) return new Error(`${field} is not a decimal string`);
    return m.amount;
  };
  const prices = {
    floorPerAcceleratorHour: price(floor, 'floorPerAcceleratorHour'),
    floorPerThousandTokens: price(band.floorPerThousandTokens, 'floorPerThousandTokens'),
    ceilingPerAcceleratorHour: price(band.ceilingPerAcceleratorHour, 'ceilingPerAcceleratorHour'),
    referencePrice: price(band.referencePrice, 'referencePrice'),
  };
  for (const p of Object.values(prices)) if (p instanceof Error) return fail(p.message);
  const str = (p: string | null | Error): string | null => (typeof p === 'string' ? p : null);

  return {
    ok: true,
    version: {
      bandId: band.bandId,
      versionId: band.versionId,
      version: Number(band.version),
      kind,
      resourceClass: band.resourceClass,
      region: band.region ?? null,
      currency: currency as Currency,
      floorPerAcceleratorHour: str(prices.floorPerAcceleratorHour) as string,
      floorPerThousandTokens: str(prices.floorPerThousandTokens),
      ceilingPerAcceleratorHour: str(prices.ceilingPerAcceleratorHour),
      referencePrice: str(prices.referencePrice),
      effectiveFrom: timestampDate(band.effectiveFrom).toISOString(),
      effectiveTo: band.effectiveTo === undefined ? null : timestampDate(band.effectiveTo).toISOString(),
      previousVersionId: changed.previousVersionId ?? null,
    },
  };
};
