import { Dec, DomainError } from '@cx/shared-kernel';
import type { MeterDefinition } from '../meter/meter.events';

// Judges one submitted CloudEvent on its own (shape, meter, time), before anyone asks who may publish it. Pure:
// the meters, the time and the limits arrive as arguments. Checks run in a fixed order; the first failure wins.

export interface Rejection {
  code: string;
  field: string;
  message: string;
}

export interface ValidUsage {
  source: string;
  id: string;
  type: string;
  subject: string;
  offerId: string | null;
  meter: MeterDefinition;
  quantity: string;
  time: string;
  dimensions: Record<string, string>;
}

export interface ValidationContext {
  now: Date;
  meters: ReadonlyMap<string, MeterDefinition>;
  futureToleranceMs: number;
  dedupeWindowMs: number;
}

const MAX_ID_LENGTH = 256;
const MAX_DIMENSIONS = 32;
// RFC 3339 date-time: a full date, a time with optional fraction, and a zone (Z or ±hh:mm).
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

const reject = (code: string, field: string, message: string): { rejected: Rejection } => ({
  rejected: { code, field, message },
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const requiredString = (o: Record<string, unknown>, key: string, field: string): string | Rejection => {
  const v = o[key];
  if (v === undefined || v === null || v === '') {
    return { code: 'METERING.MISSING_FIELD', field, message: `${field} is required` };
  }
  if (typeof v !== 'string') return { code: 'METERING.INVALID_FIELD', field, message: `${field} must be a string` };
  if (v.length > MAX_ID_LENGTH || v.includes('\u0000')) {
    return {
      code: 'METERING.INVALID_FIELD',
      field,
      message: `${field} must be at most ${MAX_ID_LENGTH} characters, without NUL`,
    };
  }
  return v;
};

export const validateUsage = (raw: unknown, ctx: ValidationContext): { ok: ValidUsage } | { rejected: Rejection } => {
  if (!isObject(raw)) return reject('METERING.INVALID_EVENT', '', 'an event must be a JSON object');
  if (raw.specversion === undefined || raw.specversion === '') {
    return reject('METERING.MISSING_FIELD', 'specversion', 'specversion is required');
  }
  if (raw.specversion !== '1.0') {
    return reject('METERING.UNSUPPORTED_SPECVERSION', 'specversion', 'only CloudEvents specversion "1.0" is accepted');
  }
  const fields: Record<string, string> = {};
  for (const key of ['id', 'source', 'type', 'subject', 'time']) {
    const v = requiredString(raw, key, key);
    if (typeof v !== 'string') return { rejected: v };
    fields[key] = v;
  }
  const { id, source, type, subject, time } = fields as Record<'id' | 'source' | 'type' | 'subject' | 'time', string>;
  if (!RFC3339_RE.test(time) || Number.isNaN(Date.parse(time))) {
    return reject('METERING.INVALID_TIME', 'time', 'time must be an RFC 3339 timestamp');
  }
  const at = new Date(Date.parse(time));
  if (raw.data === undefined || raw.data === null) return reject('METERING.MISSING_FIELD', 'data', 'data is required');
  if (!isObject(raw.data)) return reject('METERING.INVALID_FIELD', 'data', 'data must be a JSON object');
  const data = raw.data;
  const meterKey = requiredString(data, 'meter', 'data.meter');
  if (typeof meterKey !== 'string') return { rejected: meterKey };
  const meter = ctx.meters.get(meterKey);
  if (!meter) return reject('METERING.UNKNOWN_METER', 'data.meter', `no meter "${meterKey.slice(0, 64)}"`);
  const q = data.quantity;
  if (q === undefined || q === null || q === '') {
    return reject('METERING.MISSING_FIELD', 'data.quantity', 'data.quantity is required');
  }
  // The decimal rules of the whole exchange (plain notation, no exponent), with our own codes. Checked without
  // building a Decimal: the pattern already proves it is one, and the projection builds the one it keeps.
  const bad = quantityRejection(q);
  if (bad !== null) return { rejected: bad };
  let offerId: string | null = null;
  if (data.offerId !== undefined) {
    const o = requiredString(data, 'offerId', 'data.offerId');
    if (typeof o !== 'string') return { rejected: o };
    offerId = o;
  }
  const dimensions: Record<string, string> = {};
  if (data.dimensions !== undefined) {
    if (!isObject(data.dimensions) || Object.keys(data.dimensions).length > MAX_DIMENSIONS) {
      return reject(
        'METERING.INVALID_FIELD',
        'data.dimensions',
        `data.dimensions must be an object of at most ${MAX_DIMENSIONS} strings`,
      );
    }
    // In key order, so the recorded event is already in canonical form (the audit chain then hashes it without a
    // sorted copy).
    for (const [k, v] of Object.entries(data.dimensions).sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (typeof v !== 'string' || v.length > MAX_ID_LENGTH || k.length > 64) {
        return reject(
          'METERING.INVALID_FIELD',
          `data.dimensions.${k.slice(0, 64)}`,
          'a dimension is a string of at most 256 characters',
        );
      }
      // An assignment to __proto__ would set the prototype (and drop the dimension) instead of storing it.
      if (k === '__proto__') {
        return reject('METERING.INVALID_FIELD', 'data.dimensions.__proto__', 'a dimension may not be named __proto__');
      }
      dimensions[k] = v;
    }
  }
  if (meter.aggregation === 'UNIQUE_COUNT' && meter.valueField !== null && dimensions[meter.valueField] === undefined) {
    return reject(
      'METERING.MISSING_FIELD',
      `data.dimensions.${meter.valueField}`,
      `meter ${meter.key} counts distinct "${meter.valueField}"`,
    );
  }
  // Clock skew is tolerated a little; anything later is a clock or a client that is wrong.
  if (at.getTime() > ctx.now.getTime() + ctx.futureToleranceMs) {
    return reject('METERING.FUTURE_TIME', 'time', 'time is too far in the future');
  }
  // Beyond the window a period has closed and been statemented; such usage needs a correction, not an event.
  if (at.getTime() < ctx.now.getTime() - ctx.dedupeWindowMs) {
    return reject('METERING.TOO_OLD', 'time', 'time is older than the deduplication window');
  }
  return {
    ok: { source, id, type, subject, offerId, meter, quantity: q as string, time: at.toISOString(), dimensions },
  };
};

const DECIMAL_RE = /^(0|[1-9]\d{0,29})(\.\d{1,30})?$/;
const NEGATIVE_RE = /^-(0|[1-9]\d{0,29})(\.\d{1,30})?$/;

/**
 * Why `q` is not a non-negative plain decimal string, or null when it is one. Usage is never negative (a correction
 * is an amendment, not a reading). A well-formed quantity is tested first, as nearly every one is; a string that
 * matches it cannot start with "-", so the order of the codes is unchanged.
 */
export const quantityRejection = (q: unknown): Rejection | null => {
  if (typeof q !== 'string') {
    return {
      code: 'METERING.NOT_A_DECIMAL_STRING',
      field: 'data.quantity',
      message: 'data.quantity must be a decimal string',
    };
  }
  if (DECIMAL_RE.test(q)) return null;
  if (NEGATIVE_RE.test(q)) {
    return {
      code: 'METERING.NEGATIVE_QUANTITY',
      field: 'data.quantity',
      message: 'data.quantity must not be negative',
    };
  }
  return {
    code: 'METERING.MALFORMED_DECIMAL',
    field: 'data.quantity',
    message: 'data.quantity is not a plain decimal number',
  };
};

/** A non-negative plain decimal string as a Decimal; DomainError with the code of `quantityRejection` otherwise. */
export const parseQuantity = (q: unknown): Dec => {
  const bad = quantityRejection(q);
  if (bad !== null) throw DomainError.invalid(bad.code, bad.message, bad.field);
  return new Dec(q as string);
};
