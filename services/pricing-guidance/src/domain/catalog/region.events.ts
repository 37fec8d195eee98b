// Regions where capacity is delivered: one aggregate per region (stream `region-<id>`).

export interface RegionProfile {
  /** A name for people, e.g. "East China (Shanghai)". */
  name: string;
}

export interface RegionCreated {
  type: 'RegionCreated';
  data: RegionProfile & { regionId: string; createdAt: string };
}

export interface RegionAmended {
  type: 'RegionAmended';
  data: { regionId: string; changes: Partial<RegionProfile>; amendedAt: string };
}

export type RegionEvent = RegionCreated | RegionAmended;
export const regionEventTypes: readonly string[] = ['RegionCreated', 'RegionAmended'];
export const isRegionEvent = (type: string): boolean => regionEventTypes.includes(type);

export const REGION_STREAM_PREFIX = 'region-';
export const regionStream = (id: string): string => `${REGION_STREAM_PREFIX}${id}`;
