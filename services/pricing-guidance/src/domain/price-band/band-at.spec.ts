// Proves the resolution rule "the band in force at T": half-open windows, latest effectiveFrom then highest version, withdrawals cutting earlier versions, re-issue, and regional over national.
import { bandAt } from './band-at';
import { bandIdOf, type BandVersion, versionIdOf } from './price-band.events';

const RC = 'nvidia-h100-sxm-80g';

const v = (
  version: number,
  from: string,
  opts: { to?: string; kind?: BandVersion['kind']; region?: string; floor?: string } = {},
): BandVersion => {
  const bandId = bandIdOf(RC, opts.region ?? null);
  return {
    bandId,
    versionId: versionIdOf(bandId, version),
    version,
    resourceClass: RC,
    region: opts.region ?? null,
    currency: 'CNY',
    floorPerAcceleratorHour: opts.floor ?? `${10 + version}.00`,
    floorPerThousandTokens: null,
    ceilingPerAcceleratorHour: null,
    referencePrice: null,
    effectiveFrom: `${from}T00:00:00.000Z`,
    effectiveTo: opts.kind === 'withdrawn' ? `${from}T00:00:00.000Z` : opts.to ? `${opts.to}T00:00:00.000Z` : null,
    reason: 'r',
    documentRef: 'd',
    issuedBy: { keyId: 'k', role: 'regulator' },
    issuedAt: '2026-01-01T00:00:00.000Z',
    previousVersionId: version === 1 ? null : versionIdOf(bandId, version - 1),
    kind: opts.kind ?? (version === 1 ? 'issued' : 'amended'),
  };
};

const at = (versions: BandVersion[], day: string, region: string | null = null): string | null =>
  bandAt(versions, RC, region, new Date(`${day}T00:00:00.000Z`))?.versionId ?? null;

describe('bandAt', () => {
  it('is null before the first version, from its start on, and after its end (half-open)', () => {
    const h = [v(1, '2026-03-01', { to: '2026-04-01' })];
    expect(at(h, '2026-02-28')).toBeNull();
    expect(at(h, '2026-03-01')).toBe(`${RC}.v1`);
    expect(at(h, '2026-03-31')).toBe(`${RC}.v1`);
    expect(at(h, '2026-04-01')).toBeNull();
  });

  it('switches to an amendment only from the amendment’s own start', () => {
    const h = [v(1, '2026-03-01'), v(2, '2026-03-10')];
    expect(at(h, '2026-03-09')).toBe(`${RC}.v1`);
    expect(at(h, '2026-03-10')).toBe(`${RC}.v2`);
  });

  it('returns to the earlier version when a temporary amendment ends', () => {
    const h = [v(1, '2026-03-01'), v(2, '2026-03-10', { to: '2026-03-20' })];
    expect(at(h, '2026-03-15')).toBe(`${RC}.v2`);
    expect(at(h, '2026-03-20')).toBe(`${RC}.v1`);
  });

  it('prefers the latest start over the highest version, and the highest version on equal starts', () => {
    expect(at([v(1, '2026-03-10'), v(2, '2026-03-05')], '2026-03-12')).toBe(`${RC}.v1`);
    expect(at([v(1, '2026-03-10'), v(2, '2026-03-10')], '2026-03-12')).toBe(`${RC}.v2`);
  });

  it('ends every earlier version at a withdrawal, scheduled ones included', () => {
    const h = [v(1, '2026-03-01'), v(2, '2026-04-01'), v(3, '2026-03-15', { kind: 'withdrawn' })];
    expect(at(h, '2026-03-14')).toBe(`${RC}.v1`);
    expect(at(h, '2026-03-15')).toBeNull();
    expect(at(h, '2026-04-02')).toBeNull();
  });

  it('lets a re-issue after a withdrawal apply, untouched by the withdrawal it follows', () => {
    const h = [v(1, '2026-03-01'), v(2, '2026-03-15', { kind: 'withdrawn' }), v(3, '2026-03-10', { kind: 'issued' })];
    expect(at(h, '2026-03-12')).toBe(`${RC}.v3`);
    expect(at(h, '2026-03-20')).toBe(`${RC}.v3`);
  });

  it('lets a regional band in force override the national one, and falls back when it is not', () => {
    const h = [v(1, '2026-03-01'), v(1, '2026-03-10', { region: 'cn-east-1', to: '2026-03-20', floor: '9.00' })];
    expect(at(h, '2026-03-05', 'cn-east-1')).toBe(`${RC}.v1`);
    expect(at(h, '2026-03-12', 'cn-east-1')).toBe(`${RC}.cn-east-1.v1`);
    expect(at(h, '2026-03-12', 'cn-west-1')).toBe(`${RC}.v1`);
    expect(at(h, '2026-03-12')).toBe(`${RC}.v1`);
    expect(at(h, '2026-03-20', 'cn-east-1')).toBe(`${RC}.v1`);
  });

  it('ignores other classes’ bands', () => {
    const other = { ...v(1, '2026-03-01'), resourceClass: 'nvidia-a100-sxm-80g', bandId: 'nvidia-a100-sxm-80g' };
    expect(at([other], '2026-03-05')).toBeNull();
  });
});
