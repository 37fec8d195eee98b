import type { RecordedEvent } from '@cx/event-store';
import {
  type BandVersion,
  GUIDANCE_STREAM_PREFIX,
  type PriceBandEvent,
  bandAt,
  isPriceBandEvent,
  kindOf,
} from '../../service-domains';

// The guidance history as the audit reads it from the store (streams `guidance-<bandId>`), and "the band in force
// at T" computed from it by guidance's own pure function (bandAt), never from what a decision claims.
//
// bandAt scans every version; the floor checker asks once per trade and order, so answers are cached per scope:
// the band in force for a (class, region) is constant between consecutive change instants (every effectiveFrom and
// effectiveTo of the scope's regional and national versions), so one answer holds for its whole interval.

interface Interval {
  fromMs: number;
  toMs: number;
  band: BandVersion | null;
}

const isVersionData = (d: unknown): d is BandVersion =>
  typeof d === 'object' &&
  d !== null &&
  typeof (d as BandVersion).bandId === 'string' &&
  typeof (d as BandVersion).versionId === 'string' &&
  typeof (d as BandVersion).version === 'number' &&
  typeof (d as BandVersion).resourceClass === 'string' &&
  ((d as BandVersion).region === null || typeof (d as BandVersion).region === 'string') &&
  typeof (d as BandVersion).floorPerAcceleratorHour === 'string' &&
  typeof (d as BandVersion).effectiveFrom === 'string' &&
  ((d as BandVersion).effectiveTo === null || typeof (d as BandVersion).effectiveTo === 'string');

export class GuidanceHistory {
  static readonly PREFIX = GUIDANCE_STREAM_PREFIX;
  private readonly versions: BandVersion[] = [];
  private readonly versionIds = new Set<string>();
  private readonly changePoints = new Map<string, number[]>();
  private readonly cache = new Map<string, Interval>();

  get size(): number {
    return this.versions.length;
  }

  all(): readonly BandVersion[] {
    return this.versions;
  }

  /** Whether the event is a price band version (of any shape). */
  static isBandEvent(e: RecordedEvent): boolean {
    return e.streamId.startsWith(GUIDANCE_STREAM_PREFIX) && isPriceBandEvent(e.type);
  }

  /**
   * Adds the version an event carries. Returns 'added', 'known' (a version id seen before, e.g. from the pre-pass)
   * or 'malformed'.
   */
  add(e: RecordedEvent): 'added' | 'known' | 'malformed' {
    if (!isVersionData(e.data)) return 'malformed';
    if (this.versionIds.has(e.data.versionId)) return 'known';
    this.versionIds.add(e.data.versionId);
    this.versions.push({ ...e.data, kind: kindOf(e.type as PriceBandEvent['type']) });
    this.changePoints.clear();
    this.cache.clear();
    return 'added';
  }

  /** The band in force for a class in a region at `tMs` (epoch ms), by bandAt over the history. */
  inForce(resourceClass: string, region: string | null, tMs: number): BandVersion | null {
    const key = `${resourceClass}\u0000${region ?? ''}`;
    const hit = this.cache.get(key);
    if (hit !== undefined && hit.fromMs <= tMs && tMs < hit.toMs) return hit.band;
    const points = this.pointsFor(key, resourceClass, region);
    // The interval [points[i-1], points[i]) holding tMs.
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((points[mid] as number) <= tMs) lo = mid + 1;
      else hi = mid;
    }
    const fromMs = lo === 0 ? Number.NEGATIVE_INFINITY : (points[lo - 1] as number);
    const toMs = lo === points.length ? Number.POSITIVE_INFINITY : (points[lo] as number);
    const band = bandAt(this.versions, resourceClass, region, new Date(tMs));
    this.cache.set(key, { fromMs, toMs, band });
    return band;
  }

  private pointsFor(key: string, resourceClass: string, region: string | null): number[] {
    let points = this.changePoints.get(key);
    if (points !== undefined) return points;
    const set = new Set<number>();
    for (const v of this.versions) {
      if (v.resourceClass !== resourceClass || (v.region !== null && v.region !== region)) continue;
      const from = Date.parse(v.effectiveFrom);
      if (!Number.isNaN(from)) set.add(from);
      if (v.effectiveTo !== null) {
        const to = Date.parse(v.effectiveTo);
        if (!Number.isNaN(to)) set.add(to);
      }
    }
    points = [...set].sort((a, b) => a - b);
    this.changePoints.set(key, points);
    return points;
  }
}
