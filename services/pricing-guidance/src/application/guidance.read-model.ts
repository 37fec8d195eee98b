import { comparePositions, type Position, type RecordedEvent } from '@cx/event-store';
import { type RegionState, evolve as evolveRegion } from '../domain/catalog/region.decider';
import { isRegionEvent, type RegionEvent } from '../domain/catalog/region.events';
import { type ResourceClassState, evolve as evolveResourceClass } from '../domain/catalog/resource-class.decider';
import { isResourceClassEvent, type ResourceClassEvent } from '../domain/catalog/resource-class.events';
import { bandAt } from '../domain/price-band/band-at';
import { type BandState, evolve as evolveBand } from '../domain/price-band/price-band.decider';
import { type BandVersion, isPriceBandEvent, type PriceBandEvent } from '../domain/price-band/price-band.events';

// The pricing-guidance read model: the catalog and every band version, in memory. It folds events with the
// aggregates' own `evolve` and answers "the band in force" with the domain's own `bandAt`, so the projection,
// the write side and a replay cannot disagree. Delivery is at least once: an event at or before the last
// applied position is ignored.

export const GUIDANCE_STREAM_PREFIXES = ['resource-class-', 'region-', 'guidance-'];

/** A version as history shows it: the version, and when the store recorded it. */
export type RecordedVersion = BandVersion & { recordedAt: string | null; seq: number };

type Applicable = Pick<RecordedEvent, 'type' | 'data' | 'position'> & { created?: Date };

const byKey =
  <T>(key: (t: T) => string) =>
  (a: T, b: T): number =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

export class GuidanceReadModel {
  private readonly classes = new Map<string, ResourceClassState>();
  private readonly regionsById = new Map<string, RegionState>();
  private readonly bands = new Map<string, BandState>();
  /** Every version of a class (national and regional), in the order the store recorded them. */
  private readonly historyByClass = new Map<string, RecordedVersion[]>();
  private sortedClasses: ResourceClassState[] | null = null;
  private sortedRegions: RegionState[] | null = null;
  private last: Position | null = null;

  get position(): Position | null {
    return this.last;
  }

  /** Returns whether the event changed the model (false for a redelivery or an event of another kind). */
  apply(e: Applicable): boolean {
    if (this.last !== null && comparePositions(e.position, this.last) <= 0) return false;
    this.last = e.position;
    if (isResourceClassEvent(e.type)) {
      const event = { type: e.type, data: e.data } as ResourceClassEvent;
      const id = event.data.resourceClassId;
      const next = evolveResourceClass(this.classes.get(id) ?? null, event);
      if (next !== null) this.classes.set(id, next);
      this.sortedClasses = null;
      return true;
    }
    if (isRegionEvent(e.type)) {
      const event = { type: e.type, data: e.data } as RegionEvent;
      const next = evolveRegion(this.regionsById.get(event.data.regionId) ?? null, event);
      if (next !== null) this.regionsById.set(event.data.regionId, next);
      this.sortedRegions = null;
      return true;
    }
    if (isPriceBandEvent(e.type)) {
      const event = { type: e.type, data: e.data } as PriceBandEvent;
      const next = evolveBand(this.bands.get(event.data.bandId) ?? null, event);
      if (next === null) return true;
      this.bands.set(next.bandId, next);
      const version = next.versions[next.versions.length - 1] as BandVersion;
      const history = this.historyByClass.get(next.resourceClass) ?? [];
      history.push({ ...version, recordedAt: e.created?.toISOString() ?? null, seq: history.length + 1 });
      this.historyByClass.set(next.resourceClass, history);
      return true;
    }
    return false;
  }

  resourceClass(id: string): ResourceClassState | undefined {
    return this.classes.get(id);
  }

  region(id: string): RegionState | undefined {
    return this.regionsById.get(id);
  }

  band(bandId: string): BandState | undefined {
    return this.bands.get(bandId);
  }

  resourceClasses(): readonly ResourceClassState[] {
    this.sortedClasses ??= [...this.classes.values()].sort(byKey((c) => c.resourceClassId));
    return this.sortedClasses;
  }

  regions(): readonly RegionState[] {
    this.sortedRegions ??= [...this.regionsById.values()].sort(byKey((r) => r.regionId));
    return this.sortedRegions;
  }

  /** Every version of a resource class's bands, national and regional, in the order they were recorded. */
  history(resourceClass: string): readonly RecordedVersion[] {
    return this.historyByClass.get(resourceClass) ?? [];
  }

  /** The latest version recorded for the class (any region), or null. */
  latestVersionOf(resourceClass: string): string | null {
    const history = this.history(resourceClass);
    return history.length === 0 ? null : (history[history.length - 1] as RecordedVersion).versionId;
  }

  /** The band in force for the class (in the region, else nationally) at `at`; null where there is none. */
  bandAt(resourceClass: string, region: string | null, at: Date): RecordedVersion | null {
    const history = this.history(resourceClass);
    const found = bandAt(history, resourceClass, region, at);
    return found === null ? null : (history.find((v) => v.versionId === found.versionId) ?? null);
  }
}
