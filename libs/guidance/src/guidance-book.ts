import { bandAt } from './band-at';
import type { BandVersionLike } from './band-version';

// A service's own view of guidance: every band version it has heard, in memory, answering "the band in force at
// T" with the shared `bandAt`. Integration events arrive at least once and, across partitions or after a replay,
// in any order; so applying is idempotent (a version is identified by band and version number, and the first
// copy heard is kept: history is never edited, so a later copy can only be a redelivery) and the answers depend
// on the set of versions heard, never on the order they were applied in.

export type ApplyResult =
  /** A version not heard before: it now takes part in every answer. */
  | 'applied'
  /** The same version again (a redelivery): nothing changes. */
  | 'duplicate'
  /**
   * A version number already heard with other content. History is never edited upstream, so this is a producer
   * fault worth a warning; the copy heard first is kept, so the answers stay what they were.
   */
  | 'conflict';

const keyOf = (v: BandVersionLike): string => `${v.bandId}\u0000${v.version}`;

// Field order differs between a decoded message and a reloaded event; compare canonical forms.
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );

export class GuidanceBook<V extends BandVersionLike> {
  private readonly byKey = new Map<string, V>();
  /** Versions per resource class (national and regional), so a lookup reads one class's history only. */
  private readonly byClass = new Map<string, V[]>();

  constructor(versions: Iterable<V> = []) {
    for (const v of versions) this.apply(v);
  }

  /** Adds a version unless it was heard before. */
  apply(version: V): ApplyResult {
    const key = keyOf(version);
    const known = this.byKey.get(key);
    if (known !== undefined) return canonical(known) === canonical(version) ? 'duplicate' : 'conflict';
    this.byKey.set(key, version);
    const list = this.byClass.get(version.resourceClass);
    if (list === undefined) this.byClass.set(version.resourceClass, [version]);
    else list.push(version);
    return 'applied';
  }

  /** Whether this band version (by band and number) was heard. */
  has(bandId: string, version: number): boolean {
    return this.byKey.has(`${bandId}\u0000${version}`);
  }

  /** The band in force for the class (in the region, else nationally) at `at`; null where there is none. */
  bandAt(resourceClass: string, region: string | null, at: Date): V | null {
    return bandAt(this.byClass.get(resourceClass) ?? [], resourceClass, region, at);
  }

  /** Every version heard for the class, national and regional, in the order they were heard. */
  versionsOf(resourceClass: string): readonly V[] {
    return this.byClass.get(resourceClass) ?? [];
  }

  get size(): number {
    return this.byKey.size;
  }
}
