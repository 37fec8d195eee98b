import { type BandVersionKind, type BandVersionLike, bandAt } from '@cx/guidance';

// The band in force for one book, as a pure function of the guidance versions the book has heard. The book never
// works out "which band applies" itself: it asks the shared `bandAt` of @cx/guidance, the same function the
// guidance read model, billing and the audit's floor checker use, so matching cannot disagree with them about
// withdrawals, regional overrides or the fallback to the national band.
//
// What the book adds is *when* to ask. The answer of `bandAt` is constant between the instants at which some
// version starts or ends (every effectiveFrom and effectiveTo of a version heard, a withdrawal's effectiveFrom
// included), so the book keeps the next such instant at which the answer differs from the band it has in force;
// checking "is a band change due?" on the hot path is then one comparison.

/** One band version as the book keeps it: what `bandAt` reads, and the prices a decision records. */
export interface BookBandVersion extends BandVersionLike {
  /** `<bandId>.v<version>`: what decisions record as `guidanceVersion`. */
  versionId: string;
  floor: string;
  ceiling: string | null;
}

export const BAND_KINDS: ReadonlySet<BandVersionKind> = new Set<BandVersionKind>(['issued', 'amended', 'withdrawn']);

/** The instrument a book trades, as far as guidance is concerned: a class in one region. */
export interface BandScope {
  resourceClass: string;
  region: string;
}

/**
 * The scope of an instrument id `<resourceClass>.<region>.<YYYY-MM-DD>` (catalog ids never contain a dot). Ids
 * that do not split so (only tests use them) get a scope that no band names, so no band ever applies to them.
 */
export const scopeOfInstrument = (instrument: string): BandScope => {
  const parts = instrument.split('.');
  if (parts.length !== 3) return { resourceClass: instrument, region: '' };
  return { resourceClass: parts[0] as string, region: parts[1] as string };
};

/** Whether a version can take part in the band of a book with this scope (its class, nationally or its region). */
export const bandCovers = (scope: BandScope, v: Pick<BandVersionLike, 'resourceClass' | 'region'>): boolean =>
  v.resourceClass === scope.resourceClass && (v.region === null || v.region === scope.region);

/** The version in force at `t` (epoch ms), or null: exactly `bandAt` of @cx/guidance. */
export const bandInForce = (
  versions: readonly BookBandVersion[],
  scope: BandScope,
  t: number,
): BookBandVersion | null =>
  Number.isFinite(t) ? bandAt(versions, scope.resourceClass, scope.region, new Date(t)) : null;

const ms = (iso: string): number => Date.parse(iso);

/**
 * The earliest instant at or after `fromMs` (after it, when `strictlyAfter`) at which the band in force is not
 * `current` (a version id, or null for "no band"); +Infinity when it never changes with the versions heard.
 */
export const nextBandChange = (
  versions: readonly BookBandVersion[],
  scope: BandScope,
  current: string | null,
  fromMs: number,
  strictlyAfter: boolean,
): number => {
  const differs = (t: number): boolean => (bandInForce(versions, scope, t)?.versionId ?? null) !== current;
  if (!strictlyAfter && differs(fromMs)) return fromMs;
  const instants = new Set<number>();
  for (const v of versions) {
    const from = ms(v.effectiveFrom);
    if (from > fromMs) instants.add(from);
    if (v.effectiveTo !== null) {
      const to = ms(v.effectiveTo);
      if (to > fromMs) instants.add(to);
    }
  }
  for (const t of [...instants].sort((a, b) => a - b)) if (differs(t)) return t;
  return Number.POSITIVE_INFINITY;
};

/**
 * A version from a `BandScheduled` event recorded before events carried the band line (bandId, version, kind,
 * region): read from the version id `<bandId>.v<n>`, as guidance names versions.
 */
export const legacyVersionFields = (
  scope: BandScope,
  guidanceVersion: string,
): Pick<BookBandVersion, 'bandId' | 'version' | 'kind' | 'resourceClass' | 'region'> => {
  const m = /^(.*)\.v(\d+)$/.exec(guidanceVersion);
  const bandId = m ? (m[1] as string) : guidanceVersion;
  const version = m ? Number(m[2]) : 1;
  const prefix = `${scope.resourceClass}.`;
  const region = bandId.startsWith(prefix) ? bandId.slice(prefix.length) : null;
  return { bandId, version, kind: version === 1 ? 'issued' : 'amended', resourceClass: scope.resourceClass, region };
};
