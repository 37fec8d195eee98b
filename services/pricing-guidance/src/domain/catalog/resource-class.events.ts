// The resource-class catalog: one aggregate per class (stream `resource-class-<id>`). Guidance, the order book,
// meters and statements all name capacity by these ids.

/** Units a class trades in: always accelerator-hours; inference offers may also price per 1,000 tokens. */
export const units = ['accelerator-hour', 'thousand-tokens'] as const;
export type Unit = (typeof units)[number];

export interface ResourceClassProfile {
  /** e.g. "NVIDIA", "Huawei". */
  vendor: string;
  /** e.g. "H100 SXM", "Ascend 910B". */
  model: string;
  /** On-package memory in GiB, as the vendor states it (80, 141, 64…). */
  memoryGiB: number;
  /** e.g. "NVLink 4 (900 GB/s)", "HCCS", "PCIe 4.0 x16". */
  interconnect: string;
  /** Always includes accelerator-hour; sorted in the order of `units`. */
  units: Unit[];
}

export interface ResourceClassCreated {
  type: 'ResourceClassCreated';
  data: ResourceClassProfile & { resourceClassId: string; createdAt: string };
}

/** Only the fields that changed are present. */
export interface ResourceClassAmended {
  type: 'ResourceClassAmended';
  data: { resourceClassId: string; changes: Partial<ResourceClassProfile>; amendedAt: string };
}

export type ResourceClassEvent = ResourceClassCreated | ResourceClassAmended;
export const resourceClassEventTypes: readonly string[] = ['ResourceClassCreated', 'ResourceClassAmended'];
export const isResourceClassEvent = (type: string): boolean => resourceClassEventTypes.includes(type);

export const RESOURCE_CLASS_STREAM_PREFIX = 'resource-class-';
export const resourceClassStream = (id: string): string => `${RESOURCE_CLASS_STREAM_PREFIX}${id}`;
