import { assert, assertNever, DomainError } from '@cx/shared-kernel';
import { isRegionId, refuse, textField } from '../validation';
import type { RegionEvent } from './region.events';

// Admin creates regions and may rename them; the id never changes, because instruments and bands name it.

export interface RegionState {
  regionId: string;
  name: string;
  createdAt: string;
  updatedAt: string;
}

export type Region = RegionState | null;
export const noRegion: Region = null;

export interface CreateRegion {
  type: 'CreateRegion';
  data: { regionId: unknown; name: unknown };
  metadata: { now: Date };
}

export interface AmendRegion {
  type: 'AmendRegion';
  data: { regionId: string; name?: unknown };
  metadata: { now: Date };
}

export type RegionCommand = CreateRegion | AmendRegion;

const nameOf = (v: unknown): string => textField(v, 'PRICING.INVALID_REGION_NAME', 'name', { min: 1, max: 128 });

export const decide = (cmd: RegionCommand, state: Region): RegionEvent[] => {
  switch (cmd.type) {
    case 'CreateRegion': {
      const d = cmd.data;
      if (!isRegionId(d.regionId)) {
        throw refuse('PRICING.INVALID_REGION_ID', 'regionId must look like cn-east-1', 'regionId');
      }
      const name = nameOf(d.name);
      if (state !== null) {
        throw DomainError.conflict('PRICING.REGION_EXISTS', `region ${d.regionId} already exists`, 'regionId');
      }
      return [
        { type: 'RegionCreated', data: { regionId: d.regionId, name, createdAt: cmd.metadata.now.toISOString() } },
      ];
    }
    case 'AmendRegion': {
      const d = cmd.data;
      if (state === null) throw DomainError.notFound('PRICING.REGION_NOT_FOUND', `region ${d.regionId} not found`);
      if (d.name === undefined) throw refuse('PRICING.EMPTY_AMENDMENT', 'name at least one field to change', 'body');
      const name = nameOf(d.name);
      if (name === state.name) return [];
      return [
        {
          type: 'RegionAmended',
          data: { regionId: d.regionId, changes: { name }, amendedAt: cmd.metadata.now.toISOString() },
        },
      ];
    }
    default:
      return assertNever(cmd);
  }
};

export const evolve = (state: Region, e: RegionEvent): Region => {
  switch (e.type) {
    case 'RegionCreated':
      return { ...e.data, updatedAt: e.data.createdAt };
    case 'RegionAmended':
      assert(state !== null, `RegionAmended before RegionCreated for ${e.data.regionId}`);
      return { ...state, ...e.data.changes, updatedAt: e.data.amendedAt };
    default:
      return assertNever(e);
  }
};
