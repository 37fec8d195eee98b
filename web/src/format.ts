import Decimal from 'decimal.js';

// Locale formatting of the API's values. Money and quantities arrive as decimal strings and are formatted from
// their digits: they never pass through a JavaScript number, so 0.1 + 0.2 and 9007199254740993.01 print as sent.
// Intl supplies the locale's separators, currency symbol and date patterns; decimal.js does the one rounding
// (half-even, to the currency's minor unit, as the ledger does) and BigInt carries the integer part to Intl.

/** A clone, because Decimal.set() is global (as libs/shared-kernel/src/money.ts does on the server). */
const Dec = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export const isDecimalString = (s: string): boolean => DECIMAL.test(s.trim());

interface Digits {
  negative: boolean;
  integer: string;
  fraction: string;
}

/** Splits a decimal string into sign and digits, rounded half-even to `maxFraction` digits, padded to `minFraction`. */
const digitsOf = (value: string, minFraction: number, maxFraction: number): Digits => {
  if (!isDecimalString(value)) throw new RangeError(`not a decimal string: ${JSON.stringify(value)}`);
  const d = new Dec(value.trim());
  // The digits as sent ("8.000000" has six), not as decimal.js normalises them.
  const sent = value.trim().split('.')[1]?.length ?? 0;
  const dp = Math.min(maxFraction, Math.max(minFraction, sent));
  const fixed = d.toFixed(dp, Dec.ROUND_HALF_EVEN);
  const negative = fixed.startsWith('-') && !/^-0(\.0*)?$/.test(fixed);
  const [integer = '0', fraction = ''] = fixed.replace(/^-/, '').split('.');
  return { negative, integer, fraction };
};

/** Intl's parts for a template number, with the integer and fraction parts replaced by our own digits. */
const assemble = (
  nf: Intl.NumberFormat,
  locale: string,
  useGrouping: boolean,
  { negative, integer, fraction }: Digits,
): string => {
  const grouped = new Intl.NumberFormat(locale, { useGrouping, maximumFractionDigits: 0 }).format(BigInt(integer));
  // The template has the same sign and the same number of fraction digits, so its parts are in the locale's order.
  const template = nf.formatToParts(negative ? -1.5 : 1.5);
  let out = '';
  let integerDone = false;
  for (const part of template) {
    if (part.type === 'integer') {
      if (!integerDone) out += grouped;
      integerDone = true;
    } else if (part.type === 'group') {
      continue;
    } else if (part.type === 'fraction') {
      out += fraction;
    } else if (part.type === 'decimal') {
      if (fraction !== '') out += part.value;
    } else {
      out += part.value;
    }
  }
  return out;
};

export interface DecimalFormat {
  minFraction?: number;
  maxFraction?: number;
  grouping?: boolean;
}

/** A decimal string in the locale's digits and separators; keeps the fraction digits it has (up to maxFraction). */
export const formatDecimal = (value: string, locale: string, opts: DecimalFormat = {}): string => {
  const minFraction = opts.minFraction ?? 0;
  const maxFraction = Math.max(minFraction, opts.maxFraction ?? 20);
  const digits = digitsOf(value, minFraction, maxFraction);
  const grouping = opts.grouping ?? true;
  const nf = new Intl.NumberFormat(locale, {
    useGrouping: grouping,
    minimumFractionDigits: digits.fraction.length,
    maximumFractionDigits: digits.fraction.length,
  });
  return assemble(nf, locale, grouping, digits);
};

/** The currency's minor unit per Intl (2 for CNY and USD, 0 for JPY). */
export const minorUnits = (currency: string): number =>
  new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;

/**
 * An amount with its currency in the locale's style (symbol, position, separators), rounded half-even to the
 * currency's minor unit unless `unitPrice` asks to keep finer digits (a price per 1,000 tokens may have more).
 */
export const formatMoney = (
  amount: string,
  currency: string,
  locale: string,
  opts: { keepDigits?: boolean } = {},
): string => {
  const minor = minorUnits(currency);
  const digits = digitsOf(amount, minor, opts.keepDigits === true ? 20 : minor);
  const nf = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency,
    minimumFractionDigits: digits.fraction.length,
    maximumFractionDigits: digits.fraction.length,
  });
  return assemble(nf, locale, true, digits);
};

/** An instant in the given IANA time zone, in the locale's date and time pattern. */
export const formatDateTime = (iso: string, locale: string, timeZone: string): string => {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).format(t);
};

/**
 * A chart's time-axis label in the given zone: the date alone at the zone's midnight (a day boundary reads as a
 * day), else the short date and the time, so a label far from the previous day's still says which day it is.
 */
export const formatAxisTime = (ms: number, locale: string, timeZone: string): string => {
  const t = new Date(ms);
  if (Number.isNaN(t.getTime())) return '';
  const parts = new Intl.DateTimeFormat('en', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .formatToParts(t)
    .filter((p) => p.type === 'hour' || p.type === 'minute')
    .map((p) => p.value);
  const midnight = parts.join(':') === '00:00' && t.getUTCSeconds() === 0 && t.getUTCMilliseconds() === 0;
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    month: 'short',
    day: 'numeric',
    ...(midnight ? {} : { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
  }).format(t);
};

/** A decimal string to a number for chart coordinates only (never for money shown as text or summed). */
export const chartValue = (value: string | null | undefined): number | null =>
  value === null || value === undefined || !isDecimalString(value) ? null : new Dec(value).toNumber();

/** Exact comparison of decimal strings (e.g. a downloaded CSV total against the API's). */
export const sameDecimal = (a: string, b: string): boolean => new Dec(a).eq(new Dec(b));
