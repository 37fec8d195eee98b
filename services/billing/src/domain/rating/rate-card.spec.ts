// Proves that a malformed rate card is refused with a BILLING.* code naming the field at fault (ordered by which
// error wins), and that a parsed card's wire form is canonical.
import { isDomainError } from '@cx/shared-kernel';
import { parseRateCard, rateCardTerms } from './rate-card';

const refusal = (terms: unknown): [string, string | undefined] | null => {
  try {
    parseRateCard(terms, 'CNY');
    return null;
  } catch (e) {
    if (!isDomainError(e)) throw e;
    return [e.code, e.details[0]?.field];
  }
};

describe('parseRateCard', () => {
  it.each<[string, unknown, [string, string]]>([
    ['not an object', 'flat', ['BILLING.RATE_CARD_INVALID', 'rateCard']],
    ['an unknown model', { model: 'auction' }, ['BILLING.PRICE_MODEL_UNKNOWN', 'rateCard.model']],
    ['a number for a price', { model: 'flat', unitPrice: 12 }, ['BILLING.NOT_A_DECIMAL_STRING', 'rateCard.unitPrice']],
    ['an exponent', { model: 'flat', unitPrice: '1e3' }, ['BILLING.MALFORMED_DECIMAL', 'rateCard.unitPrice']],
    ['a negative price', { model: 'flat', unitPrice: '-1' }, ['BILLING.NEGATIVE', 'rateCard.unitPrice']],
    [
      'a price finer than 10 places',
      { model: 'flat', unitPrice: '0.00000000001' },
      ['BILLING.TOO_MANY_DECIMALS', 'rateCard.unitPrice'],
    ],
    [
      'a zero package size',
      { model: 'package', packageSize: '0', packagePrice: '1' },
      ['BILLING.NOT_POSITIVE', 'rateCard.packageSize'],
    ],
    [
      'negative free units',
      { model: 'package', packageSize: '1', packagePrice: '1', freeUnits: '-1' },
      ['BILLING.NEGATIVE', 'rateCard.freeUnits'],
    ],
    ['no tiers', { model: 'graduated', tiers: [] }, ['BILLING.TIERS_REQUIRED', 'rateCard.tiers']],
    [
      'an open tier before the last',
      {
        model: 'volume',
        tiers: [
          { upTo: null, unitPrice: '1' },
          { upTo: null, unitPrice: '1' },
        ],
      },
      ['BILLING.TIER_UP_TO_REQUIRED', 'rateCard.tiers[0].upTo'],
    ],
    [
      'a bounded last tier',
      { model: 'volume', tiers: [{ upTo: '10', unitPrice: '1' }] },
      ['BILLING.LAST_TIER_MUST_BE_OPEN', 'rateCard.tiers[0].upTo'],
    ],
    [
      'bounds that do not increase',
      {
        model: 'graduated',
        tiers: [
          { upTo: '10', unitPrice: '1' },
          { upTo: '10', unitPrice: '1' },
          { upTo: null, unitPrice: '1' },
        ],
      },
      ['BILLING.TIERS_NOT_ASCENDING', 'rateCard.tiers[1].upTo'],
    ],
    [
      'a negative flat fee',
      { model: 'graduated', tiers: [{ upTo: null, unitPrice: '1', flatFee: '-5' }] },
      ['BILLING.NEGATIVE', 'rateCard.tiers[0].flatFee'],
    ],
  ])('refuses %s', (_what, terms, expected) => {
    expect(refusal(terms)).toEqual(expected);
  });

  it('writes a parsed card in canonical form (no trailing zeros, defaults made explicit)', () => {
    expect(
      rateCardTerms(parseRateCard({ model: 'package', packageSize: '10.0', packagePrice: '100.50' }, 'CNY')),
    ).toEqual({ model: 'package', packageSize: '10', packagePrice: '100.5', freeUnits: '0' });
    expect(
      rateCardTerms(parseRateCard({ model: 'volume', tiers: [{ upTo: null, unitPrice: '2.50' }] }, 'CNY')),
    ).toEqual({ model: 'volume', tiers: [{ upTo: null, unitPrice: '2.5', flatFee: '0' }] });
  });
});
