import Decimal from 'decimal.js';
import { DomainError } from './errors';

// A clone, because Decimal.set() is global and any dependency could change it. 40 significant digits hold any
// amount this exchange can see (a national market's yearly notional in the minor unit) with room for rates.
export const Dec = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type Dec = Decimal;

export const currencies = ['CNY', 'USD', 'EUR', 'HKD', 'JPY'] as const;
export type Currency = (typeof currencies)[number];
export const minorUnits: Readonly<Record<Currency, number>> = { CNY: 2, USD: 2, EUR: 2, HKD: 2, JPY: 0 };
export const isCurrency = (value: unknown): value is Currency =>
  typeof value === 'string' && (currencies as readonly string[]).includes(value);

export interface DecimalRules {
  /** The field named in the error when the value is refused. */
  field: string;
  /** The most digits allowed after the point. */
  maxDecimals?: number;
  /** Refuse negative values (zero stays allowed unless `positive`). */
  nonNegative?: boolean;
  /** Refuse zero and negative values. */
  positive?: boolean;
  /** The error code's service prefix, e.g. `MATCHING`. */
  service?: string;
}

// Plain decimal notation only: an optional minus, digits, an optional fraction. No exponent, no `NaN`, no
// `Infinity`, no hex, no leading plus or whitespace: what a client sends is exactly what we read.
const DECIMAL_RE = /^-?(0|[1-9]\d{0,29})(\.\d{1,30})?$/;

export const isDecimalString = (value: unknown): value is string => typeof value === 'string' && DECIMAL_RE.test(value);

/** Parses a decimal string from the outside world, refusing anything but plain notation within the rules. */
export const parseDecimal = (value: unknown, rules: DecimalRules): Decimal => {
  const prefix = rules.service ?? 'VALIDATION';
  if (typeof value !== 'string') {
    throw DomainError.invalid(`${prefix}.NOT_A_DECIMAL_STRING`, `${rules.field} must be a decimal string`, rules.field);
  }
  if (!DECIMAL_RE.test(value)) {
    throw DomainError.invalid(
      `${prefix}.MALFORMED_DECIMAL`,
      `${rules.field} is not a plain decimal number: "${value.slice(0, 40)}"`,
      rules.field,
    );
  }
  const d = new Dec(value);
  if (rules.maxDecimals !== undefined && d.decimalPlaces() > rules.maxDecimals) {
    throw DomainError.invalid(
      `${prefix}.TOO_MANY_DECIMALS`,
      `${rules.field} allows at most ${rules.maxDecimals} decimal places`,
      rules.field,
    );
  }
  if (rules.positive && d.lte(0)) {
    throw DomainError.invalid(`${prefix}.NOT_POSITIVE`, `${rules.field} must be greater than zero`, rules.field);
  }
  if (rules.nonNegative && d.isNeg() && !d.isZero()) {
    throw DomainError.invalid(`${prefix}.NEGATIVE`, `${rules.field} must not be negative`, rules.field);
  }
  return d;
};

/** An amount of money as it crosses a boundary: a decimal string with its currency beside it. */
export interface MoneyDto {
  amount: string;
  currency: Currency;
}

export const roundToMinorUnit = (amount: Decimal, currency: Currency): Decimal =>
  amount.toDecimalPlaces(minorUnits[currency], Dec.ROUND_HALF_EVEN);

/** The canonical wire form: fixed notation with exactly the currency's minor digits. */
export const formatMoney = (amount: Decimal, currency: Currency): string =>
  roundToMinorUnit(amount, currency).toFixed(minorUnits[currency]);

/** The canonical wire form of a non-money decimal: fixed notation, no exponent, no trailing zeros. */
export const formatDecimal = (d: Decimal): string => d.toFixed();

export const toMoneyDto = (amount: Decimal, currency: Currency): MoneyDto => ({
  amount: formatMoney(amount, currency),
  currency,
});

export const sum = (values: Iterable<Decimal>): Decimal => {
  let total = new Dec(0);
  for (const v of values) total = total.plus(v);
  return total;
};
