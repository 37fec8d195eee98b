// Proves the shared "band in force" over the contract's version shape: the resolution rule's cases, a book that
// applies each version once whatever is redelivered, and answers that do not depend on the order versions were
// heard in (property test).
import fc from 'fast-check';
import { bandAt, versionInForce } from './band-at';
import type { BandVersionKind, GuidanceBandVersion } from './band-version';
import { floorFor } from './band-version';
import { GuidanceBook } from './guidance-book';

const RC = 'nvidia-h100-sxm-80g';
const DAY = 86_400_000;
const START = Date.parse('2026-03-01T00:00:00.000Z');
const iso = (t: number): string => new Date(t).toISOString();

const version = (
  n: number,
  fromDay: number,
  opts: { toDay?: number; kind?: BandVersionKind; region?: string | null; floor?: string; rc?: string } = {},
): GuidanceBandVersion => {
  const region = opts.region ?? null;
  const rc = opts.rc ?? RC;
  const bandId = region === null ? rc : `${rc}.${region}`;
  const from = START + fromDay * DAY;
  const kind = opts.kind ?? (n === 1 ? 'issued' : 'amended');
  return {
    bandId,
    versionId: `${bandId}.v${n}`,
    version: n,
    kind,
    resourceClass: rc,
    region,
    currency: 'CNY',
    floorPerAcceleratorHour: opts.floor ?? `${10 + n}.00`,
    floorPerThousandTokens: null,
    ceilingPerAcceleratorHour: null,
    referencePrice: null,
    effectiveFrom: iso(from),
    effectiveTo: kind === 'withdrawn' ? iso(from) : opts.toDay === undefined ? null : iso(START + opts.toDay * DAY),
    previousVersionId: n === 1 ? null : `${bandId}.v${n - 1}`,
  };
};

const at = (book: GuidanceBook<GuidanceBandVersion>, day: number, region: string | null = null) =>
  book.bandAt(RC, region, new Date(START + day * DAY))?.versionId ?? null;

describe('bandAt (shared)', () => {
  it('applies a version on [effectiveFrom, effectiveTo), and an amendment only from its own start', () => {
    const book = new GuidanceBook([version(1, 0, { toDay: 30 }), version(2, 10, { toDay: 20 })]);
    expect(at(book, -1)).toBeNull();
    expect(at(book, 0)).toBe(`${RC}.v1`);
    expect(at(book, 10)).toBe(`${RC}.v2`);
    // The temporary amendment ends; the version it amended applies again until its own end.
    expect(at(book, 20)).toBe(`${RC}.v1`);
    expect(at(book, 30)).toBeNull();
  });

  it('ends every earlier version at a withdrawal and lets a later re-issue apply', () => {
    const book = new GuidanceBook([
      version(1, 0),
      version(2, 30),
      version(3, 14, { kind: 'withdrawn' }),
      version(4, 20, { kind: 'issued' }),
    ]);
    expect(at(book, 13)).toBe(`${RC}.v1`);
    expect(at(book, 14)).toBeNull();
    expect(at(book, 20)).toBe(`${RC}.v4`);
    // v2 was scheduled before the withdrawal (a lower number), so the withdrawal ends it too.
    expect(at(book, 31)).toBe(`${RC}.v4`);
  });

  it('lets a regional band in force override the national one, and falls back when it ends', () => {
    const book = new GuidanceBook([version(1, 0), version(1, 10, { region: 'cn-east-1', toDay: 20, floor: '9' })]);
    expect(at(book, 12, 'cn-east-1')).toBe(`${RC}.cn-east-1.v1`);
    expect(at(book, 12, 'cn-west-1')).toBe(`${RC}.v1`);
    expect(at(book, 12)).toBe(`${RC}.v1`);
    expect(at(book, 20, 'cn-east-1')).toBe(`${RC}.v1`);
  });

  it('resolves one band by id and ignores other classes', () => {
    const versions = [version(1, 0), version(1, 0, { rc: 'huawei-ascend-910b' })];
    expect(versionInForce(versions, RC, START)?.versionId).toBe(`${RC}.v1`);
    expect(bandAt(versions, 'nvidia-a100-sxm-80g', null, new Date(START))).toBeNull();
  });

  it('names the floor per unit, and none per 1,000 tokens where the band sets none', () => {
    const v = version(1, 0, { floor: '12.50' });
    expect(floorFor(v, 'accelerator-hour')).toBe('12.50');
    expect(floorFor(v, 'thousand-tokens')).toBeNull();
    expect(floorFor({ ...v, floorPerThousandTokens: '0.02' }, 'thousand-tokens')).toBe('0.02');
  });
});

describe('GuidanceBook', () => {
  it('applies a version once: a repeat is a duplicate, other content under a known number a conflict', () => {
    const book = new GuidanceBook<GuidanceBandVersion>();
    expect(book.apply(version(1, 0))).toBe('applied');
    // A redelivery, with the fields in another order (as a reload from the store gives them).
    const reordered = Object.fromEntries(Object.entries(version(1, 0)).reverse()) as unknown as GuidanceBandVersion;
    expect(book.apply(reordered)).toBe('duplicate');
    expect(book.apply(version(1, 0, { floor: '99.00' }))).toBe('conflict');
    expect(book.size).toBe(1);
    // The copy heard first stays in force.
    expect(book.bandAt(RC, null, new Date(START))?.floorPerAcceleratorHour).toBe('11.00');
    expect(book.has(RC, 1)).toBe(true);
    expect(book.has(RC, 2)).toBe(false);
  });

  it('accepts an older version heard after a newer one (out-of-order delivery)', () => {
    const book = new GuidanceBook([version(2, 10)]);
    expect(at(book, 5)).toBeNull();
    expect(book.apply(version(1, 0))).toBe('applied');
    expect(at(book, 5)).toBe(`${RC}.v1`);
    expect(at(book, 10)).toBe(`${RC}.v2`);
    expect(book.versionsOf(RC).map((v) => v.version)).toEqual([2, 1]);
  });

  // Random histories over two scopes: issues, amendments and withdrawals with random windows.
  const historyArb = fc
    .array(
      fc.record({
        region: fc.constantFrom(null, 'cn-east-1'),
        kind: fc.constantFrom<BandVersionKind>('issued', 'amended', 'amended', 'withdrawn'),
        fromDay: fc.integer({ min: 0, max: 40 }),
        lengthDays: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
      }),
      { maxLength: 16 },
    )
    .map((specs) => {
      const next = new Map<string | null, number>();
      return specs.map((s) => {
        const n = (next.get(s.region) ?? 0) + 1;
        next.set(s.region, n);
        return version(n, s.fromDay, {
          region: s.region,
          kind: n === 1 ? 'issued' : s.kind,
          ...(s.lengthDays !== undefined ? { toDay: s.fromDay + s.lengthDays } : {}),
        });
      });
    });

  it('answers the same whatever order the versions were applied in, and however often', () => {
    fc.assert(
      fc.property(
        historyArb.chain((history) =>
          fc.tuple(
            fc.constant(history),
            // Another delivery: shuffled, with some versions delivered twice.
            fc.shuffledSubarray([...history, ...history], { minLength: 2 * history.length }),
          ),
        ),
        fc.array(fc.integer({ min: -1, max: 80 }), { minLength: 1, maxLength: 10 }),
        ([history, redelivered], days) => {
          const inOrder = new GuidanceBook(history);
          const shuffled = new GuidanceBook<GuidanceBandVersion>();
          for (const v of redelivered) expect(shuffled.apply(v)).not.toBe('conflict');
          expect(shuffled.size).toBe(history.length);
          for (const day of days) {
            for (const region of [null, 'cn-east-1', 'cn-west-1']) {
              const t = new Date(START + day * DAY);
              expect(shuffled.bandAt(RC, region, t)).toEqual(inOrder.bandAt(RC, region, t));
              // The book answers exactly as the function over the plain list does.
              expect(inOrder.bandAt(RC, region, t)).toEqual(bandAt(history, RC, region, t));
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
