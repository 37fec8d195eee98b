// Proves the catalog deciders: creating and amending resource classes and regions, the refusals with their codes, and that the starter catalog passes its own rules.
import { DomainError } from '@cx/shared-kernel';
import * as region from './region.decider';
import * as rc from './resource-class.decider';
import { starterRegions, starterResourceClasses } from './starter-catalog';

const now = new Date('2026-03-10T08:00:00Z');
const later = new Date('2026-03-11T08:00:00Z');

const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return `${e.code} ${e.details.map((d) => d.field).join(',')}`.trim();
    throw e;
  }
  throw new Error('expected a refusal');
};

const create = (data: Partial<rc.CreateResourceClass['data']> = {}): rc.CreateResourceClass => ({
  type: 'CreateResourceClass',
  data: {
    resourceClassId: 'nvidia-b200-sxm-192g',
    vendor: 'NVIDIA',
    model: 'B200 SXM',
    memoryGiB: 192,
    interconnect: 'NVLink 5 (1.8 TB/s)',
    ...data,
  },
  metadata: { now },
});

describe('resource classes', () => {
  const created = rc.decide(create(), rc.noResourceClass);
  const state = created.reduce(rc.evolve, rc.noResourceClass);

  it('creates a class trading in accelerator-hours by default', () => {
    expect(created).toEqual([
      {
        type: 'ResourceClassCreated',
        data: {
          resourceClassId: 'nvidia-b200-sxm-192g',
          vendor: 'NVIDIA',
          model: 'B200 SXM',
          memoryGiB: 192,
          interconnect: 'NVLink 5 (1.8 TB/s)',
          units: ['accelerator-hour'],
          createdAt: now.toISOString(),
        },
      },
    ]);
  });

  it('stores units in canonical order', () => {
    const [e] = rc.decide(create({ units: ['thousand-tokens', 'accelerator-hour'] }), rc.noResourceClass);
    expect(e?.data).toMatchObject({ units: ['accelerator-hour', 'thousand-tokens'] });
  });

  it.each([
    ['an id with capitals', { resourceClassId: 'Nvidia-H100' }, 'PRICING.INVALID_RESOURCE_CLASS_ID resourceClassId'],
    ['an id with a dot', { resourceClassId: 'nvidia.h100' }, 'PRICING.INVALID_RESOURCE_CLASS_ID resourceClassId'],
    ['no vendor', { vendor: ' ' }, 'PRICING.INVALID_VENDOR vendor'],
    ['no model', { model: undefined }, 'PRICING.INVALID_MODEL model'],
    ['fractional memory', { memoryGiB: 80.5 }, 'PRICING.INVALID_MEMORY memoryGiB'],
    ['memory as a string', { memoryGiB: '80' }, 'PRICING.INVALID_MEMORY memoryGiB'],
    ['zero memory', { memoryGiB: 0 }, 'PRICING.INVALID_MEMORY memoryGiB'],
    ['no interconnect', { interconnect: '' }, 'PRICING.INVALID_INTERCONNECT interconnect'],
    ['units without accelerator-hour', { units: ['thousand-tokens'] }, 'PRICING.INVALID_UNITS units'],
    ['an unknown unit', { units: ['accelerator-hour', 'gpu-day'] }, 'PRICING.INVALID_UNITS units'],
    ['a unit twice', { units: ['accelerator-hour', 'accelerator-hour'] }, 'PRICING.INVALID_UNITS units'],
  ])('refuses %s', (_what, data, expected) => {
    expect(codeOf(() => rc.decide(create(data), rc.noResourceClass))).toBe(expected);
  });

  it('refuses to create a class twice', () => {
    expect(codeOf(() => rc.decide(create(), state))).toBe('PRICING.RESOURCE_CLASS_EXISTS resourceClassId');
  });

  const amend = (data: Partial<rc.AmendResourceClass['data']>): rc.AmendResourceClass => ({
    type: 'AmendResourceClass',
    data: { resourceClassId: 'nvidia-b200-sxm-192g', ...data },
    metadata: { now: later },
  });

  it('amends only what changed, and nothing when nothing did', () => {
    expect(rc.decide(amend({ vendor: 'NVIDIA', interconnect: 'NVLink 5' }), state)).toEqual([
      {
        type: 'ResourceClassAmended',
        data: {
          resourceClassId: 'nvidia-b200-sxm-192g',
          changes: { interconnect: 'NVLink 5' },
          amendedAt: later.toISOString(),
        },
      },
    ]);
    expect(rc.decide(amend({ memoryGiB: 192, units: ['accelerator-hour'] }), state)).toEqual([]);
    const [e] = rc.decide(amend({ units: ['accelerator-hour', 'thousand-tokens'] }), state);
    expect(rc.evolve(state, e!)).toMatchObject({
      units: ['accelerator-hour', 'thousand-tokens'],
      updatedAt: later.toISOString(),
    });
  });

  it.each([
    ['an unknown class', {}, rc.noResourceClass, 'PRICING.RESOURCE_CLASS_NOT_FOUND'],
    ['no field', {}, state, 'PRICING.EMPTY_AMENDMENT body'],
    ['bad memory', { memoryGiB: -1 }, state, 'PRICING.INVALID_MEMORY memoryGiB'],
  ])('refuses to amend %s', (_what, data, s, expected) => {
    expect(codeOf(() => rc.decide(amend(data), s))).toBe(expected);
  });

  it('ships a starter catalog that its own rules accept', () => {
    for (const c of starterResourceClasses) {
      expect(rc.decide({ type: 'CreateResourceClass', data: c, metadata: { now } }, rc.noResourceClass)).toHaveLength(
        1,
      );
    }
    expect(starterResourceClasses.map((c) => c.resourceClassId)).toEqual(
      expect.arrayContaining([
        'nvidia-h100-sxm-80g',
        'nvidia-h20-96g',
        'huawei-ascend-910b-64g',
        'huawei-ascend-910c-128g',
      ]),
    );
    for (const r of starterRegions) {
      expect(region.decide({ type: 'CreateRegion', data: r, metadata: { now } }, region.noRegion)).toHaveLength(1);
    }
  });
});

describe('regions', () => {
  const create = (data: Partial<region.CreateRegion['data']> = {}): region.CreateRegion => ({
    type: 'CreateRegion',
    data: { regionId: 'cn-central-1', name: 'Central China (Wuhan)', ...data },
    metadata: { now },
  });
  const state = region.decide(create(), region.noRegion).reduce(region.evolve, region.noRegion);

  it('creates and renames a region', () => {
    expect(state).toEqual({
      regionId: 'cn-central-1',
      name: 'Central China (Wuhan)',
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    const amend = {
      type: 'AmendRegion' as const,
      data: { regionId: 'cn-central-1', name: 'Central China' },
      metadata: { now: later },
    };
    expect(region.decide(amend, state)).toEqual([
      {
        type: 'RegionAmended',
        data: { regionId: 'cn-central-1', changes: { name: 'Central China' }, amendedAt: later.toISOString() },
      },
    ]);
    expect(region.decide({ ...amend, data: { ...amend.data, name: 'Central China (Wuhan)' } }, state)).toEqual([]);
  });

  it.each([
    ['an id without a hyphen', create({ regionId: 'east' }), region.noRegion, 'PRICING.INVALID_REGION_ID regionId'],
    ['an id with a dot', create({ regionId: 'cn.east-1' }), region.noRegion, 'PRICING.INVALID_REGION_ID regionId'],
    ['no name', create({ name: '' }), region.noRegion, 'PRICING.INVALID_REGION_NAME name'],
    ['a region twice', create(), state, 'PRICING.REGION_EXISTS regionId'],
    [
      'a rename of an unknown region',
      { type: 'AmendRegion' as const, data: { regionId: 'cn-x-1', name: 'X' }, metadata: { now } },
      region.noRegion,
      'PRICING.REGION_NOT_FOUND',
    ],
  ])('refuses %s', (_what, cmd, s, expected) => {
    expect(codeOf(() => region.decide(cmd, s))).toBe(expected);
  });
});
