// The web console draws the band in force with its own copy of the resolution rule (web/src/band-steps.ts: the
// console is a browser bundle and imports no server code). This proves the copy answers exactly as the one
// function every service and the audit use, on random histories of issues, amendments, withdrawals and regional
// bands, at random instants and at every version boundary.
import fc from 'fast-check';
import { bandAt as consoleBandAt } from '../../../web/src/band-steps';
import { bandAt } from './band-at';
import type { BandVersionKind, GuidanceBandVersion } from './band-version';

const RC = 'nvidia-h100-sxm-80g';
const HOUR = 3_600_000;
const START = Date.parse('2026-03-01T00:00:00.000Z');
const iso = (t: number): string => new Date(t).toISOString();

const history = fc
  .array(
    fc.record({
      region: fc.constantFrom(null, 'cn-east', 'cn-north'),
      kind: fc.constantFrom<BandVersionKind>('issued', 'amended', 'withdrawn'),
      from: fc.integer({ min: 0, max: 200 }),
      length: fc.option(fc.integer({ min: 1, max: 100 }), { nil: null }),
    }),
    { maxLength: 12 },
  )
  .map((drafts) => {
    const next = new Map<string, number>();
    return drafts.map((d): GuidanceBandVersion => {
      const bandId = d.region === null ? RC : `${RC}.${d.region}`;
      const n = (next.get(bandId) ?? 0) + 1;
      next.set(bandId, n);
      const from = START + d.from * HOUR;
      return {
        bandId,
        versionId: `${bandId}.v${n}`,
        version: n,
        kind: d.kind,
        resourceClass: RC,
        region: d.region,
        currency: 'CNY',
        floorPerAcceleratorHour: `${10 + n}.00`,
        floorPerThousandTokens: null,
        ceilingPerAcceleratorHour: null,
        referencePrice: null,
        effectiveFrom: iso(from),
        effectiveTo: d.kind === 'withdrawn' ? iso(from) : d.length === null ? null : iso(from + d.length * HOUR),
        previousVersionId: n === 1 ? null : `${bandId}.v${n - 1}`,
      };
    });
  });

describe('the console band in force', () => {
  it('equals the shared bandAt for every region, at random instants and at every boundary (property)', () => {
    fc.assert(
      fc.property(history, fc.array(fc.integer({ min: -10, max: 320 }), { maxLength: 10 }), (versions, hours) => {
        const instants = [
          ...hours.map((h) => START + h * HOUR),
          ...versions.flatMap((v) =>
            [v.effectiveFrom, v.effectiveTo].filter((x): x is string => x !== null).map(Date.parse),
          ),
        ];
        for (const region of [null, 'cn-east', 'cn-north']) {
          for (const t of instants) {
            const shared = bandAt(versions, RC, region, new Date(t))?.versionId ?? null;
            const shown = consoleBandAt(versions, RC, region, t)?.versionId ?? null;
            expect([region, t, shown]).toEqual([region, t, shared]);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
