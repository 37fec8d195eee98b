// What metering keeps of another service's facts: an allocation it heard on `cx.matching.allocations.v1`,
// recorded in its own stream so that who may publish usage for it survives a restart and a consumer replay.

export interface AllocationHeardData {
  allocationId: string;
  providerAccount: string;
  buyerAccount: string;
  instrument: string;
  deliveryStart: string | null;
  deliveryEnd: string | null;
}

export type AllocationHeard = { type: 'AllocationHeard'; data: AllocationHeardData };

export const ALLOCATION_STREAM_PREFIX = 'metering-allocation-';
export const allocationStream = (id: string): string => `${ALLOCATION_STREAM_PREFIX}${id}`;

// A billing period metering heard closed on `cx.billing.periods.v1`, recorded once per period so that lateness
// survives a restart. Usage whose time falls in it is still accepted, marked late.
export interface PeriodClosedHeardData {
  period: string;
  startMs: number;
  endMs: number;
}

export type PeriodClosedHeard = { type: 'PeriodClosedHeard'; data: PeriodClosedHeardData };

export const PERIOD_STREAM_PREFIX = 'metering-period-';
export const periodStream = (period: string): string => `${PERIOD_STREAM_PREFIX}${period}`;
