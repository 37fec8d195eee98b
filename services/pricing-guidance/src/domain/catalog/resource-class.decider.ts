import { assert, assertNever, DomainError } from '@cx/shared-kernel';
import { isResourceClassId, refuse, textField } from '../validation';
import { type ResourceClassEvent, type ResourceClassProfile, type Unit, units } from './resource-class.events';

// Admin creates and amends resource classes; every change is an event. A class is never deleted: trades,
// bands and statements keep naming it.

export interface ResourceClassState extends ResourceClassProfile {
  resourceClassId: string;
  createdAt: string;
  updatedAt: string;
}

export type ResourceClass = ResourceClassState | null;
export const noResourceClass: ResourceClass = null;

export interface ResourceClassInput {
  vendor?: unknown;
  model?: unknown;
  memoryGiB?: unknown;
  interconnect?: unknown;
  units?: unknown;
}

export interface CreateResourceClass {
  type: 'CreateResourceClass';
  data: ResourceClassInput & { resourceClassId: unknown };
  metadata: { now: Date };
}

export interface AmendResourceClass {
  type: 'AmendResourceClass';
  data: ResourceClassInput & { resourceClassId: string };
  metadata: { now: Date };
}

export type ResourceClassCommand = CreateResourceClass | AmendResourceClass;

/** The largest memory a class may state: far above any accelerator today, low enough to catch typos in MiB. */
export const MAX_MEMORY_GIB = 4096;

const vendorOf = (v: unknown): string => textField(v, 'PRICING.INVALID_VENDOR', 'vendor', { min: 1, max: 64 });
const modelOf = (v: unknown): string => textField(v, 'PRICING.INVALID_MODEL', 'model', { min: 1, max: 128 });
const interconnectOf = (v: unknown): string =>
  textField(v, 'PRICING.INVALID_INTERCONNECT', 'interconnect', { min: 1, max: 128 });

const memoryOf = (v: unknown): number => {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > MAX_MEMORY_GIB) {
    throw refuse('PRICING.INVALID_MEMORY', `memoryGiB must be a whole number from 1 to ${MAX_MEMORY_GIB}`, 'memoryGiB');
  }
  return v;
};

// Every class trades in accelerator-hours (the order book's unit), so a list without it is refused rather than
// silently completed; the stored list is in canonical order so equal lists are equal JSON.
const unitsOf = (v: unknown): Unit[] => {
  if (
    !Array.isArray(v) ||
    !v.every((u) => (units as readonly unknown[]).includes(u)) ||
    new Set(v).size !== v.length ||
    !v.includes('accelerator-hour')
  ) {
    throw refuse(
      'PRICING.INVALID_UNITS',
      `units must list accelerator-hour and optionally thousand-tokens, each once`,
      'units',
    );
  }
  return units.filter((u) => v.includes(u));
};

const sameUnits = (a: readonly Unit[], b: readonly Unit[]): boolean =>
  a.length === b.length && a.every((u, i) => u === b[i]);

// Field order: id, vendor, model, memory, interconnect, units; the state only once the request is sound.
const decideCreate = (cmd: CreateResourceClass, state: ResourceClass): ResourceClassEvent[] => {
  const d = cmd.data;
  if (!isResourceClassId(d.resourceClassId)) {
    throw refuse(
      'PRICING.INVALID_RESOURCE_CLASS_ID',
      'resourceClassId must be lower-case words joined by hyphens, e.g. nvidia-h100-sxm-80g',
      'resourceClassId',
    );
  }
  const profile: ResourceClassProfile = {
    vendor: vendorOf(d.vendor),
    model: modelOf(d.model),
    memoryGiB: memoryOf(d.memoryGiB),
    interconnect: interconnectOf(d.interconnect),
    units: unitsOf(d.units ?? ['accelerator-hour']),
  };
  if (state !== null) {
    throw DomainError.conflict(
      'PRICING.RESOURCE_CLASS_EXISTS',
      `resource class ${d.resourceClassId} already exists`,
      'resourceClassId',
    );
  }
  return [
    {
      type: 'ResourceClassCreated',
      data: { resourceClassId: d.resourceClassId, ...profile, createdAt: cmd.metadata.now.toISOString() },
    },
  ];
};

// Setting a field to its current value is no change, so a repeated amendment appends nothing.
const decideAmend = (cmd: AmendResourceClass, state: ResourceClass): ResourceClassEvent[] => {
  const d = cmd.data;
  if (state === null) {
    throw DomainError.notFound('PRICING.RESOURCE_CLASS_NOT_FOUND', `resource class ${d.resourceClassId} not found`);
  }
  const given = [d.vendor, d.model, d.memoryGiB, d.interconnect, d.units].some((v) => v !== undefined);
  if (!given) throw refuse('PRICING.EMPTY_AMENDMENT', 'name at least one field to change', 'body');
  const changes: Partial<ResourceClassProfile> = {};
  if (d.vendor !== undefined) {
    const v = vendorOf(d.vendor);
    if (v !== state.vendor) changes.vendor = v;
  }
  if (d.model !== undefined) {
    const v = modelOf(d.model);
    if (v !== state.model) changes.model = v;
  }
  if (d.memoryGiB !== undefined) {
    const v = memoryOf(d.memoryGiB);
    if (v !== state.memoryGiB) changes.memoryGiB = v;
  }
  if (d.interconnect !== undefined) {
    const v = interconnectOf(d.interconnect);
    if (v !== state.interconnect) changes.interconnect = v;
  }
  if (d.units !== undefined) {
    const v = unitsOf(d.units);
    if (!sameUnits(v, state.units)) changes.units = v;
  }
  if (Object.keys(changes).length === 0) return [];
  return [
    {
      type: 'ResourceClassAmended',
      data: { resourceClassId: d.resourceClassId, changes, amendedAt: cmd.metadata.now.toISOString() },
    },
  ];
};

export const decide = (cmd: ResourceClassCommand, state: ResourceClass): ResourceClassEvent[] => {
  switch (cmd.type) {
    case 'CreateResourceClass':
      return decideCreate(cmd, state);
    case 'AmendResourceClass':
      return decideAmend(cmd, state);
    default:
      return assertNever(cmd);
  }
};

export const evolve = (state: ResourceClass, e: ResourceClassEvent): ResourceClass => {
  switch (e.type) {
    case 'ResourceClassCreated': {
      const { createdAt, ...rest } = e.data;
      return { ...rest, units: [...rest.units], createdAt, updatedAt: createdAt };
    }
    case 'ResourceClassAmended':
      assert(state !== null, `ResourceClassAmended before ResourceClassCreated for ${e.data.resourceClassId}`);
      return { ...state, ...e.data.changes, updatedAt: e.data.amendedAt };
    default:
      return assertNever(e);
  }
};
