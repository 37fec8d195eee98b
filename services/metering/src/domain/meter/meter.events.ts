// A meter says what a usage event's quantity measures and how its readings combine over a window.

export const aggregations = ['SUM', 'COUNT', 'MAX', 'UNIQUE_COUNT', 'LATEST'] as const;
export type Aggregation = (typeof aggregations)[number];

export interface MeterDefinition {
  /** e.g. `accelerator_seconds`; the stream is `meter-<key>`. */
  key: string;
  /** What one unit of quantity is, e.g. `second`, `token`. */
  unit: string;
  aggregation: Aggregation;
  /** UNIQUE_COUNT only: the `data.dimensions` key whose distinct values are counted; null otherwise. */
  valueField: string | null;
  /** Whether billing rates it (non-billable meters are evidence and telemetry). */
  billable: boolean;
  description: string;
}

export type MeterDefined = { type: 'MeterDefined'; data: MeterDefinition & { definedAt: string } };
export type MeterEvent = MeterDefined;

export const METER_STREAM_PREFIX = 'meter-';
export const meterStream = (key: string): string => `${METER_STREAM_PREFIX}${key}`;
export const isMeterEvent = (type: string): boolean => type === 'MeterDefined';
