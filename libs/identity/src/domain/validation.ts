import {
  type Currency,
  DomainError,
  formatMoney,
  isDomainError,
  minorUnits,
  parseDecimal,
  type DecimalRules,
} from '@cx/shared-kernel';

// Field rules shared by the identity deciders. Each refusal names the one field at fault with a stable
// IDENTITY.* code; the more specific reason stays in the message.

export const refuse = (code: string, message: string, field: string): DomainError =>
  new DomainError(code, message, 'invalid', [{ field, code }]);

const parseField = (value: unknown, code: string, rules: DecimalRules) => {
  try {
    return parseDecimal(value, rules);
  } catch (e) {
    if (isDomainError(e)) throw refuse(code, e.message, rules.field);
    throw e;
  }
};

/** parseDecimal, with its generic VALIDATION.* code replaced by the field's own code; canonical plain notation. */
export const decimalField = (value: unknown, code: string, rules: DecimalRules): string =>
  parseField(value, code, rules).toFixed();

/**
 * An amount of money in `currency`: at most its minor digits, stored with exactly them ("100.50", never
 * "100.5"), the wire form every service uses, so equal amounts are equal strings.
 */
export const moneyField = (
  value: unknown,
  code: string,
  currency: Currency,
  rules: Omit<DecimalRules, 'maxDecimals'>,
): string => {
  const d = parseField(value, code, { ...rules, maxDecimals: minorUnits[currency] });
  return formatMoney(d, currency);
};

// Printable text without control characters (C0, DEL, C1, line and paragraph separators), so names and labels
// are safe in logs, CSVs and terminals.
const isControl = (c: number): boolean => c <= 0x1f || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029;
const hasControl = (s: string): boolean => {
  for (let i = 0; i < s.length; i += 1) if (isControl(s.charCodeAt(i))) return true;
  return false;
};

export const textField = (value: unknown, code: string, field: string, opts: { min: number; max: number }): string => {
  if (typeof value !== 'string') throw refuse(code, `${field} must be a string`, field);
  const trimmed = value.trim();
  if (trimmed.length < opts.min || trimmed.length > opts.max) {
    throw refuse(code, `${field} must be ${opts.min} to ${opts.max} characters`, field);
  }
  if (hasControl(trimmed)) throw refuse(code, `${field} must not contain control characters`, field);
  return trimmed;
};

/**
 * The canonical IANA name of a timezone, or null when Intl does not know it. Intl accepts names in any case
 * and old aliases; the resolved name is what we store, so two spellings never look like two timezones.
 */
export const canonicalTimezone = (value: unknown): string | null => {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
};

/** An ISO 8601 instant with an explicit offset or Z, as a Date; null when it is not one. */
export const parseInstant = (value: unknown): Date | null => {
  if (typeof value !== 'string') return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
};
