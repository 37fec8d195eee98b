import { type Currency, minorUnits } from '@cx/shared-kernel';

// Exact conversion between the wire's decimal strings and the ledger's integer minor units. No floating point
// and no rounding: an amount finer than the currency's minor unit is refused, never rounded, because a ledger that
// rounds silently no longer balances against the statements built from it.

/** The largest amount one transfer may carry, in minor units: a signed 64-bit integer, as SQL and Kafka hold it. */
export const MAX_AMOUNT_MINOR = (1n << 63n) - 1n;

/** 10^n for the currencies' minor digits (0 to 3 today). */
const POW10: readonly number[] = [1, 10, 100, 1_000, 10_000];

const AMOUNT_RE = /^(0|[1-9]\d{0,29})(?:\.(\d{1,30}))?$/;

export type ParsedAmount = { ok: true; minor: bigint } | { ok: false; reason: 'invalid' | 'too_many_decimals' };

/** Parses a non-negative plain decimal string into minor units, refusing more decimals than the currency has. */
export const parseAmount = (value: unknown, currency: Currency): ParsedAmount => {
  const minor = parseMinor(value, minorUnits[currency]);
  return typeof minor === 'bigint' ? { ok: true, minor } : { ok: false, reason: minor };
};

/**
 * parseAmount without a result object, for a currency with `digits` minor digits (`minorUnits[currency]`): the
 * minor units, or why the value is refused. The ledger parses every transfer's amount with it; an object per
 * transfer was a measurable share of its allocation.
 */
export const parseMinor = (value: unknown, digits: number): bigint | 'invalid' | 'too_many_decimals' => {
  if (typeof value !== 'string') return 'invalid';
  const scaled = plainMinor(value, digits);
  return scaled >= 0 ? BigInt(scaled) : parseByPattern(value, digits);
};

/**
 * The minor units of an amount in the form nearly every amount has: up to 13 whole digits with no leading zero
 * (or a lone 0), then at most the currency's minor digits, the value exact in a double. -1 for anything else, which
 * parseByPattern decides (and which is always right), so this needs to be exact only where it answers: read
 * character by character, because the pattern's match array and substrings were most of parsing's cost.
 */
const plainMinor = (s: string, digits: number): number => {
  const n = s.length;
  if (n === 0 || n > 17) return -1;
  let whole = s.charCodeAt(0) - 48;
  if (whole < 0 || whole > 9) return -1;
  let i = 1;
  if (whole !== 0) {
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      whole = whole * 10 + d;
    }
  }
  if (i > 13) return -1;
  let scaled = whole * (POW10[digits] as number);
  if (i < n) {
    const places = n - i - 1;
    if (s.charCodeAt(i) !== 46 || places < 1 || places > digits) return -1;
    let fraction = 0;
    for (let j = i + 1; j < n; j++) {
      const d = s.charCodeAt(j) - 48;
      if (d < 0 || d > 9) return -1;
      fraction = fraction * 10 + d;
    }
    scaled += fraction * (POW10[digits - places] as number);
  }
  return Number.isSafeInteger(scaled) ? scaled : -1;
};

/** Every amount the pattern accepts, of any length: the definition plainMinor's shortcut must agree with. */
const parseByPattern = (value: string, digits: number): bigint | 'invalid' | 'too_many_decimals' => {
  const m = AMOUNT_RE.exec(value);
  if (m === null) return 'invalid';
  let fraction = m[2] ?? '';
  // Trailing zeros carry no value ("1.500" CNY is 1.50), so only significant digits count against the minor unit.
  if (fraction.length > digits) {
    const significant = fraction.replace(/0+$/, '');
    if (significant.length > digits) return 'too_many_decimals';
    fraction = significant;
  }
  const whole = m[1] as string;
  // Up to 13 whole digits the value in minor units stays below 2^53, so the exact integer is built in a double and
  // converted once: parsing a concatenated digit string into a BigInt cost a measurable share of the ledger's batch.
  if (whole.length <= 13) {
    const scaled =
      Number(whole) * (POW10[digits] as number) + (fraction === '' ? 0 : Number(fraction.padEnd(digits, '0')));
    if (Number.isSafeInteger(scaled)) return BigInt(scaled);
  }
  const minor = BigInt(whole + fraction.padEnd(digits, '0'));
  if (minor > MAX_AMOUNT_MINOR) return 'invalid';
  return minor;
};

/** The canonical wire form of minor units: fixed notation with exactly the currency's minor digits. */
export const formatAmount = (minor: bigint, currency: Currency): string => {
  const digits = minorUnits[currency];
  const negative = minor < 0n;
  const s = (negative ? -minor : minor).toString();
  if (digits === 0) return negative ? `-${s}` : s;
  const padded = s.padStart(digits + 1, '0');
  const out = `${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
  return negative ? `-${out}` : out;
};

/** Whether every character but the one at `dot` is an ASCII digit (what BigInt would accept, and no sign). */
const allDigits = (s: string, dot: number): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (i !== dot && (c < 48 || c > 57)) return false;
  }
  return true;
};

/** Reads an amount the ledger itself wrote (canonical form); anything else is a corrupt event. */
export const canonicalToMinor = (amount: string, currency: Currency): bigint => {
  const digits = minorUnits[currency];
  if (digits === 0) return BigInt(amount);
  const dot = amount.length - digits - 1;
  if (amount.charCodeAt(dot) !== 46) throw new TypeError(`not a canonical ${currency} amount: ${amount}`);
  // The same fast path as parseAmount: a non-negative amount of up to 13 whole digits is exact in a double.
  if (dot > 0 && dot <= 13 && allDigits(amount, dot)) {
    const scaled = Number(amount.slice(0, dot)) * (POW10[digits] as number) + Number(amount.slice(dot + 1));
    if (Number.isSafeInteger(scaled)) return BigInt(scaled);
  }
  return BigInt(amount.slice(0, dot) + amount.slice(dot + 1));
};
