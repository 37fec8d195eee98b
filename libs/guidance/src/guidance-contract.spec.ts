// Proves the mapping from `cx.pricing.v1.GuidanceChanged`, encoded and decoded as it travels, to the band-version
// shape: every field carried across, and an incomplete or mixed-currency message refused with its reason.
import {
  createEvent,
  decodeEvent,
  encodeEvent,
  type GuidanceChanged,
  GuidanceChangeKind,
  timestampFromDate,
  type TopicEventInit,
} from '@cx/contracts';
import { bandVersionFromContract } from './guidance-contract';

const TOPIC = 'cx.pricing.guidance.v1';

type ChangedInit = Extract<TopicEventInit<typeof TOPIC>['event'], { case: 'guidanceChanged' }>['value'];

const travel = (value: ChangedInit): GuidanceChanged => {
  const event = createEvent(TOPIC, {
    envelope: {
      eventId: 'e1',
      aggregateId: 'nvidia-h100-sxm-80g',
      occurredAt: timestampFromDate(new Date('2026-03-01T00:00:00Z')),
      correlationId: 'c1',
      causationId: 'c1',
      source: { streamId: 'guidance-nvidia-h100-sxm-80g.cn-east-1', streamRevision: 1n },
    },
    event: { case: 'guidanceChanged', value },
  });
  const decoded = decodeEvent(TOPIC, encodeEvent(TOPIC, event));
  if (decoded.event.case !== 'guidanceChanged') throw new TypeError('not a guidanceChanged');
  return decoded.event.value;
};

const band = {
  bandId: 'nvidia-h100-sxm-80g.cn-east-1',
  versionId: 'nvidia-h100-sxm-80g.cn-east-1.v2',
  version: 2n,
  resourceClass: 'nvidia-h100-sxm-80g',
  region: 'cn-east-1',
  floorPerAcceleratorHour: { amount: '12.50', currency: 'CNY' },
  floorPerThousandTokens: { amount: '0.02', currency: 'CNY' },
  referencePrice: { amount: '15', currency: 'CNY' },
  effectiveFrom: timestampFromDate(new Date('2026-03-10T00:00:00Z')),
  effectiveTo: timestampFromDate(new Date('2026-04-01T00:00:00Z')),
  issuedBy: 'key-reg',
  reason: 'review',
};

describe('bandVersionFromContract', () => {
  it('carries every field of an amendment across', () => {
    const mapped = bandVersionFromContract(
      travel({ kind: GuidanceChangeKind.AMENDED, band, previousVersionId: 'nvidia-h100-sxm-80g.cn-east-1.v1' }),
    );
    expect(mapped).toEqual({
      ok: true,
      version: {
        bandId: 'nvidia-h100-sxm-80g.cn-east-1',
        versionId: 'nvidia-h100-sxm-80g.cn-east-1.v2',
        version: 2,
        kind: 'amended',
        resourceClass: 'nvidia-h100-sxm-80g',
        region: 'cn-east-1',
        currency: 'CNY',
        floorPerAcceleratorHour: '12.50',
        floorPerThousandTokens: '0.02',
        ceilingPerAcceleratorHour: null,
        referencePrice: '15',
        effectiveFrom: '2026-03-10T00:00:00.000Z',
        effectiveTo: '2026-04-01T00:00:00.000Z',
        previousVersionId: 'nvidia-h100-sxm-80g.cn-east-1.v1',
      },
    });
  });

  it('maps a national first issue and a withdrawal', () => {
    const { region: _region, effectiveTo: _to, ...national } = band;
    const issued = bandVersionFromContract(
      travel({ kind: GuidanceChangeKind.ISSUED, band: { ...national, bandId: 'nvidia-h100-sxm-80g' } }),
    );
    expect(issued).toMatchObject({ ok: true, version: { region: null, effectiveTo: null, previousVersionId: null } });
    const withdrawn = bandVersionFromContract(travel({ kind: GuidanceChangeKind.WITHDRAWN, band }));
    expect(withdrawn).toMatchObject({ ok: true, version: { kind: 'withdrawn' } });
  });

  // Ordered as the checks run: the first problem wins.
  it.each<[string, ChangedInit, string]>([
    ['an unspecified kind', { kind: GuidanceChangeKind.UNSPECIFIED, band }, 'unknown change kind 0'],
    ['no band', { kind: GuidanceChangeKind.ISSUED }, 'no band'],
    ['no version id', { kind: GuidanceChangeKind.ISSUED, band: { ...band, versionId: '' } }, 'version id'],
    ['version 0', { kind: GuidanceChangeKind.ISSUED, band: { ...band, version: 0n } }, 'version out of range'],
    [
      'no floor',
      { kind: GuidanceChangeKind.ISSUED, band: { ...band, floorPerAcceleratorHour: undefined } },
      'no floor per accelerator-hour',
    ],
    [
      'a mixed currency',
      {
        kind: GuidanceChangeKind.ISSUED,
        band: { ...band, referencePrice: { amount: '15', currency: 'USD' } },
      },
      'referencePrice is in USD',
    ],
  ])('refuses %s', (_what, value, problem) => {
    const mapped = bandVersionFromContract(travel(value));
    expect(mapped.ok).toBe(false);
    expect(mapped.ok === false && mapped.problem).toContain(problem);
  });
});
