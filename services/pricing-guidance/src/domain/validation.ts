import { type Currency, DomainError, type Dec, isDomainError, minorUnits, parseDecimal } from '@cx/shared-kernel';

// Field rules shared by the pricing-guidance deciders. Each refusal names the one field at fault with a stable
// PRICING.* code; the more specific reason stays in the message.

export const refuse = (code: string, message: string, field: string): DomainError =>
  new DomainError(code, message, 'invalid', [{ field, code }]);

/** A request that is well formed but names something the exchange does not know (HTTP 422). */
export const unprocessable = (code: string, message: string, field: string): DomainError =>
  new DomainError(code, message, 'unprocessable', [{ field, code }]);

// Resource class ids are lower-case words joined by hyphens (`nvidia-h100-sxm-80g`); region ids the same but
// with at least one hyphen (`cn-east-1`). Neither contains a dot, so `<resourceClass>.<region>` (a band id, an
// instrument id prefix) splits back unambiguously.
const RESOURCE_CLASS_RE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const REGION_RE = /^[a-z][a-z0-9]*(-[a-z0-9]+)+$/;

export const isResourceClassId = (v: unknown): v is string =>
  typeof v === 'string' && v.length <= 64 && RESOURCE_CLASS_RE.test(v);
export const isRegionId = (v: unknown): v is string => typeof v === 'string' && v.length <= 32 && REGION_RE.test(v);

// Printable text without control characters, so names, reasons and references are safe in logs and CSVs.
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

/** Unit prices may be finer than the currency's minor unit (a price per 1,000 tokens often is), up to this. */
export const PRICE_MAX_DECIMALS = 6;

/** A unit price as a plain decimal string, parsed exactly; its sign is judged by the caller's own rule. */
export const priceField = (value: unknown, field: string): Dec => {
  try {
    return parseDecimal(value, { field, maxDecimals: PRICE_MAX_DECIMALS });
  } catch (e) {
    if (isDomainError(e)) throw refuse('PRICING.INVALID_PRICE', e.message, field);
    throw e;
  }
};

/**
 * The canonical wire form of a unit price: at least the currency's minor digits ("12.50", never "12.5"), more
 * only when the price has them ("0.0125"), so equal prices are equal strings.
 */
export const formatPrice = (d: Dec, currency: Currency): string =>
  d.decimalPlaces() <= minorUnits[currency] ? d.toFixed(minorUnits[currency]) : d.toFixed();

/** An ISO 8601 instant with an explicit offset or Z, as a Date; null when it is not one. */
export const parseInstant = (value: unknown): Date | null => {
  if (typeof value !== 'string') return null;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
};
