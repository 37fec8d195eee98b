// Proves locale formatting from the API's decimal strings: exact digits beyond float precision, half-even
// rounding to the currency's minor unit, each locale's separators and currency symbol, and time zones.
import { describe, expect, it } from 'vitest';
import {
  chartValue,
  formatAxisTime,
  formatDateTime,
  formatDecimal,
  formatMoney,
  isDecimalString,
  minorUnits,
  sameDecimal,
} from './format';

describe('formatDecimal', () => {
  it.each([
    ['1234567.891', 'en', '1,234,567.891'],
    ['1234567.891', 'zh-CN', '1,234,567.891'],
    ['1234567.891', 'de-DE', '1.234.567,891'],
    ['-0.5', 'en', '-0.5'],
    ['25.5', 'en', '25.5'],
    ['0', 'en', '0'],
  ])('%s in %s is %s', (value, locale, expected) => {
    expect(formatDecimal(value, locale)).toBe(expected);
  });

  it('keeps digits a float would lose', () => {
    expect(formatDecimal('9007199254740993.01', 'en')).toBe('9,007,199,254,740,993.01');
    expect(formatDecimal('0.30000000000000000001', 'en')).toBe('0.30000000000000000001');
  });

  it('pads and rounds half-even when told the fraction digits', () => {
    expect(formatDecimal('8', 'en', { minFraction: 2 })).toBe('8.00');
    expect(formatDecimal('8.000000', 'en', { maxFraction: 2 })).toBe('8.00');
    expect(formatDecimal('2.345', 'en', { maxFraction: 2 })).toBe('2.34');
    expect(formatDecimal('2.355', 'en', { maxFraction: 2 })).toBe('2.36');
  });

  it('refuses what is not a decimal string', () => {
    expect(() => formatDecimal('1e3', 'en')).toThrow(RangeError);
    expect(() => formatDecimal('abc', 'en')).toThrow(RangeError);
    expect(isDecimalString('12.50')).toBe(true);
    expect(isDecimalString('')).toBe(false);
  });
});

describe('formatMoney', () => {
  it('uses the locale’s currency symbol and separators', () => {
    expect(formatMoney('10000.00', 'CNY', 'en')).toBe('CN¥10,000.00');
    expect(formatMoney('10000.00', 'CNY', 'zh-CN')).toBe('¥10,000.00');
    expect(formatMoney('1234.5', 'EUR', 'de-DE')).toBe('1.234,50\u00a0€');
  });

  it('shows negatives with the locale’s minus', () => {
    expect(formatMoney('-206.84', 'CNY', 'en')).toBe('-CN¥206.84');
    expect(formatMoney('-206.84', 'CNY', 'zh-CN')).toBe('-¥206.84');
  });

  it('rounds half-even to the minor unit (0 digits for JPY), or keeps a unit price’s digits when asked', () => {
    expect(minorUnits('CNY')).toBe(2);
    expect(minorUnits('JPY')).toBe(0);
    expect(formatMoney('0.125', 'CNY', 'en')).toBe('CN¥0.12');
    expect(formatMoney('0.135', 'CNY', 'en')).toBe('CN¥0.14');
    expect(formatMoney('1234.5', 'JPY', 'en')).toBe('¥1,234');
    expect(formatMoney('0.0125', 'CNY', 'en', { keepDigits: true })).toBe('CN¥0.0125');
    expect(formatMoney('-0.001', 'CNY', 'en')).toBe('CN¥0.00');
  });

  it('is exact for amounts beyond float precision', () => {
    expect(formatMoney('90071992547409931.07', 'CNY', 'en')).toBe('CN¥90,071,992,547,409,931.07');
  });
});

describe('formatDateTime', () => {
  const iso = '2026-03-16T20:30:00Z';
  it('shows the instant in the given time zone', () => {
    expect(formatDateTime(iso, 'en', 'UTC')).toBe('Mar 16, 2026, 20:30 UTC');
    expect(formatDateTime(iso, 'en', 'Asia/Shanghai')).toBe('Mar 17, 2026, 04:30 GMT+8');
  });
  it('follows the locale’s date pattern', () => {
    expect(formatDateTime(iso, 'zh-CN', 'Asia/Shanghai')).toBe('2026年3月17日 GMT+8 04:30');
  });
});

describe('formatAxisTime', () => {
  const ms = Date.parse('2026-03-16T16:00:00Z');
  it.each([
    ['en', 'UTC', ms, 'Mar 16, 16:00'],
    ['en', 'Asia/Shanghai', ms, 'Mar 17'],
    ['zh-CN', 'Asia/Shanghai', ms, '3月17日'],
    ['zh-CN', 'Asia/Shanghai', ms + 90 * 60_000, '3月17日 01:30'],
    ['en', 'UTC', Date.parse('2026-03-17T00:00:00Z'), 'Mar 17'],
  ])('in %s and %s, %d is %s', (locale, zone, at, expected) => {
    expect(formatAxisTime(at, locale, zone)).toBe(expected);
  });
});

describe('helpers', () => {
  it('compares decimal strings exactly and maps chart coordinates', () => {
    expect(sameDecimal('-206.80', '-206.8')).toBe(true);
    expect(sameDecimal('0.1', '0.10000000000000000001')).toBe(false);
    expect(chartValue('25.5')).toBe(25.5);
    expect(chartValue(null)).toBeNull();
  });
});
