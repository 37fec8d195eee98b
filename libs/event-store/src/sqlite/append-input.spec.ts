// Proves the SQLite adapter's pure input handling: events are serialised once with ids generated or normalised, and malformed read options are refused.
import fc from 'fast-check';
import { serialiseEvents, validateFilter, validateMaxCount } from './append-input';

describe('serialiseEvents', () => {
  test('generates a UUID where the id is absent and lower-cases a given one', () => {
    const [generated, given] = serialiseEvents([
      { type: 'A', data: {} },
      { id: 'F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6', type: 'B', data: {} },
    ]);
    expect(generated?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(given?.id).toBe('f81d4fae-7dec-11d0-a765-00a0c91e6bf6');
  });

  test('accepts a single event as well as an array', () => {
    expect(serialiseEvents({ type: 'A', data: 1 })).toHaveLength(1);
  });

  test('absent metadata is stored as null; present metadata as JSON', () => {
    const [a, b] = serialiseEvents([
      { type: 'A', data: { x: 1 } },
      { type: 'B', data: null, metadata: { correlationId: 'c' } },
    ]);
    expect(a).toMatchObject({ type: 'A', data: '{"x":1}', metadata: null });
    expect(b).toMatchObject({ type: 'B', data: 'null', metadata: '{"correlationId":"c"}' });
  });

  test('JSON data round-trips through the serialised text (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (data) => {
        const [e] = serialiseEvents({ type: 'T', data });
        expect(JSON.parse(e?.data ?? '')).toEqual(JSON.parse(JSON.stringify(data)));
      }),
    );
  });
});

describe('validateMaxCount', () => {
  test.each<[number | bigint | undefined, number]>([
    [undefined, Number.POSITIVE_INFINITY],
    [0, 0],
    [5, 5],
    [5n, 5],
    [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
    [2n ** 64n, Number.POSITIVE_INFINITY],
  ])('accepts %p', (input, expected) => expect(validateMaxCount(input)).toBe(expected));

  test.each<[unknown]>([[-1], [1.5], [Number.NaN], [-1n], ['10']])('refuses %p', (input) =>
    expect(() => validateMaxCount(input as number)).toThrow(TypeError),
  );
});

describe('validateFilter', () => {
  test('reads stream-name and event-type prefixes', () => {
    expect(validateFilter(undefined)).toBeNull();
    expect(validateFilter({ streamNamePrefixes: ['order-'] })).toEqual({ column: 'stream', prefixes: ['order-'] });
    expect(validateFilter({ eventTypePrefixes: ['Trade', 'Order'] })).toEqual({
      column: 'type',
      prefixes: ['Trade', 'Order'],
    });
  });

  test.each<[unknown]>([[{ streamNamePrefixes: [] }], [{ eventTypePrefixes: [1] }], [{ eventTypePrefixes: 'Order' }]])(
    'refuses %p',
    (f) => expect(() => validateFilter(f as never)).toThrow(TypeError),
  );
});
