import type { BandVersionLike } from './band-version';

// "The band in force at time T" as a pure function of the versions recorded (DESIGN.md: a decision records the
// version it used, so an audit can prove it from the guidance history alone). The guidance write side, its read
// model, matching, billing, a replay and the audit all call this one function, so they cannot disagree.
//
// Within a band, a version applies on [effectiveFrom, effectiveTo) unless a later withdrawal of the band (a
// higher version number) has taken effect at or before T. Among the versions that apply, the latest effectiveFrom
// wins, then the highest version: an amendment replaces what it amends only from its own effective instant. Across
// bands, a regional band in force overrides the national one; where neither is in force there is no floor.
//
// The answer depends only on the set of versions, never on their order in the array: a consumer that heard them
// out of order (redelivery, partitions replayed in another interleaving) resolves the same band.

const ms = (iso: string): number => Date.parse(iso);

const applies = <V extends BandVersionLike>(v: V, t: number, withdrawals: readonly V[]): boolean =>
  v.kind !== 'withdrawn' &&
  ms(v.effectiveFrom) <= t &&
  (v.effectiveTo === null || t < ms(v.effectiveTo)) &&
  !withdrawals.some((w) => w.version > v.version && ms(w.effectiveFrom) <= t);

/** Among the versions of one band, the one in force at `t` (epoch ms), or null. */
const inForce = <V extends BandVersionLike>(own: readonly V[], t: number): V | null => {
  const withdrawals = own.filter((v) => v.kind === 'withdrawn');
  let best: V | null = null;
  for (const v of own) {
    if (!applies(v, t, withdrawals)) continue;
    if (
      best === null ||
      ms(v.effectiveFrom) > ms(best.effectiveFrom) ||
      (ms(v.effectiveFrom) === ms(best.effectiveFrom) && v.version > best.version)
    ) {
      best = v;
    }
  }
  return best;
};

/** The version of one band in force at `t` (epoch ms), or null. `versions` may hold other bands' versions too. */
export const versionInForce = <V extends BandVersionLike>(
  versions: readonly V[],
  bandId: string,
  t: number,
): V | null =>
  inForce(
    versions.filter((v) => v.bandId === bandId),
    t,
  );

/** The band in force for a resource class (in a region, or nationally when `region` is null) at `at`. */
export const bandAt = <V extends BandVersionLike>(
  versions: readonly V[],
  resourceClass: string,
  region: string | null,
  at: Date,
): V | null => {
  const t = at.getTime();
  // A scope (class, region) is exactly one band line, so selecting by scope is selecting by band id.
  if (region !== null) {
    const regional = inForce(
      versions.filter((v) => v.resourceClass === resourceClass && v.region === region),
      t,
    );
    if (regional !== null) return regional;
  }
  return inForce(
    versions.filter((v) => v.resourceClass === resourceClass && v.region === null),
    t,
  );
};
