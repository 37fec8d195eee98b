import { bandIdOf, type BandVersion } from './price-band.events';

// "The band in force at time T" as a pure function of the versions recorded (DESIGN.md: a decision records the
// version it used, so an audit can prove it from the guidance history alone). The write side, the read model,
// a replay and other services' audits all call this one function.
//
// Within a band, a version applies on [effectiveFrom, effectiveTo) unless a later withdrawal of the band (a
// higher version number) has taken effect at or before T. Among the versions that apply, the latest effectiveFrom
// wins, then the highest version: an amendment replaces what it amends only from its own effective instant. Across
// bands, a regional band in force overrides the national one; where neither is in force there is no floor.

const ms = (iso: string): number => Date.parse(iso);

const applies = (v: BandVersion, t: number, withdrawals: readonly BandVersion[]): boolean =>
  v.kind !== 'withdrawn' &&
  ms(v.effectiveFrom) <= t &&
  (v.effectiveTo === null || t < ms(v.effectiveTo)) &&
  !withdrawals.some((w) => w.version > v.version && ms(w.effectiveFrom) <= t);

/** The version of one band in force at `t` (epoch ms), or null. `versions` may hold other bands' versions too. */
export const versionInForce = (versions: readonly BandVersion[], bandId: string, t: number): BandVersion | null => {
  const own = versions.filter((v) => v.bandId === bandId);
  const withdrawals = own.filter((v) => v.kind === 'withdrawn');
  let best: BandVersion | null = null;
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

/** The band in force for a resource class (in a region, or nationally when `region` is null) at `at`. */
export const bandAt = (
  versions: readonly BandVersion[],
  resourceClass: string,
  region: string | null,
  at: Date,
): BandVersion | null => {
  const t = at.getTime();
  if (region !== null) {
    const regional = versionInForce(versions, bandIdOf(resourceClass, region), t);
    if (regional !== null) return regional;
  }
  return versionInForce(versions, bandIdOf(resourceClass, null), t);
};
