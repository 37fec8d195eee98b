// Proves the stepped band of the price chart: it changes exactly at each version's effectiveFrom (and effectiveTo
// and withdrawals), a regional band overrides the national one, and no band means no line.
import { describe, expect, it } from 'vitest';
import { type BandVersion, bandAt, bandSteps, stepPoints } from './band-steps';

const v = (over: Partial<BandVersion> & Pick<BandVersion, 'version' | 'effectiveFrom'>): BandVersion => ({
  bandId: 'h100',
  versionId: `h100.v${over.version}`,
  kind: 'issued',
  resourceClass: 'h100',
  region: null,
  currency: 'CNY',
  floorPerAcceleratorHour: '18.00',
  ceilingPerAcceleratorHour: '60.00',
  referencePrice: '25.00',
  effectiveTo: null,
  ...over,
});
const t = (iso: string): number => Date.parse(iso);

describe('bandAt', () => {
  const versions = [
    v({ version: 1, effectiveFrom: '2026-03-15T08:00:00Z' }),
    v({ version: 2, kind: 'amended', effectiveFrom: '2026-03-16T00:00:00Z', floorPerAcceleratorHour: '20.00' }),
  ];

  it('has no band before the first effectiveFrom, and the first version from that very millisecond', () => {
    expect(bandAt(versions, 'h100', null, t('2026-03-15T07:59:59.999Z'))).toBeNull();
    expect(bandAt(versions, 'h100', null, t('2026-03-15T08:00:00.000Z'))?.versionId).toBe('h100.v1');
  });

  it('switches to the amendment exactly at its effectiveFrom', () => {
    expect(bandAt(versions, 'h100', null, t('2026-03-15T23:59:59.999Z'))?.versionId).toBe('h100.v1');
    expect(bandAt(versions, 'h100', null, t('2026-03-16T00:00:00.000Z'))?.versionId).toBe('h100.v2');
  });

  it('ends at a withdrawal that has taken effect, and at effectiveTo (exclusive)', () => {
    const withdrawn = [...versions, v({ version: 3, kind: 'withdrawn', effectiveFrom: '2026-03-17T00:00:00Z' })];
    expect(bandAt(withdrawn, 'h100', null, t('2026-03-16T23:59:59.999Z'))?.versionId).toBe('h100.v2');
    expect(bandAt(withdrawn, 'h100', null, t('2026-03-17T00:00:00Z'))).toBeNull();
    const bounded = [v({ version: 1, effectiveFrom: '2026-03-15T00:00:00Z', effectiveTo: '2026-03-16T00:00:00Z' })];
    expect(bandAt(bounded, 'h100', null, t('2026-03-16T00:00:00Z'))).toBeNull();
  });

  it('prefers a regional band in force over the national one, in that region only', () => {
    const regional = v({
      bandId: 'h100.cn-east-1',
      versionId: 'h100.cn-east-1.v1',
      version: 1,
      region: 'cn-east-1',
      effectiveFrom: '2026-03-15T12:00:00Z',
      floorPerAcceleratorHour: '22.00',
    });
    const all = [...versions, regional];
    expect(bandAt(all, 'h100', 'cn-east-1', t('2026-03-15T12:00:00Z'))?.versionId).toBe('h100.cn-east-1.v1');
    expect(bandAt(all, 'h100', 'cn-north-1', t('2026-03-15T12:00:00Z'))?.versionId).toBe('h100.v1');
    expect(bandAt(all, 'h100', 'cn-east-1', t('2026-03-15T11:59:59Z'))?.versionId).toBe('h100.v1');
  });
});

describe('bandSteps', () => {
  it('steps exactly at each effectiveFrom inside the range, merging instants that change nothing', () => {
    const versions = [
      v({ version: 1, effectiveFrom: '2026-03-15T08:00:00Z' }),
      v({ version: 2, kind: 'amended', effectiveFrom: '2026-03-16T00:00:00Z', floorPerAcceleratorHour: '20.00' }),
    ];
    const steps = bandSteps(versions, 'h100', null, t('2026-03-15T00:00:00Z'), t('2026-03-17T00:00:00Z'));
    expect(steps).toEqual([
      { from: t('2026-03-15T00:00:00Z'), versionId: null, floor: null, ceiling: null, reference: null },
      { from: t('2026-03-15T08:00:00Z'), versionId: 'h100.v1', floor: '18.00', ceiling: '60.00', reference: '25.00' },
      { from: t('2026-03-16T00:00:00Z'), versionId: 'h100.v2', floor: '20.00', ceiling: '60.00', reference: '25.00' },
    ]);
  });

  it('ignores other classes and changes outside the range', () => {
    const versions = [
      v({ version: 1, effectiveFrom: '2026-03-01T00:00:00Z' }),
      v({ version: 2, kind: 'amended', effectiveFrom: '2026-04-01T00:00:00Z', floorPerAcceleratorHour: '30.00' }),
      v({
        version: 1,
        bandId: 'a100',
        versionId: 'a100.v1',
        resourceClass: 'a100',
        effectiveFrom: '2026-03-10T00:00:00Z',
      }),
    ];
    const steps = bandSteps(versions, 'h100', null, t('2026-03-05T00:00:00Z'), t('2026-03-20T00:00:00Z'));
    expect(steps.map((s) => [s.versionId, s.floor])).toEqual([['h100.v1', '18.00']]);
  });
});

describe('stepPoints', () => {
  it('draws each step from its start to the next, with a vertical jump at the change and a gap without a band', () => {
    const steps = [
      { from: 0, versionId: null, floor: null, ceiling: null, reference: null },
      { from: 10, versionId: 'v1', floor: '18.00', ceiling: null, reference: null },
      { from: 20, versionId: 'v2', floor: '20.00', ceiling: null, reference: null },
    ];
    expect(stepPoints(steps, (s) => s.floor, 30)).toEqual([
      [0, null],
      [10, null],
      [10, '18.00'],
      [20, '18.00'],
      [20, '20.00'],
      [30, '20.00'],
    ]);
  });
});
