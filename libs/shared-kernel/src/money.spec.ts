// Proves that decimal strings are parsed strictly, rounded half-even at named points, and formatted exactly.
import fc from 'fast-check';
import { DomainError } from './errors';
import { Dec, formatMoney, parseDecimal, roundToMinorUnit, sum } from './money';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return e instanceof DomainError ? e.code : `not a DomainError: ${String(e)}`;
  }
};

describe('parseDecimal', () => {
  // Ordered by which error wins: type first, then notation, then scale, then sign.
  it.each([
    [12, {}, 'VALIDATION.NOT_A_DECIMAL_STRING'],
    [null, {}, 'VALIDATION.NOT_A_DECIMAL_STRING'],
    ['NaN', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['Infinity', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['-Infinity', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['1e3', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['1E-2', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['0x10', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    [' 1', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['+1', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['01', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['1.', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['.5', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['1,5', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['１', {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['1'.repeat(31), {}, 'VALIDATION.MALFORMED_DECIMAL'],
    ['1.234', { maxDecimals: 2 }, 'VALIDATION.TOO_MANY_DECIMALS'],
    ['-1.234', { maxDecimals: 2, positive: true }, 'VALIDATION.TOO_MANY_DECIMALS'],
    ['0', { positive: true }, 'VALIDATION.NOT_POSITIVE'],
    ['-0.01', { positive: true }, 'VALIDATION.NOT_POSITIVE'],
    ['-0.01', { nonNegative: true }, 'VALIDATION.NEGATIVE'],
  ])('refuses %j with %j as %s', (value, rules, code) => {
    expect(codeOf(() => parseDecimal(value, { field: 'price', ...rules }))).toBe(code);
  });

  it('names the field at fault and the service prefix', () => {
    try {
      parseDecimal('abc', { field: 'limitPrice', service: 'MATCHING' });
      throw new Error('expected a refusal');
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).code).toBe('MATCHING.MALFORMED_DECIMAL');
      expect((e as DomainError).details).toEqual([{ field: 'limitPrice', code: 'MATCHING.MALFORMED_DECIMAL' }]);
    }
  });

  it.each([
    ['0', '0'],
    ['-0', '0'],
    ['12.50', '12.5'],
    ['0.000000000000000000000000000001', '0.000000000000000000000000000001'],
    [
      '123456789012345678901234567890.123456789012345678901234567890',
      '123456789012345678901234567890.12345678901234567890123456789',
    ],
  ])('accepts %s exactly', (value, expected) => {
    expect(parseDecimal(value, { field: 'q' }).toFixed()).toBe(expected);
  });

  it('round-trips any plain decimal string through its canonical form', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }),
        fc.integer({ min: 0, max: 12 }),
        (units, scale) => {
          const s = scale === 0 ? units.toString() : new Dec(units.toString()).div(new Dec(10).pow(scale)).toFixed();
          expect(parseDecimal(s, { field: 'x' }).toFixed()).toBe(s === '-0' ? '0' : s);
        },
      ),
    );
  });
});

describe('rounding at named points', () => {
  it.each([
    ['0.125', 'CNY', '0.12'],
    ['0.135', 'CNY', '0.14'],
    ['-0.125', 'CNY', '-0.12'],
    ['2.5', 'JPY', '2'],
    ['3.5', 'JPY', '4'],
    ['1.005', 'USD', '1.00'],
  ] as const)('rounds %s %s half-even to %s', (amount, currency, expected) => {
    expect(formatMoney(new Dec(amount), currency)).toBe(expected);
  });

  it('never drifts more than half a minor unit per rounded line', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), { minLength: 1, maxLength: 50 }),
        (raw) => {
          const lines = raw.map((u) => new Dec(u.toString()).div(10_000));
          const exact = sum(lines);
          const rounded = sum(lines.map((l) => roundToMinorUnit(l, 'CNY')));
          expect(rounded.minus(exact).abs().lte(new Dec('0.005').times(lines.length))).toBe(true);
        },
      ),
    );
  });

  it('is not affected by a dependency changing the global Decimal settings', () => {
    const Global = require('decimal.js');
    const before = Global.precision;
    Global.set({ precision: 5, rounding: Global.ROUND_DOWN });
    try {
      expect(new Dec('1').div(3).toFixed(20)).toBe('0.33333333333333333333');
      expect(formatMoney(new Dec('0.125'), 'CNY')).toBe('0.12');
    } finally {
      Global.set({ precision: before, rounding: Global.ROUND_HALF_UP });
    }
  });
});
