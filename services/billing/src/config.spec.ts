// Proves billing's configuration of monthly volume fee tiers: CX_BILLING_FEE_TIERS is read as documented, and a
// malformed or unordered list is refused at boot with a ConfigError that says why.
import { ConfigError } from '@cx/platform';
import { loadBillingConfig, parseFeeTiers } from './config';

describe('fee tiers configuration', () => {
  it('reads CX_BILLING_FEE_TIERS', () => {
    expect(parseFeeTiers('')).toEqual([]);
    expect(parseFeeTiers('1000000:8:15, 10000000.5:5:10')).toEqual([
      { fromNotional: '1000000', makerBps: 8, takerBps: 15 },
      { fromNotional: '10000000.5', makerBps: 5, takerBps: 10 },
    ]);
    expect(loadBillingConfig({ CX_BILLING_FEE_TIERS: '1000:1:2' }).feeTiers).toEqual([
      { fromNotional: '1000', makerBps: 1, takerBps: 2 },
    ]);
    expect(loadBillingConfig({}).feeTiers).toEqual([]);
  });

  // Ordered by which error wins: the variable's shape, then each tier's rates, then the order of the bounds.
  it.each<[string, string, RegExp]>([
    ['a missing rate', '1000:5', /is not <fromNotional>:<makerBps>:<takerBps>/],
    ['a fractional rate', '1000:0.5:1', /is not <fromNotional>/],
    ['a negative bound', '-1:5:10', /is not <fromNotional>/],
    ['a rate above 100%', '1000:10001:10', /makerBps must be a whole number of basis points/],
    ['a zero bound', '0:5:10', /fromNotional/],
    ['bounds not ascending', '2000:5:10,1000:4:8', /ascending|increasing/],
  ])('refuses %s', (_what, raw, message) => {
    const load = () => loadBillingConfig({ CX_BILLING_FEE_TIERS: raw });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });
});
