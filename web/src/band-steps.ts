// The stepped floor, ceiling and reference price of the band in force over time, for the price chart. A band
// changes only at a version's effectiveFrom (or effectiveTo, or a withdrawal's effective instant), so evaluating
// "the band in force" at each of those instants gives every step exactly; between two instants nothing changes.
// The resolution rule is libs/guidance/src/band-at.ts (the one every service and the audit use), restated here
// because the console is a separate browser bundle; band-steps.test.ts pins the same cases, and
// libs/guidance/src/console-band-steps.spec.ts proves it answers as the shared one on random histories.

export interface BandVersion {
  bandId: string;
  versionId: string;
  version: number;
  kind: 'issued' | 'amended' | 'withdrawn';
  resourceClass: string;
  region: string | null;
  currency: string;
  floorPerAcceleratorHour: string;
  ceilingPerAcceleratorHour: string | null;
  referencePrice: string | null;
  effectiveFrom: string;
  effectiveTo: string | null;
}

const ms = (iso: string): number => Date.parse(iso);

const applies = (v: BandVersion, t: number, withdrawals: readonly BandVersion[]): boolean =>
  v.kind !== 'withdrawn' &&
  ms(v.effectiveFrom) <= t &&
  (v.effectiveTo === null || t < ms(v.effectiveTo)) &&
  !withdrawals.some((w) => w.version > v.version && ms(w.effectiveFrom) <= t);

const inForce = (own: readonly BandVersion[], t: number): BandVersion | null => {
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

/** The band in force for a class at `t` (epoch ms): the region's when one is in force, else the national one. */
export const bandAt = (
  versions: readonly BandVersion[],
  resourceClass: string,
  region: string | null,
  t: number,
): BandVersion | null => {
  const ofClass = versions.filter((v) => v.resourceClass === resourceClass);
  if (region !== null) {
    const regional = inForce(
      ofClass.filter((v) => v.region === region),
      t,
    );
    if (regional !== null) return regional;
  }
  return inForce(
    ofClass.filter((v) => v.region === null),
    t,
  );
};

export interface BandStep {
  /** Epoch ms from which this step holds (until the next step's `from`, or the end of the range). */
  from: number;
  /** The version in force, or null where no band is (no floor). */
  versionId: string | null;
  floor: string | null;
  ceiling: string | null;
  reference: string | null;
}

/**
 * The steps of the band in force over [from, to] (epoch ms): one at `from`, then one at every instant inside the
 * range where the band in force changes. Consecutive instants resolving to the same version are merged.
 */
export const bandSteps = (
  versions: readonly BandVersion[],
  resourceClass: string,
  region: string | null,
  from: number,
  to: number,
): BandStep[] => {
  const instants = new Set<number>([from]);
  for (const v of versions) {
    if (v.resourceClass !== resourceClass) continue;
    for (const iso of [v.effectiveFrom, v.effectiveTo]) {
      if (iso === null) continue;
      const t = ms(iso);
      if (t > from && t <= to) instants.add(t);
    }
  }
  const steps: BandStep[] = [];
  for (const t of [...instants].sort((a, b) => a - b)) {
    const v = bandAt(versions, resourceClass, region, t);
    const versionId = v?.versionId ?? null;
    if (steps.length > 0 && steps[steps.length - 1]!.versionId === versionId) continue;
    steps.push({
      from: t,
      versionId,
      floor: v?.floorPerAcceleratorHour ?? null,
      ceiling: v?.ceilingPerAcceleratorHour ?? null,
      reference: v?.referencePrice ?? null,
    });
  }
  return steps;
};

/**
 * Chart points for the stepped line of one term (floor, ceiling or reference): two corners per step, at its start
 * and at the next step's start (or `to`), so the line jumps vertically exactly at each change and a step without
 * a value (no band in force) leaves a gap. Plotted as a plain line, no interpolation between steps.
 */
export const stepPoints = (
  steps: readonly BandStep[],
  pick: (s: BandStep) => string | null,
  to: number,
): Array<[number, string | null]> =>
  steps.flatMap((s, i): Array<[number, string | null]> => {
    const end = steps[i + 1]?.from ?? Math.max(to, s.from);
    return [
      [s.from, pick(s)],
      [end, pick(s)],
    ];
  });
