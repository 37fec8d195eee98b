// Proves that parsing an amount, shortcut included, answers exactly what the amount grammar and exact integer
// arithmetic say, for random strings near and inside the grammar, in every currency.
import fc from 'fast-check';
import { currencies, type Currency, minorUnits } from '@cx/shared-kernel';
import { canonicalToMinor, formatAmount, MAX_AMOUNT_MINOR, parseAmount, parseMinor } from './ledger.amounts';

/** The definition, written for clarity and nothing else: the grammar, then the value in BigInt digit arithmetic. */
const oracle = (value: unknown, currency: Currency): bigint | 'invalid' | 'too_many_decimals' => {
  if (typeof value !== 'string') return 'invalid';
  const m = /^(0|[1-9]\d{0,29})(?:\.(\d{1,30}))?$/.exec(value);
  if (m === null) return 'invalid';
  const digits = minorUnits[currency];
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  if (fraction.length > digits) return 'too_many_decimals';
  const minor = BigInt(`${m[1]}${fraction.padEnd(digits, '0')}`);
  return minor > MAX_AMOUNT_MINOR ? 'invalid' : minor;
};

const digitString = (min: number, max: number) =>
  fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));

/** Mostly well-formed amounts of every length the shortcut and the pattern handle, and near misses of them. */
const amountLike = fc.oneof(
  fc
    .tuple(digitString(1, 20), fc.option(digitString(0, 6), { nil: undefined }))
    .map(([w, f]) => (f === undefined ? w : `${w}.${f}`)),
  fc.tuple(digitString(1, 32), digitString(1, 32)).map(([w, f]) => `${w}.${f}`),
  fc.string({ unit: fc.constantFrom(...'0123456789.-+e '), maxLength: 20 }),
  fc.bigInt({ min: 0n, max: MAX_AMOUNT_MINOR + 10n }).map((n) => formatAmount(n, 'CNY')),
);

describe('amounts', () => {
  it('parses exactly as the grammar and integer arithmetic define', () => {
    fc.assert(
      fc.property(amountLike, fc.constantFrom(...currencies), (value, currency) => {
        const expected = oracle(value, currency);
        expect(parseMinor(value, minorUnits[currency])).toEqual(expected);
        expect(parseAmount(value, currency)).toEqual(
          typeof expected === 'bigint' ? { ok: true, minor: expected } : { ok: false, reason: expected },
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('parses at the edges of the shortcut: 13 whole digits, 2^53, the largest amount', () => {
    const cases: Array<[string, Currency, bigint | string]> = [
      ['9999999999999.99', 'CNY', 999999999999999n],
      ['99999999999999.99', 'CNY', 9999999999999999n],
      ['90071992547409.91', 'CNY', 9007199254740991n],
      ['90071992547409.92', 'CNY', 9007199254740992n],
      ['9007199254740993', 'JPY', 9007199254740993n],
      ['92233720368547758.07', 'CNY', MAX_AMOUNT_MINOR],
      ['92233720368547758.08', 'CNY', 'invalid'],
      ['0', 'CNY', 0n],
      ['0.00', 'CNY', 0n],
      ['0.5', 'CNY', 50n],
      ['1.000', 'CNY', 100n],
      ['1.0', 'JPY', 1n],
      ['00.1', 'CNY', 'invalid'],
      ['1.', 'JPY', 'invalid'],
      ['.5', 'CNY', 'invalid'],
    ];
    for (const [value, currency, expected] of cases) {
      expect([value, currency, parseMinor(value, minorUnits[currency])]).toEqual([value, currency, expected]);
    }
  });

  it('reads back what it formats', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_AMOUNT_MINOR }), fc.constantFrom(...currencies), (n, currency) => {
        const text = formatAmount(n, currency);
        expect(canonicalToMinor(text, currency)).toBe(n);
        expect(parseMinor(text, minorUnits[currency])).toBe(n);
      }),
      { numRuns: 2_000 },
    );
  });
});
