import { comparePositions, type Position, type RecordedEvent } from '@cx/event-store';
import { assert, Dec } from '@cx/shared-kernel';
import { METER_STREAM_PREFIX, type MeterDefinition, type MeterDefined } from '../domain/meter/meter.events';
import {
  addReading,
  emptySummary,
  MINUTE_MS,
  merge,
  type Reading,
  type Summary,
  type WindowSize,
  windowOf,
} from '../domain/usage/usage-aggregate';
import { addInterval, type Interval } from '../domain/period/closed-periods';
import { type UsageAmended, USAGE_STREAM_PREFIX, type UsageRecordedData } from '../domain/usage/usage.events';
import {
  ALLOCATION_STREAM_PREFIX,
  type AllocationHeardData,
  PERIOD_STREAM_PREFIX,
  type PeriodClosedHeardData,
} from './metering.events';

export const METERING_STREAM_PREFIXES = [
  METER_STREAM_PREFIX,
  USAGE_STREAM_PREFIX,
  ALLOCATION_STREAM_PREFIX,
  PERIOD_STREAM_PREFIX,
];

/**
 * One UTC minute of one (subject, meter, role): the readings that count now, by usage stream, and their summary.
 * A correction replaces or removes one reading; MAX, UNIQUE_COUNT and LATEST cannot be "subtracted", so the
 * summary is then dropped and recomputed from the readings when next asked for.
 */
interface MinuteBucket {
  readings: Map<string, Reading>;
  summary: Summary | null;
}

export interface AggregateWindow {
  startMs: number;
  label: string;
  summary: Summary;
}

/**
 * Metering's view of the store: the meters, the allocations it may accept usage for, and usage summarised per
 * (subject, meter, reporter role, UTC minute). Applied in store order; an event at or before the last applied
 * position (a catch-up subscription delivers at least once) is ignored.
 */
export class MeteringReadModel {
  readonly meters = new Map<string, MeterDefinition>();
  readonly allocations = new Map<string, AllocationHeardData>();
  readonly periods = new Map<string, PeriodClosedHeardData>();
  /** The closed periods as sorted disjoint intervals (what lateness is judged by). */
  closedPeriods: readonly Interval[] = [];
  // subject → meter → role → minute → bucket
  private readonly usage = new Map<string, Map<string, Map<string, Map<number, MinuteBucket>>>>();
  // usage stream → where its reading is, for corrections
  private readonly readings = new Map<string, { bucket: MinuteBucket; reading: Reading }>();
  position: Position | null = null;
  usageEvents = 0;
  corrections = 0;

  apply(e: RecordedEvent): boolean {
    if (this.position !== null && comparePositions(e.position, this.position) <= 0) return false;
    this.position = e.position;
    if (e.type === 'MeterDefined') {
      const { definedAt: _definedAt, ...meter } = (e as unknown as MeterDefined).data;
      this.meters.set(meter.key, meter);
    } else if (e.type === 'AllocationHeard') {
      const a = e.data as AllocationHeardData;
      this.allocations.set(a.allocationId, a);
    } else if (e.type === 'PeriodClosedHeard') {
      const p = e.data as PeriodClosedHeardData;
      this.periods.set(p.period, p);
      this.closedPeriods = addInterval(this.closedPeriods, [p.startMs, p.endMs]);
    } else if (e.type === 'UsageRecorded') {
      if (e.revision === 0n) this.addUsage(e.streamId, e.data as UsageRecordedData, e.position.commit);
    } else if (e.type === 'UsageAmended' || e.type === 'UsageVoided') {
      this.correct(e.streamId, e.type === 'UsageAmended' ? (e.data as UsageAmended['data']).quantity : null);
    }
    return true;
  }

  private addUsage(stream: string, d: UsageRecordedData, order: bigint): void {
    const meter = this.meters.get(d.meter);
    const timeMs = Date.parse(d.time);
    const minute = Math.floor(timeMs / MINUTE_MS) * MINUTE_MS;
    const bySubject = getOr(this.usage, d.subject, () => new Map<string, Map<string, Map<number, MinuteBucket>>>());
    const byMeter = getOr(bySubject, d.meter, () => new Map<string, Map<number, MinuteBucket>>());
    const byRole = getOr(byMeter, d.reporterRole, () => new Map<number, MinuteBucket>());
    const bucket = getOr(byRole, minute, (): MinuteBucket => ({ readings: new Map(), summary: emptySummary() }));
    const unique = meter?.valueField ? (d.dimensions[meter.valueField] ?? null) : null;
    const reading: Reading = { timeMs, quantity: new Dec(d.quantity), unique, order };
    bucket.readings.set(stream, reading);
    if (bucket.summary !== null) addReading(bucket.summary, reading);
    this.readings.set(stream, { bucket, reading });
    this.usageEvents += 1;
  }

  /** The latest state counts: an amendment replaces the reading's quantity, a void (null) removes it. */
  private correct(stream: string, quantity: string | null): void {
    const at = this.readings.get(stream);
    // A correction always follows its UsageRecorded in the same stream and never follows a void.
    assert(at !== undefined, `correction of unknown or void usage stream ${stream}`);
    if (quantity === null) {
      at.bucket.readings.delete(stream);
      this.readings.delete(stream);
    } else {
      const reading = { ...at.reading, quantity: new Dec(quantity) };
      at.bucket.readings.set(stream, reading);
      at.reading = reading;
    }
    at.bucket.summary = null;
    this.corrections += 1;
  }

  /** Whether a usage stream's reading still counts (not voided). */
  counts(stream: string): boolean {
    return this.readings.has(stream);
  }

  /** Windows with at least one reading in [fromMs, toMs), in time order. */
  aggregate(q: {
    subject: string;
    meter: string;
    roles: readonly string[] | null;
    fromMs: number;
    toMs: number;
    window: WindowSize;
    fmt: Intl.DateTimeFormat;
  }): AggregateWindow[] {
    const byMeter = this.usage.get(q.subject)?.get(q.meter);
    const windows = new Map<string, AggregateWindow>();
    for (const [role, minutes] of byMeter ?? []) {
      if (q.roles !== null && !q.roles.includes(role)) continue;
      for (const [minute, bucket] of minutes) {
        if (minute < q.fromMs || minute >= q.toMs) continue;
        if (bucket.readings.size === 0) continue;
        bucket.summary ??= [...bucket.readings.values()].reduce(addReading, emptySummary());
        const summary = bucket.summary;
        const key = windowOf(minute, q.window, q.fmt);
        const w = getOr(windows, key.label, () => ({ ...key, summary: emptySummary() }));
        w.startMs = Math.min(w.startMs, key.startMs);
        merge(w.summary, summary);
      }
    }
    return [...windows.values()].sort((a, b) => a.startMs - b.startMs);
  }
}

const getOr = <K, V>(m: Map<K, V>, k: K, make: () => V): V => {
  let v = m.get(k);
  if (v === undefined) {
    v = make();
    m.set(k, v);
  }
  return v;
};
