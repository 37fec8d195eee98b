import { comparePositions, type Position, type RecordedEvent } from '@cx/event-store';
import { Dec } from '@cx/shared-kernel';
import { METER_STREAM_PREFIX, type MeterDefinition, type MeterDefined } from '../domain/meter/meter.events';
import {
  addReading,
  emptySummary,
  MINUTE_MS,
  merge,
  type Summary,
  type WindowSize,
  windowOf,
} from '../domain/usage/usage-aggregate';
import { USAGE_STREAM_PREFIX, type UsageRecordedData } from '../domain/usage/usage.events';
import { ALLOCATION_STREAM_PREFIX, type AllocationHeardData } from './metering.events';

export const METERING_STREAM_PREFIXES = [METER_STREAM_PREFIX, USAGE_STREAM_PREFIX, ALLOCATION_STREAM_PREFIX];

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
  // subject → meter → role → minute → summary
  private readonly usage = new Map<string, Map<string, Map<string, Map<number, Summary>>>>();
  position: Position | null = null;
  usageEvents = 0;

  apply(e: RecordedEvent): boolean {
    if (this.position !== null && comparePositions(e.position, this.position) <= 0) return false;
    this.position = e.position;
    if (e.type === 'MeterDefined') {
      const { definedAt: _definedAt, ...meter } = (e as unknown as MeterDefined).data;
      this.meters.set(meter.key, meter);
    } else if (e.type === 'AllocationHeard') {
      const a = e.data as AllocationHeardData;
      this.allocations.set(a.allocationId, a);
    } else if (e.type === 'UsageRecorded') {
      this.addUsage(e.data as UsageRecordedData, e.position.commit);
    }
    return true;
  }

  private addUsage(d: UsageRecordedData, order: bigint): void {
    const meter = this.meters.get(d.meter);
    const timeMs = Date.parse(d.time);
    const minute = Math.floor(timeMs / MINUTE_MS) * MINUTE_MS;
    const bySubject = getOr(this.usage, d.subject, () => new Map<string, Map<string, Map<number, Summary>>>());
    const byMeter = getOr(bySubject, d.meter, () => new Map<string, Map<number, Summary>>());
    const byRole = getOr(byMeter, d.reporterRole, () => new Map<number, Summary>());
    const summary = getOr(byRole, minute, emptySummary);
    const unique = meter?.valueField ? (d.dimensions[meter.valueField] ?? null) : null;
    addReading(summary, { timeMs, quantity: new Dec(d.quantity), unique, order });
    this.usageEvents += 1;
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
      for (const [minute, summary] of minutes) {
        if (minute < q.fromMs || minute >= q.toMs) continue;
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
