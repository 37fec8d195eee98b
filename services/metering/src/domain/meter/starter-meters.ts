import type { MeterDefinition } from './meter.events';

// The meters every exchange needs from its first day; defined on first start when configured.
export const starterMeters: readonly MeterDefinition[] = [
  {
    key: 'accelerator_seconds',
    unit: 'second',
    aggregation: 'SUM',
    valueField: null,
    billable: true,
    description: 'Accelerator time delivered; the provider reading counts for an allocation.',
  },
  {
    key: 'tokens_in',
    unit: 'token',
    aggregation: 'SUM',
    valueField: null,
    billable: true,
    description: 'Input tokens.',
  },
  {
    key: 'tokens_out',
    unit: 'token',
    aggregation: 'SUM',
    valueField: null,
    billable: true,
    description: 'Output tokens.',
  },
  {
    key: 'requests',
    unit: 'request',
    aggregation: 'COUNT',
    valueField: null,
    billable: false,
    description: 'Inference requests.',
  },
  {
    key: 'accelerator_memory_peak_gib',
    unit: 'GiB',
    aggregation: 'MAX',
    valueField: null,
    billable: false,
    description: 'Peak accelerator memory in use.',
  },
  {
    key: 'active_models',
    unit: 'model',
    aggregation: 'UNIQUE_COUNT',
    valueField: 'model',
    billable: false,
    description: 'Distinct models served (dimension "model").',
  },
];
