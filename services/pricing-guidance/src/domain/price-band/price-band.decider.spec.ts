// Proves the price-band decider: what issuing, amending and withdrawing record, every refusal with its code (ordered by which wins), and amend/withdraw chains.
import { DomainError } from '@cx/shared-kernel';
import type { ResourceClassState } from '../catalog/resource-class.decider';
import {
  type AmendBand,
  type Band,
  type BandCommand,
  decide,
  evolve,
  type IssueBand,
  noBand,
  type WithdrawBand,
} from './price-band.decider';
import type { PriceBandEvent } from './price-band.events';

const now = new Date('2026-03-10T08:00:00Z');
const HOUR = 3_600_000;
const meta = { now, minNoticeMs: HOUR, issuedBy: { keyId: 'reg-key-1', role: 'regulator' } };
const h100: ResourceClassState = {
  resourceClassId: 'nvidia-h100-sxm-80g',
  vendor: 'NVIDIA',
  model: 'H100 SXM',
  memoryGiB: 80,
  interconnect: 'NVLink 4 (900 GB/s)',
  units: ['accelerator-hour', 'thousand-tokens'],
  createdAt: now.toISOString(),
  updatedAt: now.toISOString(),
};
const a100: ResourceClassState = { ...h100, resourceClassId: 'nvidia-a100-sxm-80g', units: ['accelerator-hour'] };

const given = (events: PriceBandEvent[]): Band => events.reduce(evolve, noBand);

const issue = (data: Partial<IssueBand['data']> = {}, m: Partial<IssueBand['metadata']> = {}): IssueBand => ({
  type: 'IssueBand',
  data: {
    resourceClass: 'nvidia-h100-sxm-80g',
    floorPerAcceleratorHour: '12.5',
    effectiveFrom: '2026-03-10T09:00:00Z',
    reason: 'Quarterly floor review',
    documentRef: 'NDRC-2026-041',
    catalog: { resourceClass: h100, regionExists: true },
    ...data,
  },
  metadata: { ...meta, ...m },
});

const amend = (data: Partial<AmendBand['data']> = {}, m: Partial<AmendBand['metadata']> = {}): AmendBand => ({
  type: 'AmendBand',
  data: {
    bandId: 'nvidia-h100-sxm-80g',
    effectiveFrom: '2026-03-11T00:00:00Z',
    reason: 'Demand spike',
    documentRef: 'NDRC-2026-042',
    ...data,
  },
  metadata: { ...meta, ...m },
});

const withdraw = (data: Partial<WithdrawBand['data']> = {}): WithdrawBand => ({
  type: 'WithdrawBand',
  data: { bandId: 'nvidia-h100-sxm-80g', reason: 'Market normalised', documentRef: 'NDRC-2026-050', ...data },
  metadata: meta,
});

const refusal = (cmd: BandCommand, state: Band): { code: string; kind: string; fields: string[] } => {
  try {
    decide(cmd, state);
  } catch (e) {
    if (e instanceof DomainError) return { code: e.code, kind: e.kind, fields: e.details.map((d) => d.field) };
    throw e;
  }
  throw new Error('expected a refusal');
};

const issued = decide(issue(), noBand);

describe('IssueBand', () => {
  it('records a complete first version with canonical prices, CNY by default, and who issued it', () => {
    expect(issued).toEqual([
      {
        type: 'PriceBandIssued',
        data: {
          bandId: 'nvidia-h100-sxm-80g',
          versionId: 'nvidia-h100-sxm-80g.v1',
          version: 1,
          resourceClass: 'nvidia-h100-sxm-80g',
          region: null,
          currency: 'CNY',
          floorPerAcceleratorHour: '12.50',
          floorPerThousandTokens: null,
          ceilingPerAcceleratorHour: null,
          referencePrice: null,
          effectiveFrom: '2026-03-10T09:00:00.000Z',
          effectiveTo: null,
          reason: 'Quarterly floor review',
          documentRef: 'NDRC-2026-041',
          issuedBy: { keyId: 'reg-key-1', role: 'regulator' },
          issuedAt: '2026-03-10T08:00:00.000Z',
          previousVersionId: null,
        },
      },
    ]);
  });

  it('names a regional band by class and region, and keeps prices finer than the minor unit', () => {
    const [e] = decide(
      issue({
        region: 'cn-east-1',
        currency: 'USD',
        floorPerThousandTokens: '0.0125',
        ceilingPerAcceleratorHour: '30',
        referencePrice: '20.0',
        effectiveTo: '2026-06-30T16:00:00+08:00',
      }),
      noBand,
    );
    expect(e?.data).toMatchObject({
      bandId: 'nvidia-h100-sxm-80g.cn-east-1',
      versionId: 'nvidia-h100-sxm-80g.cn-east-1.v1',
      region: 'cn-east-1',
      currency: 'USD',
      floorPerThousandTokens: '0.0125',
      ceilingPerAcceleratorHour: '30.00',
      referencePrice: '20.00',
      effectiveTo: '2026-06-30T08:00:00.000Z',
    });
  });

  it('accepts a ceiling equal to the floor and a reference on either edge', () => {
    expect(decide(issue({ ceilingPerAcceleratorHour: '12.50', referencePrice: '12.5' }), noBand)).toHaveLength(1);
  });

  it('accepts an effective instant exactly at the end of the notice, and a notice of 0 from now', () => {
    expect(decide(issue({ effectiveFrom: '2026-03-10T09:00:00.000Z' }), noBand)).toHaveLength(1);
    expect(decide(issue({ effectiveFrom: now.toISOString() }, { minNoticeMs: 0 }), noBand)).toHaveLength(1);
  });

  // Ordered by which error wins: each row is also wrong in every later field.
  const allWrong: Partial<IssueBand['data']> = {
    resourceClass: 'NVIDIA H100',
    region: 'east',
    currency: 'XYZ',
    floorPerAcceleratorHour: 'ten',
    floorPerThousandTokens: '-1',
    ceilingPerAcceleratorHour: '1e3',
    referencePrice: 'x',
    effectiveFrom: 'tomorrow',
    effectiveTo: 'later',
    reason: '',
    documentRef: '',
    catalog: { resourceClass: null, regionExists: false },
  };
  const fixes: Array<[string, string, Partial<IssueBand['data']>]> = [
    ['resourceClass', 'PRICING.INVALID_RESOURCE_CLASS', { resourceClass: 'nvidia-h100-sxm-80g' }],
    ['region', 'PRICING.INVALID_REGION', { region: 'cn-east-1' }],
    ['currency', 'PRICING.INVALID_CURRENCY', { currency: 'CNY' }],
    ['floorPerAcceleratorHour', 'PRICING.INVALID_PRICE', { floorPerAcceleratorHour: '10' }],
    ['floorPerThousandTokens', 'PRICING.FLOOR_NOT_POSITIVE', { floorPerThousandTokens: '0.01' }],
    ['ceilingPerAcceleratorHour', 'PRICING.INVALID_PRICE', { ceilingPerAcceleratorHour: '30' }],
    ['referencePrice', 'PRICING.INVALID_PRICE', { referencePrice: '20' }],
    ['effectiveFrom', 'PRICING.INVALID_INSTANT', { effectiveFrom: '2026-03-11T00:00:00Z' }],
    ['effectiveTo', 'PRICING.INVALID_INSTANT', { effectiveTo: null }],
    ['reason', 'PRICING.INVALID_REASON', { reason: 'Review' }],
    ['documentRef', 'PRICING.INVALID_DOCUMENT_REF', { documentRef: 'DOC-1' }],
    ['resourceClass', 'PRICING.UNKNOWN_RESOURCE_CLASS', { catalog: { resourceClass: h100, regionExists: false } }],
    ['region', 'PRICING.UNKNOWN_REGION', { catalog: { resourceClass: h100, regionExists: true } }],
  ];
  it.each(fixes.map(([field, code], i) => [code, field, i] as const))(
    'reports %s on %s first when every later field is wrong too',
    (code, field, i) => {
      const data = fixes
        .slice(0, i)
        .reduce<Partial<IssueBand['data']>>((acc, [, , fix]) => ({ ...acc, ...fix }), allWrong);
      const r = refusal(issue(data), noBand);
      expect(r.code).toBe(code);
      expect(r.fields).toEqual([field]);
      expect(r.kind).toBe(code.startsWith('PRICING.UNKNOWN') ? 'unprocessable' : 'invalid');
    },
  );
  it('accepts the last row once it is fixed', () => {
    const data = fixes.reduce<Partial<IssueBand['data']>>((acc, [, , fix]) => ({ ...acc, ...fix }), allWrong);
    expect(decide(issue(data), noBand)).toHaveLength(1);
  });

  it.each([
    ['a zero floor', { floorPerAcceleratorHour: '0' }, 'PRICING.FLOOR_NOT_POSITIVE', 'floorPerAcceleratorHour'],
    ['a negative floor', { floorPerAcceleratorHour: '-5' }, 'PRICING.FLOOR_NOT_POSITIVE', 'floorPerAcceleratorHour'],
    ['a missing floor', { floorPerAcceleratorHour: undefined }, 'PRICING.INVALID_PRICE', 'floorPerAcceleratorHour'],
    ['a number for a floor', { floorPerAcceleratorHour: 12 }, 'PRICING.INVALID_PRICE', 'floorPerAcceleratorHour'],
    ['an exponent', { floorPerAcceleratorHour: '1e2' }, 'PRICING.INVALID_PRICE', 'floorPerAcceleratorHour'],
    ['seven decimals', { floorPerAcceleratorHour: '1.0000001' }, 'PRICING.INVALID_PRICE', 'floorPerAcceleratorHour'],
    ['a zero tokens floor', { floorPerThousandTokens: '0' }, 'PRICING.FLOOR_NOT_POSITIVE', 'floorPerThousandTokens'],
    [
      'a ceiling below the floor',
      { ceilingPerAcceleratorHour: '12.49' },
      'PRICING.CEILING_BELOW_FLOOR',
      'ceilingPerAcceleratorHour',
    ],
    ['a reference below the floor', { referencePrice: '12' }, 'PRICING.REFERENCE_OUTSIDE_BAND', 'referencePrice'],
    [
      'a reference above the ceiling',
      { ceilingPerAcceleratorHour: '20', referencePrice: '20.01' },
      'PRICING.REFERENCE_OUTSIDE_BAND',
      'referencePrice',
    ],
    ['an instant in the past', { effectiveFrom: '2026-03-10T07:59:59Z' }, 'PRICING.EFFECTIVE_IN_PAST', 'effectiveFrom'],
    [
      'an instant inside the notice',
      { effectiveFrom: '2026-03-10T08:59:59.999Z' },
      'PRICING.NOTICE_TOO_SHORT',
      'effectiveFrom',
    ],
    ['no offset', { effectiveFrom: '2026-03-11T00:00:00' }, 'PRICING.INVALID_INSTANT', 'effectiveFrom'],
    ['a missing effectiveFrom', { effectiveFrom: undefined }, 'PRICING.INVALID_INSTANT', 'effectiveFrom'],
    [
      'an end before the start',
      { effectiveTo: '2026-03-10T08:30:00Z' },
      'PRICING.EFFECTIVE_TO_BEFORE_FROM',
      'effectiveTo',
    ],
    [
      'an end equal to the start',
      { effectiveTo: '2026-03-10T09:00:00Z' },
      'PRICING.EFFECTIVE_TO_BEFORE_FROM',
      'effectiveTo',
    ],
    [
      'a tokens floor for a class not priced in tokens',
      {
        floorPerThousandTokens: '0.01',
        catalog: { resourceClass: a100, regionExists: true },
        resourceClass: a100.resourceClassId,
      },
      'PRICING.UNIT_NOT_OFFERED',
      'floorPerThousandTokens',
    ],
    [
      'a class the catalog names differently',
      { resourceClass: 'nvidia-h200-sxm-141g' },
      'PRICING.UNKNOWN_RESOURCE_CLASS',
      'resourceClass',
    ],
  ])('refuses %s', (_what, data, code, field) => {
    expect(refusal(issue(data as Partial<IssueBand['data']>), noBand)).toMatchObject({ code, fields: [field] });
  });

  it('refuses a second band for the same scope while the first is live (amend it instead)', () => {
    expect(refusal(issue(), given(issued))).toEqual({
      code: 'PRICING.BAND_EXISTS',
      kind: 'conflict',
      fields: ['resourceClass'],
    });
  });
});

describe('AmendBand', () => {
  const state = given(issued);

  it('records a new version that inherits what it does not change and points at the one it follows', () => {
    const [e] = decide(amend({ floorPerAcceleratorHour: '14', ceilingPerAcceleratorHour: '40' }), state);
    expect(e).toEqual({
      type: 'PriceBandAmended',
      data: expect.objectContaining({
        versionId: 'nvidia-h100-sxm-80g.v2',
        version: 2,
        previousVersionId: 'nvidia-h100-sxm-80g.v1',
        floorPerAcceleratorHour: '14.00',
        ceilingPerAcceleratorHour: '40.00',
        currency: 'CNY',
        effectiveFrom: '2026-03-11T00:00:00.000Z',
        reason: 'Demand spike',
      }),
    });
  });

  it('clears an optional term with null', () => {
    const withCeiling = given([...issued, ...decide(amend({ ceilingPerAcceleratorHour: '40' }), state)]);
    const [e] = decide(amend({ ceilingPerAcceleratorHour: null }), withCeiling);
    expect(e?.data).toMatchObject({ ceilingPerAcceleratorHour: null, version: 3 });
  });

  it('judges inherited terms against new ones: a new floor above the old ceiling is refused', () => {
    const withCeiling = given([...issued, ...decide(amend({ ceilingPerAcceleratorHour: '20' }), state)]);
    expect(refusal(amend({ floorPerAcceleratorHour: '25' }), withCeiling)).toMatchObject({
      code: 'PRICING.CEILING_BELOW_FLOOR',
      fields: ['ceilingPerAcceleratorHour'],
    });
  });

  it('chains: issue, amend, amend, withdraw give versions 1 to 4, each pointing at the last', () => {
    let s = state;
    const log = [...issued];
    for (const cmd of [
      amend({ floorPerAcceleratorHour: '13' }),
      amend({ floorPerAcceleratorHour: '14' }),
      withdraw(),
    ]) {
      const es = decide(cmd, s);
      log.push(...es);
      s = es.reduce(evolve, s);
    }
    expect(log.map((e) => [e.type, e.data.versionId, e.data.previousVersionId])).toEqual([
      ['PriceBandIssued', 'nvidia-h100-sxm-80g.v1', null],
      ['PriceBandAmended', 'nvidia-h100-sxm-80g.v2', 'nvidia-h100-sxm-80g.v1'],
      ['PriceBandAmended', 'nvidia-h100-sxm-80g.v3', 'nvidia-h100-sxm-80g.v2'],
      ['PriceBandWithdrawn', 'nvidia-h100-sxm-80g.v4', 'nvidia-h100-sxm-80g.v3'],
    ]);
    expect(s?.versions.map((v) => v.kind)).toEqual(['issued', 'amended', 'amended', 'withdrawn']);
  });

  it.each([
    ['an unknown band, before anything else', {}, [] as PriceBandEvent[], 'PRICING.BAND_NOT_FOUND', 'not_found'],
    ['a floor of zero', { floorPerAcceleratorHour: '0' }, issued, 'PRICING.FLOOR_NOT_POSITIVE', 'invalid'],
    ['a start in the past', { effectiveFrom: '2026-03-01T00:00:00Z' }, issued, 'PRICING.EFFECTIVE_IN_PAST', 'invalid'],
    ['no start', { effectiveFrom: undefined }, issued, 'PRICING.INVALID_INSTANT', 'invalid'],
    ['no reason', { reason: ' ' }, issued, 'PRICING.INVALID_REASON', 'invalid'],
    ['no document', { documentRef: undefined }, issued, 'PRICING.INVALID_DOCUMENT_REF', 'invalid'],
    [
      'an inherited end before the new start',
      { effectiveFrom: '2026-07-01T00:00:00Z' },
      decide(issue({ effectiveTo: '2026-06-30T00:00:00Z' }), noBand),
      'PRICING.EFFECTIVE_TO_BEFORE_FROM',
      'invalid',
    ],
  ])('refuses %s', (_what, data, history, code, kind) => {
    expect(refusal(amend(data as Partial<AmendBand['data']>), given(history))).toMatchObject({ code, kind });
  });
});

describe('WithdrawBand', () => {
  const state = given(issued);

  it('ends the band after the minimum notice by default, repeating the last prices', () => {
    const [e] = decide(withdraw(), state);
    expect(e).toEqual({
      type: 'PriceBandWithdrawn',
      data: expect.objectContaining({
        versionId: 'nvidia-h100-sxm-80g.v2',
        previousVersionId: 'nvidia-h100-sxm-80g.v1',
        floorPerAcceleratorHour: '12.50',
        effectiveFrom: '2026-03-10T09:00:00.000Z',
        effectiveTo: '2026-03-10T09:00:00.000Z',
        reason: 'Market normalised',
        documentRef: 'NDRC-2026-050',
      }),
    });
  });

  it('takes a later instant when asked', () => {
    const [e] = decide(withdraw({ effectiveAt: '2026-04-01T00:00:00Z' }), state);
    expect(e?.data.effectiveTo).toBe('2026-04-01T00:00:00.000Z');
  });

  const withdrawn = given([...issued, ...decide(withdraw(), state)]);

  it.each([
    ['an unknown band', withdraw(), noBand, 'PRICING.BAND_NOT_FOUND'],
    [
      'an instant inside the notice',
      withdraw({ effectiveAt: '2026-03-10T08:30:00Z' }),
      state,
      'PRICING.NOTICE_TOO_SHORT',
    ],
    ['an instant in the past', withdraw({ effectiveAt: '2026-03-09T00:00:00Z' }), state, 'PRICING.EFFECTIVE_IN_PAST'],
    ['a malformed instant', withdraw({ effectiveAt: 'soon' }), state, 'PRICING.INVALID_INSTANT'],
    ['a withdrawn band', withdraw(), withdrawn, 'PRICING.BAND_WITHDRAWN'],
    ['an amendment of a withdrawn band', amend(), withdrawn, 'PRICING.BAND_WITHDRAWN'],
  ])('refuses %s', (_what, cmd, s, code) => {
    expect(refusal(cmd, s).code).toBe(code);
  });

  it('lets a withdrawn scope be issued again, continuing the version line', () => {
    const [e] = decide(issue({ effectiveFrom: '2026-05-01T00:00:00Z' }), withdrawn);
    expect(e).toMatchObject({
      type: 'PriceBandIssued',
      data: { version: 3, versionId: 'nvidia-h100-sxm-80g.v3', previousVersionId: 'nvidia-h100-sxm-80g.v2' },
    });
  });
});

describe('evolve', () => {
  it('stops on a stream that does not start with an issue', () => {
    const [w] = decide(withdraw(), given(issued));
    expect(() => given([w as PriceBandEvent])).toThrow(/before PriceBandIssued/);
  });

  it('stops on a version out of sequence', () => {
    const [a] = decide(amend(), given(issued));
    expect(() => given([...issued, a as PriceBandEvent, a as PriceBandEvent])).toThrow(/does not follow/);
  });
});
