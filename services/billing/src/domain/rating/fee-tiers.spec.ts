// Proves monthly volume tiers at settlement by hand-worked cases: an account's month-to-date notional counts its
// settlements as buyer and as provider (adjustments included) in the same UTC month only, and the whole-bps rate
// for a side changes at each tier's bound.
import { Dec } from '@cx/shared-kernel';
import type { AllocationRecord } from '../statement/statement';
import { monthOf, notionalByAccount, settlementFeeBps } from './fee-tiers';
import { parseFeeSchedule } from './fees';

const record = (
  id: string,
  buyer: string,
  provider: string,
  period: string,
  chargeDelta: string,
  kind: 'settlement' | 'adjustment' = 'settlement',
): AllocationRecord =>
  ({
    terms: { allocationId: id, buyerAccount: buyer, providerAccount: provider },
    settled: { settlementId: `${id}:s1`, period, chargeDelta, kind },
  }) as unknown as AllocationRecord;

describe('notionalByAccount', () => {
  it('sums both roles and adjustments within the month, and nothing from other months', () => {
    const records = [
      record('a1', 'buy-1', 'prov-1', '2026-03-01', '600.00'),
      record('a2', 'buy-2', 'buy-1', '2026-03-15', '250.50'),
      record('a3', 'buy-1', 'prov-1', '2026-03-31', '-25.50', 'adjustment'),
      record('a4', 'buy-1', 'prov-1', '2026-02-28', '9999.00'),
      record('a5', 'buy-1', 'prov-1', '2026-04-01', '7777.00'),
    ];
    const m = notionalByAccount(records, '2026-03');
    expect(Object.fromEntries([...m].map(([k, v]) => [k, v.toFixed(2)]))).toEqual({
      'buy-1': '825.00', // 600 + 250.50 (as provider) − 25.50
      'prov-1': '574.50', // 600 − 25.50
      'buy-2': '250.50',
    });
    expect(notionalByAccount(records, '2026-05').size).toBe(0);
  });

  it('takes the month of a day', () => {
    expect([monthOf('2026-03-31'), monthOf('2026-04-01'), monthOf('2026-04')]).toEqual([
      '2026-03',
      '2026-04',
      '2026-04',
    ]);
  });
});

describe('settlementFeeBps', () => {
  // Base 10 maker / 20 taker; from 1,000 traded: 5 / 10; from 50,000: 0 / 4.
  const schedule = parseFeeSchedule({
    makerBps: '10',
    takerBps: '20',
    volumeTiers: [
      { fromNotional: '1000', makerBps: '5', takerBps: '10' },
      { fromNotional: '50000', makerBps: '0', takerBps: '4' },
    ],
  });
  it.each<[string, 'maker' | 'taker', string, number]>([
    ['nothing traded yet', 'taker', '0', 20],
    ['nothing traded yet', 'maker', '0', 10],
    ['one cent below the first tier', 'taker', '999.99', 20],
    ['at the first bound', 'taker', '1000', 10],
    ['at the first bound', 'maker', '1000', 5],
    ['between the bounds', 'maker', '49999.99', 5],
    ['at the top bound', 'taker', '50000', 4],
    ['at the top bound', 'maker', '50000', 0],
    ['a negative month (credits only)', 'taker', '-10', 20],
  ])('%s, %s, %s traded: %i bp', (_why, side, mtd, bps) => {
    expect(settlementFeeBps(schedule, side, new Dec(mtd))).toBe(bps);
  });

  it('is the flat rate without tiers', () => {
    const flat = parseFeeSchedule({ makerBps: '3', takerBps: '7' });
    expect(settlementFeeBps(flat, 'taker', new Dec('1e12'))).toBe(7);
  });
});
