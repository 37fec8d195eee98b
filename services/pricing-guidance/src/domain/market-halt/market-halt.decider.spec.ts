// Proves the market-halt decider: a halt's scope is checked against the catalog (refusals ordered by which error
// wins), a halt is opened once and resumed once, by hand at any time and automatically only once its cooling-off
// has ended.
import { DomainError } from '@cx/shared-kernel';
import { decide, evolve, type Halt, type HaltMarket, noHalt, type ResumeMarket } from './market-halt.decider';

const NOW = new Date('2026-03-10T10:00:00Z');
const regulator = { keyId: 'key-reg', role: 'regulator', rule: null };
const catalog = {
  resourceClassExists: (id: string) => id === 'nvidia-h100-sxm-80g',
  regionExists: (id: string) => id === 'cn-east-1',
};
const halt = (data: Partial<HaltMarket['data']> = {}): HaltMarket => ({
  type: 'HaltMarket',
  data: { haltId: 'h-1', scope: {}, reason: 'disorderly market', origin: 'manual', catalog, ...data },
  metadata: { now: NOW, actor: regulator },
});
const resume = (automatic: boolean, at = NOW, reason: unknown = 'orderly again'): ResumeMarket => ({
  type: 'ResumeMarket',
  data: { haltId: 'h-1', reason, automatic },
  metadata: { now: at, actor: automatic ? { keyId: null, role: null, rule: 'cooling-off' } : regulator },
});
const codeOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  throw new Error('no refusal');
};

describe('market halt', () => {
  it('halts the whole market, a class, a region or an instrument', () => {
    expect(decide(halt(), noHalt)).toEqual([
      {
        type: 'MarketHalted',
        data: {
          haltId: 'h-1',
          scope: { resourceClass: null, region: null, instrumentId: null },
          reason: 'disorderly market',
          origin: 'manual',
          haltedBy: regulator,
          haltedAt: NOW.toISOString(),
          resumesAt: null,
        },
      },
    ]);
    const [e] = decide(
      halt({
        scope: { instrumentId: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-12', region: 'cn-east-1' },
        resumesAt: '2026-03-10T11:00:00+00:00',
      }),
      noHalt,
    );
    expect(e?.data).toEqual(
      expect.objectContaining({
        scope: { resourceClass: null, region: 'cn-east-1', instrumentId: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-12' },
        resumesAt: '2026-03-10T11:00:00.000Z',
      }),
    );
  });

  it.each([
    // Ordered by which error wins: the reason, then the scope (class, region, instrument), then the resume time.
    [{ reason: '' }, 'PRICING.INVALID_REASON'],
    [{ reason: 'x', scope: { resourceClass: 'NVIDIA H100' } }, 'PRICING.INVALID_RESOURCE_CLASS'],
    [{ scope: { resourceClass: 'nvidia-b300' } }, 'PRICING.UNKNOWN_RESOURCE_CLASS'],
    [{ scope: { region: 'mars' } }, 'PRICING.INVALID_REGION'],
    [{ scope: { region: 'cn-west-9' } }, 'PRICING.UNKNOWN_REGION'],
    [{ scope: { instrumentId: 'h100-tomorrow' } }, 'PRICING.INVALID_INSTRUMENT'],
    [{ scope: { instrumentId: 'nvidia-h100-sxm-80g.cn-west-9.2026-03-12' } }, 'PRICING.UNKNOWN_INSTRUMENT'],
    [
      {
        scope: {
          resourceClass: 'nvidia-h100-sxm-80g',
          instrumentId: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-12',
          region: 'cn-east-1',
        },
        resumesAt: 'soon',
      },
      'PRICING.INVALID_INSTANT',
    ],
    [{ resumesAt: '2026-03-10T10:00:00Z' }, 'PRICING.RESUME_IN_PAST'],
  ] as const)('refuses %j with %s', (data, code) => {
    expect(codeOf(() => decide(halt(data as Partial<HaltMarket['data']>), noHalt))).toBe(code);
  });

  it('refuses a scope whose instrument is not of its class or region', () => {
    expect(
      codeOf(() =>
        decide(
          halt({
            scope: {
              region: 'cn-east-1',
              resourceClass: 'nvidia-h100-sxm-80g',
              instrumentId: 'nvidia-h100-sxm-80g.cn-east-1.2026-03-12x',
            },
          }),
          noHalt,
        ),
      ),
    ).toBe('PRICING.INVALID_INSTRUMENT');
    expect(
      codeOf(() =>
        decide(halt({ scope: { region: 'cn-east-1', instrumentId: 'nvidia-h100-sxm-80g.cn-west-1.2026-03-12' } }), {
          ...noHalt,
        } as never),
      ),
    ).toBe('PRICING.UNKNOWN_INSTRUMENT');
    const everywhere = { resourceClassExists: () => true, regionExists: () => true };
    expect(
      codeOf(() =>
        decide(
          halt({
            catalog: everywhere,
            scope: { region: 'cn-east-1', instrumentId: 'nvidia-h100-sxm-80g.cn-west-1.2026-03-12' },
          }),
          noHalt,
        ),
      ),
    ).toBe('PRICING.SCOPE_MISMATCH');
  });

  it('opens a halt once and resumes it once', () => {
    const halted: Halt = decide(halt({ resumesAt: '2026-03-10T10:15:00Z' }), noHalt).reduce(evolve, noHalt);
    expect(codeOf(() => decide(halt(), halted))).toBe('PRICING.HALT_EXISTS');
    expect(codeOf(() => decide(resume(false), noHalt))).toBe('PRICING.HALT_NOT_FOUND');
    expect(codeOf(() => decide(resume(false, NOW, ' '), halted))).toBe('PRICING.INVALID_REASON');
    // Automatically only once the cooling-off has ended; by hand at any time.
    expect(codeOf(() => decide(resume(true, new Date('2026-03-10T10:14:59Z')), halted))).toBe('PRICING.HALT_NOT_DUE');
    const auto = decide(resume(true, new Date('2026-03-10T10:15:00Z')), halted);
    expect(auto).toEqual([
      {
        type: 'MarketResumed',
        data: {
          haltId: 'h-1',
          scope: { resourceClass: null, region: null, instrumentId: null },
          reason: 'orderly again',
          automatic: true,
          resumedBy: { keyId: null, role: null, rule: 'cooling-off' },
          resumedAt: '2026-03-10T10:15:00.000Z',
        },
      },
    ]);
    const resumed = auto.reduce(evolve, halted);
    expect(codeOf(() => decide(resume(false), resumed))).toBe('PRICING.HALT_RESUMED');
    expect(decide(resume(false, new Date('2026-03-10T10:01:00Z')), halted)[0]?.data).toEqual(
      expect.objectContaining({ automatic: false, resumedBy: regulator }),
    );
  });

  it('never resumes automatically a halt without a resume time', () => {
    const halted = decide(halt(), noHalt).reduce(evolve, noHalt);
    expect(codeOf(() => decide(resume(true, new Date('2030-01-01T00:00:00Z')), halted))).toBe('PRICING.HALT_NOT_DUE');
  });
});
