import type { RegionState } from '../domain/catalog/region.decider';
import type { ResourceClassState } from '../domain/catalog/resource-class.decider';
import type { RecordedVersion } from './guidance.read-model';

// What clients see. Built only from the read model (itself only from events), so an answer computed live and one
// computed from a replay are the same JSON.

export interface ResourceClassViewData {
  resourceClassId: string;
  vendor: string;
  model: string;
  memoryGiB: number;
  interconnect: string;
  units: string[];
  createdAt: string;
  updatedAt: string;
}

export interface RegionViewData {
  regionId: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export interface BandVersionViewData {
  bandId: string;
  versionId: string;
  version: number;
  kind: 'issued' | 'amended' | 'withdrawn';
  resourceClass: string;
  region: string | null;
  currency: string;
  floorPerAcceleratorHour: string;
  floorPerThousandTokens: string | null;
  ceilingPerAcceleratorHour: string | null;
  referencePrice: string | null;
  effectiveFrom: string;
  effectiveTo: string | null;
  reason: string;
  documentRef: string;
  issuedBy: { keyId: string | null; role: string | null };
  issuedAt: string;
  recordedAt: string | null;
  previousVersionId: string | null;
}

export interface GuidanceAtViewData {
  resourceClass: string;
  region: string | null;
  at: string;
  /** The version in force, as decisions record it; null where no band is in force (no floor). */
  guidanceVersion: string | null;
  band: BandVersionViewData | null;
}

export const toResourceClassView = (c: ResourceClassState): ResourceClassViewData => ({
  resourceClassId: c.resourceClassId,
  vendor: c.vendor,
  model: c.model,
  memoryGiB: c.memoryGiB,
  interconnect: c.interconnect,
  units: [...c.units],
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
});

export const toRegionView = (r: RegionState): RegionViewData => ({
  regionId: r.regionId,
  name: r.name,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

export const toBandVersionView = (v: RecordedVersion): BandVersionViewData => ({
  bandId: v.bandId,
  versionId: v.versionId,
  version: v.version,
  kind: v.kind,
  resourceClass: v.resourceClass,
  region: v.region,
  currency: v.currency,
  floorPerAcceleratorHour: v.floorPerAcceleratorHour,
  floorPerThousandTokens: v.floorPerThousandTokens,
  ceilingPerAcceleratorHour: v.ceilingPerAcceleratorHour,
  referencePrice: v.referencePrice,
  effectiveFrom: v.effectiveFrom,
  effectiveTo: v.effectiveTo,
  reason: v.reason,
  documentRef: v.documentRef,
  issuedBy: { keyId: v.issuedBy.keyId, role: v.issuedBy.role },
  issuedAt: v.issuedAt,
  recordedAt: v.recordedAt,
  previousVersionId: v.previousVersionId,
});
