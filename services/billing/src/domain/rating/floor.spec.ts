// Proves the floor at both points: a card with any unit price below the floor in force is refused at listing
// (naming each price at fault), and usage whose effective unit price fell below a later, higher floor is rated at
// the floor, flagged, with the guidance version that set it.
import { Dec, isDomainError } from '@cx/shared-kernel';
import { assertNotBelowFloor, type FloorInForce, rateWithFloor } from './floor';
import { parseRateCard, type RateCardTerms } from './rate-card';

const card = (terms: RateCardTerms) => parseRateCard(terms, 'CNY');
const floor = (perUnit: string | null, guidanceVersion = 'nvidia-h100-sxm-80g.v1'): FloorInForce => ({
  perUnit: perUnit === null ? null : new Dec(perUnit),
  guidanceVersion,
});
const flat = card({ model: 'flat', unitPrice: '12.5' });

describe('rateWithFloor', () => {
  it('rates by the card above the floor, recording the version it checked', () => {
    expect(rateWithFloor(flat, new Dec('2'), floor('12'))).toEqual({
      quantity: '2',
      unitPrice: '12.5',
      amount: '25.00',
      currency: 'CNY',
      ratedAtFloor: false,
      floorPerUnit: '12',
      guidanceVersion: 'nvidia-h100-sxm-80g.v1',
    });
  });

  it('rates at the floor after a floor rise, flagged with the version', () => {
    // 12.5 per unit is below the new floor of 13: 2 × 13 = 26.00.
    expect(rateWithFloor(flat, new Dec('2'), floor('13', 'nvidia-h100-sxm-80g.v2'))).toMatchObject({
      unitPrice: '13',
      amount: '26.00',
      ratedAtFloor: true,
      floorPerUnit: '13',
      guidanceVersion: 'nvidia-h100-sxm-80g.v2',
    });
  });

  it('does not flag a card exactly at the floor (not below it)', () => {
    expect(rateWithFloor(flat, new Dec('3'), floor('12.5'))).toMatchObject({ amount: '37.50', ratedAtFloor: false });
  });

  it('judges the effective unit price of the whole charge (packages, flat fees)', () => {
    const pkg = card({ model: 'package', packageSize: '10', packagePrice: '100' });
    // 5 units start one package: 100 / 5 = 20 per unit, above 12.
    expect(rateWithFloor(pkg, new Dec('5'), floor('12'))).toMatchObject({ unitPrice: '20', ratedAtFloor: false });
    // 10 units in one package: 10 per unit, below 12: 10 × 12 = 120.00.
    expect(rateWithFloor(pkg, new Dec('10'), floor('12'))).toMatchObject({ amount: '120.00', ratedAtFloor: true });
    // A tier at 10 with a fee of 50: one unit costs 60, far above 12 although the tier's price is below it.
    const feeTier = card({ model: 'graduated', tiers: [{ upTo: null, unitPrice: '10', flatFee: '50' }] });
    expect(rateWithFloor(feeTier, new Dec('1'), floor('12'))).toMatchObject({ amount: '60.00', ratedAtFloor: false });
    // 25 units: 250 + 50 = 300, 12 per unit: exactly the floor, not below.
    expect(rateWithFloor(feeTier, new Dec('25'), floor('12'))).toMatchObject({ amount: '300.00', ratedAtFloor: false });
    // 26 units: 310 / 26 ≈ 11.92, below: 26 × 12 = 312.00.
    expect(rateWithFloor(feeTier, new Dec('26'), floor('12'))).toMatchObject({ amount: '312.00', ratedAtFloor: true });
  });

  it('rounds the floor charge half-even at the line', () => {
    // A card at 12 under a floor of 12.345: 1 × 12.345 = 12.345, a tie: to the even 12.34.
    expect(rateWithFloor(card({ model: 'flat', unitPrice: '12' }), new Dec('1'), floor('12.345'))).toMatchObject({
      amount: '12.34',
      ratedAtFloor: true,
    });
  });

  it('records no version where no band is in force, and the version where the band sets no floor for the unit', () => {
    expect(rateWithFloor(flat, new Dec('1'), null)).toMatchObject({ floorPerUnit: null, guidanceVersion: null });
    expect(rateWithFloor(flat, new Dec('1'), floor(null))).toMatchObject({
      floorPerUnit: null,
      ratedAtFloor: false,
      guidanceVersion: 'nvidia-h100-sxm-80g.v1',
    });
  });

  it('charges nothing for no usage, whatever the floor', () => {
    expect(rateWithFloor(flat, new Dec('0'), floor('13'))).toMatchObject({
      amount: '0.00',
      unitPrice: '0',
      ratedAtFloor: false,
    });
  });

  it('shows a quantity without a finite decimal form to 12 places, and rates it exactly', () => {
    // One second is 1/3600 accelerator-hour; 3600 × (1/3600 h) at 36 per hour costs 36.00 exactly in total, but
    // one second alone is 0.01 (36 / 3600 = 0.01).
    const perHour = card({ model: 'flat', unitPrice: '36' });
    expect(rateWithFloor(perHour, new Dec(1).div(3600), null)).toMatchObject({
      quantity: '0.000277777778',
      amount: '0.01',
    });
  });
});

describe('assertNotBelowFloor (listing)', () => {
  const refusal = (terms: RateCardTerms, perUnit: string | null) => {
    try {
      assertNotBelowFloor(card(terms), floor(perUnit));
      return null;
    } catch (e) {
      if (!isDomainError(e)) throw e;
      return { code: e.code, kind: e.kind, fields: e.details.map((d) => d.field) };
    }
  };

  it.each<[string, RateCardTerms, string | null, string[] | null]>([
    ['flat at the floor', { model: 'flat', unitPrice: '12' }, '12', null],
    ['flat a cent below', { model: 'flat', unitPrice: '11.99' }, '12', ['rateCard.unitPrice']],
    ['any card with no floor for the unit', { model: 'flat', unitPrice: '0.01' }, null, null],
    ['a package at 12 per unit (120 for 10)', { model: 'package', packageSize: '10', packagePrice: '120' }, '12', null],
    [
      'a package below (119.99 for 10)',
      { model: 'package', packageSize: '10', packagePrice: '119.99' },
      '12',
      ['rateCard.packagePrice'],
    ],
    [
      'free units (priced at zero)',
      { model: 'package', packageSize: '10', packagePrice: '200', freeUnits: '1' },
      '12',
      ['rateCard.freeUnits'],
    ],
    [
      'each tier below, named',
      {
        model: 'graduated',
        tiers: [
          { upTo: '10', unitPrice: '13' },
          { upTo: '20', unitPrice: '11.5', flatFee: '100' },
          { upTo: null, unitPrice: '11' },
        ],
      },
      '12',
      ['rateCard.tiers[1].unitPrice', 'rateCard.tiers[2].unitPrice'],
    ],
    ['volume tiers at the floor', { model: 'volume', tiers: [{ upTo: null, unitPrice: '12' }] }, '12', null],
  ])('%s', (_what, terms, perUnit, fields) => {
    const r = refusal(terms, perUnit);
    if (fields === null) expect(r).toBeNull();
    else expect(r).toEqual({ code: 'BILLING.RATE_BELOW_FLOOR', kind: 'unprocessable', fields });
  });
});
