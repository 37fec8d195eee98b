// Proves usage validation as a pure table, ordered by which check wins: shape, meter, quantity, then the time
// window (at most 5 minutes ahead; no older than the deduplication window, inclusive bounds); and that the quantity
// check validation uses without building a Decimal judges exactly as parseQuantity does.
import { starterMeters } from '../meter/starter-meters';
import { Dec, DomainError } from '@cx/shared-kernel';
import { parseQuantity, quantityRejection, validateUsage } from './usage.validation';

const meters = new Map(starterMeters.map((m) => [m.key, m]));
const now = new Date('2026-03-10T09:00:00Z');
const DAY = 86_400_000;
const ctx = { now, meters, futureToleranceMs: 5 * 60_000, dedupeWindowMs: 35 * DAY };
const event = (over: Record<string, unknown> = {}, data: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id: 'e-1',
  source: '//agent',
  type: 'com.cx.usage.v1',
  subject: 'alloc-1',
  time: '2026-03-10T08:30:00Z',
  data: { meter: 'accelerator_seconds', quantity: '60', ...data },
  ...over,
});
const iso = (ms: number): string => new Date(ms).toISOString();

describe('usage validation', () => {
  it('accepts at the edges of the time window', () => {
    for (const time of [iso(now.getTime() + 5 * 60_000), iso(now.getTime() - 35 * DAY)]) {
      expect(validateUsage(event({ time }), ctx)).toHaveProperty('ok');
    }
    expect(validateUsage(event({}, { quantity: '0.000001' }), ctx)).toHaveProperty('ok');
  });

  it('keeps dimensions in key order and refuses one named __proto__ (which an assignment would drop)', () => {
    const v = validateUsage(event({}, { dimensions: { zone: 'b', gpu: 'g-1', Az: 'x' } }), ctx);
    expect('ok' in v && Object.keys(v.ok.dimensions)).toEqual(['Az', 'gpu', 'zone']);
    const proto = validateUsage(event({}, { dimensions: JSON.parse('{"__proto__":"x","gpu":"g"}') as object }), ctx);
    expect(proto).toEqual({
      rejected: expect.objectContaining({ code: 'METERING.INVALID_FIELD', field: 'data.dimensions.__proto__' }),
    });
  });

  it('refuses with the first failing check', () => {
    const table: [string, unknown, string, string][] = [
      ['not an object', [1], 'METERING.INVALID_EVENT', ''],
      [
        'wrong specversion and no id',
        { ...event({ specversion: '0.3' }), id: '' },
        'METERING.UNSUPPORTED_SPECVERSION',
        'specversion',
      ],
      ['no id', event({ id: '' }), 'METERING.MISSING_FIELD', 'id'],
      ['id with NUL', event({ id: 'a\u0000b' }), 'METERING.INVALID_FIELD', 'id'],
      ['bad time and bad meter', event({ time: 'yesterday' }, { meter: 'nope' }), 'METERING.INVALID_TIME', 'time'],
      ['data an array', event({ data: [] }), 'METERING.INVALID_FIELD', 'data'],
      [
        'unknown meter and bad quantity',
        event({}, { meter: 'nope', quantity: 'x' }),
        'METERING.UNKNOWN_METER',
        'data.meter',
      ],
      ['quantity with exponent', event({}, { quantity: '1e3' }), 'METERING.MALFORMED_DECIMAL', 'data.quantity'],
      ['negative quantity', event({}, { quantity: '-0.5' }), 'METERING.NEGATIVE_QUANTITY', 'data.quantity'],
      [
        'dimension not a string',
        event({}, { dimensions: { gpu: 1 } }),
        'METERING.INVALID_FIELD',
        'data.dimensions.gpu',
      ],
      ['future by 5 min + 1 ms', event({ time: iso(now.getTime() + 5 * 60_000 + 1) }), 'METERING.FUTURE_TIME', 'time'],
      ['older than the window by 1 ms', event({ time: iso(now.getTime() - 35 * DAY - 1) }), 'METERING.TOO_OLD', 'time'],
    ];
    for (const [what, raw, code, field] of table) {
      expect({ what, r: validateUsage(raw, ctx) }).toMatchObject({ what, r: { rejected: { code, field } } });
    }
  });

  it('takes its window from the context, so a configured window applies', () => {
    const time = iso(now.getTime() - 40 * DAY);
    expect(validateUsage(event({ time }), ctx)).toMatchObject({ rejected: { code: 'METERING.TOO_OLD' } });
    expect(validateUsage(event({ time }), { ...ctx, dedupeWindowMs: 45 * DAY })).toHaveProperty('ok');
  });

  it('checks a quantity as parseQuantity does, and what it accepts is a Decimal of the same value', () => {
    // Ordered by which rule wins: type, then well-formed, then sign.
    const table: [unknown, string | null][] = [
      [60, 'METERING.NOT_A_DECIMAL_STRING'],
      [null, 'METERING.NOT_A_DECIMAL_STRING'],
      ['1e3', 'METERING.MALFORMED_DECIMAL'],
      ['-1e3', 'METERING.MALFORMED_DECIMAL'],
      ['01', 'METERING.MALFORMED_DECIMAL'],
      ['1.', 'METERING.MALFORMED_DECIMAL'],
      ['.5', 'METERING.MALFORMED_DECIMAL'],
      [' 1', 'METERING.MALFORMED_DECIMAL'],
      ['+1', 'METERING.MALFORMED_DECIMAL'],
      ['NaN', 'METERING.MALFORMED_DECIMAL'],
      ['1'.repeat(31), 'METERING.MALFORMED_DECIMAL'],
      [`0.${'1'.repeat(31)}`, 'METERING.MALFORMED_DECIMAL'],
      ['-0', 'METERING.NEGATIVE_QUANTITY'],
      ['-0.5', 'METERING.NEGATIVE_QUANTITY'],
      ['0', null],
      ['0.000001', null],
      ['3600', null],
      [`${'9'.repeat(30)}.${'9'.repeat(30)}`, null],
    ];
    for (const [q, code] of table) {
      const rejection = quantityRejection(q);
      let thrown: string | null = null;
      let parsed: Dec | null = null;
      try {
        parsed = parseQuantity(q);
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        thrown = e.code;
      }
      expect({ q, check: rejection?.code ?? null, parse: thrown }).toEqual({ q, check: code, parse: code });
      if (code === null) expect(parsed?.eq(new Dec(q as string)) && parsed.toFixed() === q).toBe(true);
      else expect(rejection?.field).toBe('data.quantity');
      // validateUsage answers with the same code for the same quantity (a null one is missing there).
      if (q === null) continue;
      const v = validateUsage(event({}, { quantity: q }), ctx);
      if (code === null) expect(v).toHaveProperty('ok');
      else expect(v).toMatchObject({ rejected: { code, field: 'data.quantity' } });
    }
  });
});
