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
  if (typeof value !== 'string') return { ok: false, reason: 'invalid' };
  const m = AMOUNT_RE.exec(value);
  if (m === null) return { ok: false, reason: 'invalid' };
  const digits = minorUnits[currency];
  let fraction = m[2] ?? '';
  // Trailing zeros carry no value ("1.500" CNY is 1.50), so only significant digits count against the minor unit.
  if (fraction.length > digits) {
    const significant = fraction.replace(/0+$/, '');
    if (significant.length > digits) return { ok: false, reason: 'too_many_decimals' };
    fraction = significant;
  }
  const whole = m[1] as string;
  // Up to 13 whole digits the value in minor units stays below 2^53, so the exact integer is built in a double and
  // converted once: parsing a concatenated digit string into a BigInt cost a measurable share of the ledger's batch.
  if (whole.length <= 13) {
    const scaled =
      Number(whole) * (POW10[digits] as number) + (fraction === '' ? 0 : Number(fraction.padEnd(digits, '0')));
    if (Number.isSafeInteger(scaled)) return { ok: true, minor: BigInt(scaled) };
  }
  const minor = BigInt(whole + fraction.padEnd(digits, '0'));
  if (minor > MAX_AMOUNT_MINOR) return { ok: false, reason: 'invalid' };
  return { ok: true, minor };
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
