// Proves invariants of the price models over random cards and quantities (fast-check): charges never fall as
// usage grows, volume pricing never charges more per unit for more units, the package count is a ceiling, the
// one rounding stays within half a minor unit, and a card accepted at a floor never rates below it.
import fc from 'fast-check';
import { Dec, minorUnits } from '@cx/shared-kernel';
import { assertNotBelowFloor, rateWithFloor } from './floor';
import { packagesFor, ratedAmount } from './price-models';
import { parseRateCard, type RateCardTerms, type TierTerms } from './rate-card';

// Decimals as scaled integers: exact, and with the awkward digits (thirds, half cents) that rounding meets.
const decimal = (max: number, scale: number) =>
  fc.integer({ min: 0, max }).map((n) => new Dec(n).div(10 ** scale).toFixed());
const positive = (max: number, scale: number) =>
  fc.integer({ min: 1, max }).map((n) => new Dec(n).div(10 ** scale).toFixed());
const quantityArb = decimal(2_000_000, 3).map((s) => new Dec(s));

/** Tiers with increasing bounds; prices non-increasing when `falling`, fees when `fees`. */
const tiersArb = (opts: { falling: boolean; fees: boolean }): fc.Arbitrary<TierTerms[]> =>
  fc
    .array(fc.record({ width: positive(500_000, 2), price: decimal(50_000, 3), fee: decimal(10_000, 2) }), {
      minLength: 1,
      maxLength: 6,
    })
    .map((rows) => {
      let bound = new Dec(0);
      const prices = rows.map((r) => new Dec(r.price));
      if (opts.falling) prices.sort((a, b) => b.comparedTo(a));
      return rows.map((r, i) => {
        bound = bound.plus(r.width);
        return {
          upTo: i === rows.length - 1 ? null : bound.toFixed(),
          unitPrice: (prices[i] as Dec).toFixed(),
          flatFee: opts.fees ? r.fee : null,
        };
      });
    });

const cardArb: fc.Arbitrary<RateCardTerms> = fc.oneof(
  decimal(100_000, 3).map((unitPrice) => ({ model: 'flat' as const, unitPrice })),
  fc
    .record({ packageSize: positive(10_000, 2), packagePrice: decimal(100_000, 2), freeUnits: decimal(1_000, 1) })
    .map((p) => ({ model: 'package' as const, ...p })),
  tiersArb({ falling: false, fees: true }).map((tiers) => ({ model: 'graduated' as const, tiers })),
  tiersArb({ falling: false, fees: true }).map((tiers) => ({ model: 'volume' as const, tiers })),
);

const cny = (terms: RateCardTerms) => parseRateCard(terms, 'CNY');

describe('rating properties', () => {
  it('graduated charges never fall as the quantity grows', () => {
    fc.assert(
      fc.property(tiersArb({ falling: false, fees: true }), quantityArb, quantityArb, (tiers, a, b) => {
        const card = cny({ model: 'graduated', tiers });
        const [lo, hi] = a.lte(b) ? [a, b] : [b, a];
        expect(ratedAmount(card, lo).lte(ratedAmount(card, hi))).toBe(true);
      }),
    );
  });

  it('with falling tier prices, volume never charges more per unit for more units, nor more than graduated', () => {
    fc.assert(
      fc.property(tiersArb({ falling: true, fees: false }), quantityArb, quantityArb, (tiers, a, b) => {
        const volume = cny({ model: 'volume', tiers });
        const graduated = cny({ model: 'graduated', tiers });
        const [lo, hi] = a.lte(b) ? [a, b] : [b, a];
        if (lo.gt(0)) {
          const perUnitLo = ratedAmount(volume, lo).div(lo);
          const perUnitHi = ratedAmount(volume, hi).div(hi);
          expect(perUnitHi.lte(perUnitLo)).toBe(true);
        }
        expect(ratedAmount(volume, hi).lte(ratedAmount(graduated, hi))).toBe(true);
      }),
    );
  });

  it('counts packages as the ceiling of the billable quantity over the package size', () => {
    fc.assert(
      fc.property(quantityArb, positive(10_000, 3), decimal(1_000, 1), (q, size, free) => {
        const n = packagesFor(q, new Dec(size), new Dec(free));
        const billable = Dec.max(q.minus(free), 0);
        expect(n.isInteger()).toBe(true);
        // Enough packages for the billable units, and one fewer would not be.
        expect(n.times(size).gte(billable)).toBe(true);
        if (n.gt(0)) expect(n.minus(1).times(size).lt(billable)).toBe(true);
        expect(n.toFixed()).toBe(billable.div(size).ceil().toFixed());
      }),
    );
  });

  it('rounds a charge line once, within half a minor unit of the exact amount', () => {
    fc.assert(
      fc.property(cardArb, quantityArb, (terms, q) => {
        const card = cny(terms);
        const line = rateWithFloor(card, q, null);
        const diff = new Dec(line.amount).minus(ratedAmount(card, q)).abs();
        expect(diff.lte(new Dec(10).pow(-minorUnits.CNY).div(2))).toBe(true);
        expect(new Dec(line.amount).decimalPlaces()).toBeLessThanOrEqual(minorUnits.CNY);
      }),
    );
  });

  it('never rates below the floor, and never flags a card that was accepted at that floor', () => {
    fc.assert(
      fc.property(cardArb, quantityArb, decimal(50_000, 3), (terms, q, f) => {
        const card = cny(terms);
        const floor = { perUnit: new Dec(f), guidanceVersion: 'rc.v1' };
        const line = rateWithFloor(card, q, floor);
        // Rounded once, so compare with the floor charge rounded the same way.
        expect(new Dec(line.amount).gte(q.times(f).toDecimalPlaces(2, Dec.ROUND_HALF_EVEN))).toBe(true);
        let accepted = true;
        try {
          assertNotBelowFloor(card, floor);
        } catch {
          accepted = false;
        }
        if (accepted) expect(line.ratedAtFloor).toBe(false);
      }),
    );
  });
});
