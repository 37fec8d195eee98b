// Proves every price model against totals worked out by hand (each case says why its total is what it is),
// including the rounding edges of the one rounding point, the charge line (half-even to the minor unit).
import { type Currency, Dec } from '@cx/shared-kernel';
import { rateWithFloor } from './floor';
import { packagesFor, ratedAmount } from './price-models';
import { parseRateCard, type RateCardTerms } from './rate-card';

/** The rounded charge line amount for `quantity` under the card, with no floor in force. */
const charge = (terms: RateCardTerms, quantity: string, currency: Currency = 'CNY'): string =>
  rateWithFloor(parseRateCard(terms, currency), new Dec(quantity), null).amount;

const exact = (terms: RateCardTerms, quantity: string): string =>
  ratedAmount(parseRateCard(terms, 'CNY'), new Dec(quantity)).toFixed();

type Case = [quantity: string, expected: string, why: string];
type CardCase = [label: string, card: RateCardTerms, ...Case];

/** Rows with the card moved last, so a test's title names the card by its label, not its JSON. */
const labelled = (rows: CardCase[]) =>
  rows.map(([label, card, q, expected, why]) => [label, q, expected, why, card] as const);

describe('flat', () => {
  const card: RateCardTerms = { model: 'flat', unitPrice: '12.5' };
  it.each<Case>([
    ['0', '0.00', 'no usage, no charge'],
    ['1', '12.50', 'one unit at 12.5'],
    ['2.5', '31.25', '2.5 × 12.5 = 31.25 exactly'],
    ['0.001', '0.01', '0.0125 rounds to 0.01 (below the half)'],
  ])('%s units cost %s (%s)', (q, expected) => {
    expect(charge(card, q)).toBe(expected);
  });

  it.each<[string, string, string, Currency, string]>([
    ['0.125', '1', '0.12', 'CNY', '0.125 is a tie; half-even goes to the even 2'],
    ['0.125', '3', '0.38', 'CNY', '0.375 is a tie; half-even goes to the even 8'],
    ['12.5', '0.0004', '0.00', 'CNY', '0.005 is a tie; half-even goes to the even 0'],
    ['12.5', '0.0012', '0.02', 'CNY', '0.015 is a tie; half-even goes to the even 2'],
    ['100.5', '1', '100', 'JPY', 'JPY has no minor digits; 100.5 is a tie, to the even 100'],
    ['100.5', '3', '302', 'JPY', '301.5 is a tie, to the even 302'],
  ])('unit price %s × %s rounds to %s %s (%s)', (unitPrice, q, expected, currency) => {
    expect(charge({ model: 'flat', unitPrice }, q, currency)).toBe(expected);
  });
});

describe('package', () => {
  const ten: RateCardTerms = { model: 'package', packageSize: '10', packagePrice: '100' };
  const freeFive: RateCardTerms = { ...ten, freeUnits: '5' };
  it.each(
    labelled([
      ['ten', ten, '0', '0.00', 'no usage starts no package'],
      ['ten', ten, '1', '100.00', 'a started package is a whole package'],
      ['ten', ten, '10', '100.00', 'exactly one full package'],
      ['ten', ten, '10.000000001', '200.00', 'a billionth over starts a second package'],
      ['ten', ten, '25', '300.00', 'ceil(25 / 10) = 3 packages'],
      ['freeFive', freeFive, '5', '0.00', 'the five free units cost nothing'],
      ['freeFive', freeFive, '5.5', '100.00', 'half a unit beyond the free ones starts a package'],
      ['freeFive', freeFive, '15', '100.00', '10 billable units: one package'],
      ['freeFive', freeFive, '15.1', '200.00', '10.1 billable units: two packages'],
      [
        'thirds',
        { model: 'package', packageSize: '3', packagePrice: '0.333' },
        '7',
        '1.00',
        'ceil(7 / 3) = 3 packages × 0.333 = 0.999, rounded to 1.00',
      ],
      [
        'halves',
        { model: 'package', packageSize: '0.5', packagePrice: '4.005' },
        '1',
        '8.01',
        'two half-unit packages: 8.010 exactly, no rounding needed',
      ],
    ]),
  )('%s: %s units cost %s (%s)', (_label, q, expected, _why, card) => {
    expect(charge(card, q)).toBe(expected);
  });

  it('counts packages as ceil((quantity − free) / size), never negative', () => {
    expect(packagesFor(new Dec('3'), new Dec('10'), new Dec('5')).toFixed()).toBe('0');
    expect(packagesFor(new Dec('20'), new Dec('0.3'), new Dec('0')).toFixed()).toBe('67');
  });
});

// 1–100 at 10, 101–500 at 8, above at 6 (bounds inclusive).
const tiers = (fees: [string, string, string] | null = null) => [
  { upTo: '100', unitPrice: '10', flatFee: fees?.[0] ?? null },
  { upTo: '500', unitPrice: '8', flatFee: fees?.[1] ?? null },
  { upTo: null, unitPrice: '6', flatFee: fees?.[2] ?? null },
];

describe('graduated', () => {
  const card: RateCardTerms = { model: 'graduated', tiers: tiers() };
  const withFees: RateCardTerms = { model: 'graduated', tiers: tiers(['50', '20', '0']) };
  it.each(
    labelled([
      ['card', card, '0', '0.00', 'no tier entered'],
      ['card', card, '100', '1000.00', 'the bound is inclusive: 100 × 10, all in the first tier'],
      ['card', card, '100.5', '1004.00', '1000 + 0.5 × 8'],
      ['card', card, '500', '4200.00', '1000 + 400 × 8'],
      ['card', card, '600', '4800.00', '1000 + 3200 + 100 × 6'],
      ['withFees', withFees, '1', '60.00', 'one unit at 10 plus the first tier’s fee of 50'],
      ['withFees', withFees, '100', '1050.00', '1000 + 50; the second tier is not entered'],
      ['withFees', withFees, '101', '1078.00', '1050 + 1 × 8 + the second tier’s fee of 20'],
      ['withFees', withFees, '600', '4870.00', '1050 + (3200 + 20) + (600 + 0)'],
      [
        'ties',
        {
          model: 'graduated',
          tiers: [
            { upTo: '1', unitPrice: '0.005' },
            { upTo: null, unitPrice: '0.015' },
          ],
        },
        '1',
        '0.00',
        '0.005 is a tie: half-even to 0.00',
      ],
      [
        'ties',
        {
          model: 'graduated',
          tiers: [
            { upTo: '1', unitPrice: '0.005' },
            { upTo: null, unitPrice: '0.015' },
          ],
        },
        '2',
        '0.02',
        '0.005 + 0.015 = 0.02: lines round once, after the tiers are summed',
      ],
    ]),
  )('%s: %s units cost %s (%s)', (_label, q, expected, _why, c) => {
    expect(charge(c, q)).toBe(expected);
  });

  it('keeps the exact amount unrounded until the charge line', () => {
    expect(exact({ model: 'graduated', tiers: [{ upTo: null, unitPrice: '0.0001' }] }, '3')).toBe('0.0003');
  });
});

describe('volume', () => {
  const card: RateCardTerms = { model: 'volume', tiers: tiers() };
  const withFees: RateCardTerms = { model: 'volume', tiers: tiers(['50', '20', '0']) };
  const ties: RateCardTerms = {
    model: 'volume',
    tiers: [
      { upTo: '1', unitPrice: '0.005' },
      { upTo: null, unitPrice: '0.015' },
    ],
  };
  it.each(
    labelled([
      ['card', card, '0', '0.00', 'no usage, no tier reached, no fee'],
      ['card', card, '100', '1000.00', '100 is still in the first tier: all at 10'],
      ['card', card, '101', '808.00', 'the total reaches the second tier: all 101 at 8'],
      ['card', card, '500', '4000.00', 'all 500 at 8'],
      ['card', card, '501', '3006.00', 'all 501 at 6'],
      ['withFees', withFees, '100', '1050.00', '1000 + the first tier’s fee'],
      ['withFees', withFees, '101', '828.00', '808 + the second tier’s fee only'],
      ['withFees', withFees, '501', '3006.00', 'the open tier has no fee'],
      ['ties', ties, '1', '0.00', '0.005 is a tie: to the even 0.00'],
      ['ties', ties, '3', '0.04', '3 × 0.015 = 0.045, a tie: to the even 4'],
      ['ties', ties, '1.5', '0.02', '1.5 × 0.015 = 0.0225, below the half'],
    ]),
  )('%s: %s units cost %s (%s)', (_label, q, expected, _why, c) => {
    expect(charge(c, q)).toBe(expected);
  });
});
