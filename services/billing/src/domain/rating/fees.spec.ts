// Proves exchange fees by hand-worked cases: maker and taker rates, the volume tier chosen by the month-to-date
// notional before the trade, and half-even rounding to the minor unit; and that a malformed schedule is refused.
import { type Currency, Dec, isDomainError } from '@cx/shared-kernel';
import { fee, type FeeSide, parseFeeSchedule, tradeFee } from './fees';

// 1 bp maker, 2.5 bp taker; from 1,000,000 traded this month 0.5 / 2; from 10,000,000 0 / 1.5.
const schedule = parseFeeSchedule({
  makerBps: '1',
  takerBps: '2.5',
  volumeTiers: [
    { fromNotional: '1000000', makerBps: '0.5', takerBps: '2' },
    { fromNotional: '10000000', makerBps: '0', takerBps: '1.5' },
  ],
});

describe('tradeFee', () => {
  it.each<[notional: string, side: FeeSide, mtd: string, bps: string, amount: string, why: string]>([
    ['10000', 'taker', '0', '2.5', '2.50', '10,000 × 2.5 / 10,000'],
    ['10000', 'maker', '0', '1', '1.00', 'the maker pays its own rate'],
    ['10000', 'taker', '999999.99', '2.5', '2.50', 'a cent short of the first tier'],
    ['10000', 'taker', '1000000', '2', '2.00', 'the tier starts at its bound'],
    ['10000', 'maker', '10000000', '0', '0.00', 'the top tier charges makers nothing'],
    ['20', 'taker', '0', '2.5', '0.00', '0.005 is a tie: half-even to 0.00'],
    ['60', 'taker', '0', '2.5', '0.02', '0.015 is a tie: half-even to 0.02'],
    ['30', 'taker', '0', '2.5', '0.01', '0.0075 is above the half'],
  ])('%s as %s with %s traded: %s bp = %s (%s)', (notional, side, mtd, bps, amount) => {
    expect(
      tradeFee(schedule, { notional: new Dec(notional), side, monthToDateNotional: new Dec(mtd), currency: 'CNY' }),
    ).toEqual({ feeBps: bps, amount, currency: 'CNY' });
  });

  it.each<[string, string, Currency, string]>([
    ['3000', '5', 'JPY', '2'],
    ['5000', '5', 'JPY', '2'],
  ])('rounds %s × %s bp in %s to %s (1.5 and 2.5 are ties, both to the even 2)', (amount, bps, currency, expected) => {
    expect(fee(new Dec(amount), new Dec(bps), currency).toFixed()).toBe(expected);
  });
});

describe('parseFeeSchedule', () => {
  const code = (terms: Parameters<typeof parseFeeSchedule>[0]) => {
    try {
      parseFeeSchedule(terms);
      return null;
    } catch (e) {
      if (!isDomainError(e)) throw e;
      return [e.code, e.details[0]?.field];
    }
  };

  // Ordered by which error wins: the tiers are read before the base rates.
  it.each<[string, Parameters<typeof parseFeeSchedule>[0], (string | undefined)[]]>([
    [
      'tiers not ascending',
      {
        makerBps: 'x',
        takerBps: '1',
        volumeTiers: [
          { fromNotional: '10', makerBps: '1', takerBps: '1' },
          { fromNotional: '10', makerBps: '1', takerBps: '1' },
        ],
      },
      ['BILLING.TIERS_NOT_ASCENDING', 'fees.volumeTiers[1].fromNotional'],
    ],
    [
      'a tier from zero',
      { makerBps: '1', takerBps: '1', volumeTiers: [{ fromNotional: '0', makerBps: '1', takerBps: '1' }] },
      ['BILLING.NOT_POSITIVE', 'fees.volumeTiers[0].fromNotional'],
    ],
    ['a negative rate', { makerBps: '-1', takerBps: '1' }, ['BILLING.NEGATIVE', 'fees.makerBps']],
    ['a rate too fine', { makerBps: '1', takerBps: '0.00001' }, ['BILLING.TOO_MANY_DECIMALS', 'fees.takerBps']],
  ])('refuses %s', (_what, terms, expected) => {
    expect(code(terms)).toEqual(expected);
  });
});
