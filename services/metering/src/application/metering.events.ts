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
