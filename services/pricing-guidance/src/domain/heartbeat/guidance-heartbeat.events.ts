// "Guidance is complete up to T" (DESIGN.md, "Time"). Recorded in the store, not sent beside it, so the relay
// publishes it after every band change recorded before it, on the same key (the resource class): a consumer that
// has a heartbeat for T has every change that happened at or before T. Matching refuses to match once its latest
// heartbeat is older than the maximum propagation lag.

export const HEARTBEAT_STREAM = 'pricing-heartbeat';

export interface GuidanceHeartbeatRecorded {
  type: 'GuidanceHeartbeatRecorded';
  data: {
    /** ISO 8601, business clock: every band change issued at or before it is recorded before this event. */
    completeUpTo: string;
    /** Every resource class of the catalog with its latest band version (any region), or null. */
    classes: { resourceClass: string; latestVersionId: string | null }[];
  };
}
