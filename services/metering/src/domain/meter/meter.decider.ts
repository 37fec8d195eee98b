import { DomainError } from '@cx/shared-kernel';
import { type Aggregation, aggregations, type MeterDefinition, type MeterEvent } from './meter.events';

export type MeterState = { defined: false } | { defined: true; meter: MeterDefinition };
export const noMeter: MeterState = { defined: false };

export interface DefineMeter {
  type: 'DefineMeter';
  data: {
    key: string;
    unit: string;
    aggregation: string;
    valueField?: string | null;
    billable: boolean;
    description?: string;
    now: Date;
  };
}

export const METER_KEY_RE = /^[a-z][a-z0-9_]{0,62}$/;
const FIELD_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,62}$/;

export const evolve = (state: MeterState, e: MeterEvent): MeterState => {
  switch (e.type) {
    case 'MeterDefined': {
      const { definedAt: _definedAt, ...meter } = e.data;
      return { defined: true, meter };
    }
    default:
      return state;
  }
};

/** A meter is defined once; its meaning never changes, because stored readings were taken under it. */
export const decide = (cmd: DefineMeter, state: MeterState): MeterEvent[] => {
  const d = cmd.data;
  if (!METER_KEY_RE.test(d.key)) {
    throw DomainError.invalid('METERING.INVALID_METER_KEY', 'key must match ^[a-z][a-z0-9_]{0,62}$', 'key');
  }
  if (!(aggregations as readonly string[]).includes(d.aggregation)) {
    throw DomainError.invalid(
      'METERING.INVALID_AGGREGATION',
      `aggregation must be one of ${aggregations.join(', ')}`,
      'aggregation',
    );
  }
  const aggregation = d.aggregation as Aggregation;
  const valueField = d.valueField ?? null;
  // UNIQUE_COUNT counts distinct values of one dimension, so it needs to know which; the others read quantity.
  if (aggregation === 'UNIQUE_COUNT' && (valueField === null || !FIELD_RE.test(valueField))) {
    throw DomainError.invalid(
      'METERING.VALUE_FIELD_REQUIRED',
      'UNIQUE_COUNT needs a valueField (a dimension key)',
      'valueField',
    );
  }
  if (aggregation !== 'UNIQUE_COUNT' && valueField !== null) {
    throw DomainError.invalid('METERING.VALUE_FIELD_UNUSED', 'only UNIQUE_COUNT reads a valueField', 'valueField');
  }
  if (state.defined) {
    throw DomainError.conflict('METERING.METER_EXISTS', `meter ${d.key} already exists`, 'key');
  }
  return [
    {
      type: 'MeterDefined',
      data: {
        key: d.key,
        unit: d.unit,
        aggregation,
        valueField,
        billable: d.billable,
        description: d.description ?? '',
        definedAt: d.now.toISOString(),
      },
    },
  ];
};
